import asyncio
import time

import numpy as np
import pytest

from service.batcher import MicroBatcher, QueueFull


def fake_model(calls):
    def classify(texts):
        calls.append(len(texts))
        time.sleep(0.01)
        return np.array([[len(t), 0, 0] for t in texts], dtype=np.float32)

    return classify


def test_concurrent_requests_share_model_calls():
    calls = []

    async def scenario():
        batcher = MicroBatcher(fake_model(calls), batch_units=32, max_wait_ms=20)
        batcher.start()
        results = await asyncio.gather(*(batcher.classify(["x" * i]) for i in range(1, 33)))
        await batcher.close()
        return results

    results = asyncio.run(scenario())
    assert [int(r[0][0]) for r in results] == list(range(1, 33))  # each caller gets its own rows
    assert len(calls) <= 3 and sum(calls) == 32


def test_full_queue_refuses_with_retry_after():
    async def scenario():
        batcher = MicroBatcher(fake_model([]), batch_units=4, max_wait_ms=50, max_queue_units=8)
        batcher.start()
        first = asyncio.create_task(batcher.classify(["a"] * 8))
        await asyncio.sleep(0)
        with pytest.raises(QueueFull) as info:
            await batcher.classify(["b"])
        assert info.value.retry_after >= 1
        await first
        await batcher.close()

    asyncio.run(scenario())


def test_model_error_reaches_every_waiting_caller_and_batcher_survives():
    state = {"fail": True}

    def flaky(texts):
        if state["fail"]:
            raise RuntimeError("boom")
        return np.zeros((len(texts), 3), dtype=np.float32)

    async def scenario():
        batcher = MicroBatcher(flaky, max_wait_ms=5)
        batcher.start()
        with pytest.raises(RuntimeError, match="boom"):
            await batcher.classify(["a"])
        state["fail"] = False
        assert (await batcher.classify(["a", "b"])).shape == (2, 3)
        await batcher.close()

    asyncio.run(scenario())


def test_close_finishes_queued_work():
    async def scenario():
        batcher = MicroBatcher(fake_model([]), max_wait_ms=1)
        batcher.start()
        pending = [asyncio.create_task(batcher.classify(["x"])) for _ in range(10)]
        await asyncio.sleep(0)
        await batcher.close()
        return [p.result().shape for p in pending]

    assert asyncio.run(scenario()) == [(1, 3)] * 10


def test_concurrency_runs_one_call_per_replica_at_once():
    running = {"now": 0, "most": 0}

    def slow(texts):
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        time.sleep(0.05)
        running["now"] -= 1
        return np.zeros((len(texts), 3), dtype=np.float32)

    async def scenario():
        batcher = MicroBatcher(slow, batch_units=2, max_wait_ms=1, concurrency=2)
        batcher.start()
        results = await asyncio.gather(*(batcher.classify(["x", "y"]) for _ in range(12)))
        await batcher.close()
        return results

    assert all(r.shape == (2, 3) for r in asyncio.run(scenario()))
    assert running["most"] == 2
