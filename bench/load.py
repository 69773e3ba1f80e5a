"""A small closed-loop HTTP load generator that stops by itself.

`clients` connections each send a request, wait for the answer, and send the
next, until `total` requests have been sent (or `deadline_s` passes). It
speaks HTTP/1.1 keep-alive over raw asyncio streams with the requests encoded
in advance, so the client costs as little CPU as possible: on a 2-core
machine it shares the cores with the server under test.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    clients: int
    sent: int = 0
    ok: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    timed_out: bool = False

    def percentile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]

    def summary(self, units_per_request: float = 1.0) -> dict:
        rate = self.ok / self.seconds if self.seconds else 0.0
        return {
            "clients": self.clients,
            "requests": self.sent,
            "ok": self.ok,
            "errors": self.errors,
            "seconds": self.seconds,
            "timed_out": self.timed_out,
            "requests_per_s": rate,
            "paragraphs_per_s": rate * units_per_request,
            "p50_ms": _ms(self.percentile(50)),
            "p95_ms": _ms(self.percentile(95)),
            "p99_ms": _ms(self.percentile(99)),
        }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else 1000 * seconds


def encode_posts(host: str, port: int, path: str, bodies: list[dict]) -> list[bytes]:
    out = []
    for body in bodies:
        payload = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: keep-alive\r\n\r\n"
        ).encode()
        out.append(head + payload)
    return out


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            raise RuntimeError("chunked responses are not supported by this load generator")
    await reader.readexactly(length)
    return status


async def run_load(host: str, port: int, requests: list[bytes], clients: int, total: int, deadline_s: float = 300.0) -> LoadResult:
    """Send `total` requests (cycling through `requests`) from `clients` concurrent connections."""
    result = LoadResult(clients)
    counter = iter(range(total))
    started = time.perf_counter()
    stop_at = started + deadline_s

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in counter:
                if time.perf_counter() > stop_at:
                    result.timed_out = True
                    return
                result.sent += 1
                sent_at = time.perf_counter()
                writer.write(requests[i % len(requests)])
                status = await asyncio.wait_for(_read_response(reader), timeout=max(stop_at - sent_at, 1))
                if status == 200:
                    result.ok += 1
                    result.latencies.append(time.perf_counter() - sent_at)
                else:
                    result.errors[status] = result.errors.get(status, 0) + 1
        except asyncio.TimeoutError:
            result.timed_out = True
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return result


def load(host: str, port: int, requests: list[bytes], clients: int, total: int, deadline_s: float = 300.0) -> LoadResult:
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    return runner(run_load(host, port, requests, clients, total, deadline_s))
