"""A bounded load test on loopback against a real `stance serve` process.

64 clients send 3000 requests to a server whose queue is kept small, so
that some are refused: every answer must be 200 or 503 with Retry-After, no
request may wait much past STANCE_REQUEST_TIMEOUT_S, and the server's
resident memory after the run must be within 10% of what it was after a
warm-up that served requests at the run's concurrency too (a warm-up of
mostly refused requests left the run 9-11% above it). Run with `pytest -s`
to see the counts.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import psutil
import pytest

from tests.conftest import ServerProcess

pytestmark = pytest.mark.load

CLIENTS = 64
REQUESTS = 3000
WARMUP_REQUESTS = 600
WARMUP_CLIENTS = 8  # within the queue (at most 3 units each): never shed
REQUEST_TIMEOUT_S = 5.0
LATENCY_MARGIN_S = 5.0  # loopback, a loaded CI machine, and a client that shares its cores
RUN_DEADLINE_S = 110.0
PARAGRAPHS = [
    "The city council voted on Tuesday to approve a budget that raises spending on schools and roads by four percent.",
    '"We have waited long enough for this," the mayor told reporters outside the town hall after the vote.',
    "It is a shameful budget that asks the poorest residents to pay for the council's years of waste.",
]


@pytest.fixture(scope="module")
def loaded_server(tiny_model, tmp_path_factory):
    server = ServerProcess(
        tiny_model,
        env={"STANCE_MAX_QUEUE_UNITS": "64", "STANCE_REQUEST_TIMEOUT_S": str(REQUEST_TIMEOUT_S)},
        log_path=tmp_path_factory.mktemp("load") / "server.log",
    ).start(timeout=120)
    yield server
    server.stop()


async def fire(url: str, total: int, deadline: float, clients: int = CLIENTS) -> tuple[Counter, list[float], list[str]]:
    """`total` requests from `clients` clients, each on its own connection; stops at the deadline."""
    statuses: Counter = Counter()
    latencies: list[float] = []
    problems: list[str] = []
    numbers = iter(range(total))

    async def client() -> None:
        # One connection per client: a shared pool would add its own queueing to the latencies.
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S + 60, limits=httpx.Limits(max_connections=1)) as http:
            for n in numbers:
                if time.monotonic() > deadline:
                    return
                body = {"paragraphs": [PARAGRAPHS[(n + i) % 3] + f" ({n})" for i in range(1 + n % 3)]}
                started = time.perf_counter()
                try:
                    response = await http.post("/v1/classify", json=body)
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                    problems.append(f"request {n}: {exc!r}")
                    continue
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] += 1
                if response.status_code == 200:
                    if len(response.json()["units"]) != len(body["paragraphs"]):
                        problems.append(f"request {n}: wrong number of units")
                elif response.status_code == 503:
                    retry_after = response.headers.get("retry-after", "")
                    if not retry_after.isdigit() or int(retry_after) < 1 or not response.json().get("message"):
                        problems.append(f"request {n}: 503 without a usable Retry-After or message: {response.headers}")
                else:
                    problems.append(f"request {n}: {response.status_code} {response.text[:200]}")

    await asyncio.gather(*(client() for _ in range(clients)))
    return statuses, latencies, problems


def test_load_sheds_with_503_and_keeps_memory_flat(loaded_server):
    process = psutil.Process(loaded_server.process.pid)
    # Warm-up in two rounds: few clients, so every request runs the model;
    # then as many clients as the run, so connections and the largest calls
    # are allocated too. Memory is then compared over the run alone.
    warm_statuses, _, warm_problems = asyncio.run(fire(loaded_server.url, WARMUP_REQUESTS, time.monotonic() + 60, WARMUP_CLIENTS))
    overload_statuses, _, overload_problems = asyncio.run(fire(loaded_server.url, WARMUP_REQUESTS, time.monotonic() + 60))
    warm_problems += overload_problems
    time.sleep(1)
    rss_before = process.memory_info().rss

    started = time.monotonic()
    statuses, latencies, problems = asyncio.run(fire(loaded_server.url, REQUESTS, started + RUN_DEADLINE_S))
    elapsed = time.monotonic() - started
    time.sleep(1)
    rss_after = process.memory_info().rss
    health = httpx.get(loaded_server.url + "/healthz", timeout=30)

    done = sum(statuses.values())
    latencies.sort()
    print(f"\nwarm-up: {dict(warm_statuses)} by {WARMUP_CLIENTS} clients, then {dict(overload_statuses)} by {CLIENTS}")
    print(f"load: {REQUESTS} requests sent by {CLIENTS} clients, {done} answered in {elapsed:.1f}s ({done / elapsed:.0f}/s)")
    print(f"  by status: {dict(sorted(statuses.items(), key=lambda kv: str(kv[0])))}")
    print(f"  latency p50 {latencies[len(latencies) // 2]:.3f}s, p99 {latencies[int(len(latencies) * 0.99)]:.3f}s, max {latencies[-1]:.3f}s")
    print(f"  server RSS {rss_before / 2**20:.1f} MiB after warm-up, {rss_after / 2**20:.1f} MiB after the run")

    assert not warm_problems and not problems, "\n".join((warm_problems + problems)[:20])
    assert warm_statuses == {200: WARMUP_REQUESTS}, "the warm-up stays within the queue, so it is never shed"
    assert done == REQUESTS, f"only {done} of {REQUESTS} requests finished within {RUN_DEADLINE_S}s"
    assert set(statuses) <= {200, 503}
    assert statuses[200] > 0 and statuses[503] > 0, "the small queue should both serve and shed"
    assert latencies[-1] <= REQUEST_TIMEOUT_S + LATENCY_MARGIN_S
    assert abs(rss_after - rss_before) <= 0.10 * rss_before
    assert health.status_code == 200
