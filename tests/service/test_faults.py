"""Faults around a real `stance serve` process: SIGTERM under load, broken models.

A stopping server finishes what it accepted, refuses what comes after and
exits 0, even when its model is still busy with work nobody waits for. A server whose model cannot load stays up and says why on /readyz,
and every classify route answers 503: never a guess from a broken model.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerProcess

IN_FLIGHT = 12
PARAGRAPHS_EACH = 60


def units_classified(url: str) -> float:
    match = re.search(r"^stance_units_total (\S+)$", httpx.get(url + "/metrics", timeout=30).text, re.M)
    return float(match.group(1)) if match else 0.0


def test_sigterm_under_load_drains_then_exits_0(tiny_model, tmp_path):
    # A long request timeout, so that the drain (which uvicorn bounds by it) outlasts a slow machine.
    server = ServerProcess(tiny_model, env={"STANCE_REQUEST_TIMEOUT_S": "120"}, log_path=tmp_path / "server.log").start(timeout=120)
    try:
        results: dict[int, httpx.Response | Exception] = {}
        sent = threading.Barrier(IN_FLIGHT + 1, timeout=60)

        def client(n: int) -> None:
            body = {"paragraphs": [f"Paragraph {i} of request {n}: the council said on Tuesday it would cut the budget for roads." for i in range(PARAGRAPHS_EACH)]}

            def trace(event: str, info: dict) -> None:
                if event == "http11.send_request_body.complete":
                    sent.wait()

            with httpx.Client(base_url=server.url, timeout=180) as http:
                try:
                    results[n] = http.post("/v1/classify", json=body, extensions={"trace": trace})
                except Exception as exc:  # recorded, asserted below
                    results[n] = exc

        threads = [threading.Thread(target=client, args=(n,)) for n in range(IN_FLIGHT)]
        for thread in threads:
            thread.start()
        sent.wait()  # every request is on the wire
        deadline = time.monotonic() + 60
        while units_classified(server.url) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # the model is working on them
        time.sleep(0.3)
        pending_at_signal = IN_FLIGHT - len(results)
        server.process.send_signal(signal.SIGTERM)

        refused = None
        deadline = time.monotonic() + 30
        while refused is None and time.monotonic() < deadline:
            try:
                httpx.get(server.url + "/healthz", timeout=5)
                time.sleep(0.05)
            except httpx.ConnectError as exc:
                refused = exc
        for thread in threads:
            thread.join(timeout=180)
        exit_code = server.process.wait(timeout=180)
    finally:
        server.stop()

    statuses = [r.status_code if isinstance(r, httpx.Response) else repr(r) for r in results.values()]
    print(f"\nSIGTERM with {pending_at_signal} of {IN_FLIGHT} requests in flight: statuses {statuses}, exit code {exit_code}")
    assert pending_at_signal > 0, "the requests finished before the signal; the test proved nothing"
    assert statuses == [200] * IN_FLIGHT
    assert all(len(r.json()["units"]) == PARAGRAPHS_EACH for r in results.values())
    assert refused is not None, "new connections were still accepted after SIGTERM"
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/healthz", timeout=5)
    assert exit_code == 0
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log and "Shutting down" in log


def test_sigterm_while_the_model_works_on_abandoned_requests_still_exits(tiny_model, tmp_path):
    """Callers got their 503 (timeout) but their units are still in the model when SIGTERM comes."""
    server = ServerProcess(tiny_model, env={"STANCE_REQUEST_TIMEOUT_S": "1"}, log_path=tmp_path / "server.log").start(timeout=120)
    try:
        statuses: list[int] = []

        def client(n: int) -> None:
            body = {"paragraphs": [f"Paragraph {i} of {n}: the council said on Tuesday it would cut the road budget by a third." for i in range(400)]}
            statuses.append(httpx.post(server.url + "/v1/classify", json=body, timeout=120).status_code)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        server.process.send_signal(signal.SIGTERM)
        try:
            exit_code = server.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            exit_code = None
    finally:
        server.stop()

    print(f"\nabandoned work: statuses {statuses}, exit code {exit_code}")
    assert set(statuses) <= {200, 503} and 503 in statuses, "the model should still be busy when the callers give up"
    assert exit_code == 0, "the server hung on shutdown while its model finished abandoned work"


def corrupt_onnx(model: Path) -> str:
    (model / "onnx" / "model.onnx").write_bytes(b"garbage, not a protobuf")
    return "cannot load ONNX model"


def corrupt_tokenizer(model: Path) -> str:
    (model / "tokenizer.json").write_text("{ not json")
    return "cannot load tokenizer"


def corrupt_config(model: Path) -> str:
    (model / "config.json").write_text("garbage")
    return "config.json is not valid JSON"


def remove_model(model: Path) -> str:
    shutil.rmtree(model)
    return "has no config.json"


def empty_model(model: Path) -> str:
    shutil.rmtree(model)
    model.mkdir()
    return "has no config.json"


@pytest.mark.parametrize("break_model", [corrupt_onnx, corrupt_tokenizer, corrupt_config, remove_model, empty_model], ids=lambda f: f.__name__)
def test_broken_model_stays_up_not_ready(tiny_model, tmp_path, break_model):
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    reason = break_model(model)
    server = ServerProcess(model, log_path=tmp_path / "server.log").start(wait_ready=False, timeout=120)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            # Loading happens at start-up; /healthz answers once it is over, one way or the other.
            ready = http.get("/readyz")
            classify = http.post("/v1/classify", json={"text": "The minister resigned on Monday after a week of pressure."})
            batch = http.post("/v1/classify/batch", json={"documents": [{"id": "a", "paragraphs": ["The court ruled on Monday."]}]})
            info = http.get("/v1/model")
            health = http.get("/healthz")
        alive = server.process.poll() is None
    finally:
        exit_code = server.stop()

    print(f"\n{break_model.__name__}: readyz {ready.status_code}, classify {classify.status_code}: {ready.json()['reason'][:100]}")
    assert ready.status_code == 503 and ready.json()["ready"] is False
    assert reason in ready.json()["reason"]
    for response in (classify, batch, info):
        assert response.status_code == 503
        assert "model not loaded" in response.json()["message"] and reason in response.json()["message"]
        assert response.headers["retry-after"].isdigit()
        assert "units" not in response.json() and "results" not in response.json()
    assert health.status_code == 200 and alive
    assert exit_code == 0
