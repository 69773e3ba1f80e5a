"""Gather concurrent requests into shared model calls (micro-batching).

A free replica waits at most `max_wait_ms` for company (0 by default: on
CPU a call of one paragraph costs about what a batch does per paragraph,
so waiting only idles a core; requests that arrive while every replica is
busy gather into the next call anyway). The queue is bounded in units,
and a request that would overflow it is refused at once so that the
caller can retry (HTTP 503 with Retry-After). Up to `concurrency` model
calls run at once, one per engine replica, so the next batch starts while
one runs; requests that arrive meanwhile gather into the batch after.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np


class QueueFull(RuntimeError):
    def __init__(self, queued: int, limit: int, retry_after: int):
        super().__init__(f"{queued} units are waiting, the limit STANCE_MAX_QUEUE_UNITS is {limit}; retry later")
        self.retry_after = retry_after


class BatcherClosed(RuntimeError):
    """The batcher is shutting down and takes no new work."""


@dataclass
class _Job:
    texts: list[str]
    future: asyncio.Future
    enqueued: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    def __init__(
        self,
        classify: Callable[[list[str]], np.ndarray],
        batch_units: int = 32,
        max_wait_ms: float = 0.0,
        max_queue_units: int = 4096,
        on_batch: Callable[[int], None] | None = None,
        concurrency: int = 1,
    ):
        self._classify = classify
        self.batch_units = batch_units
        self.call_units = 4 * batch_units
        self.max_wait = max_wait_ms / 1000
        self.max_queue_units = max_queue_units
        self._on_batch = on_batch or (lambda n: None)
        self._jobs: deque[_Job] = deque()
        self.queued_units = 0
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="stance-model")
        self._slots = asyncio.Semaphore(concurrency)
        self._calls: set[asyncio.Task] = set()
        self._task: asyncio.Task | None = None
        self._closed = False
        self._seconds_per_unit = 0.03

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Stop taking work, finish what is queued, then stop."""
        self._closed = True
        self._wake.set()
        if self._task:
            await self._task
        if self._calls:
            await asyncio.gather(*self._calls)
        self._executor.shutdown(wait=True)

    def retry_after(self) -> int:
        return max(1, int(self.queued_units * self._seconds_per_unit) + 1)

    async def classify(self, texts: list[str]) -> np.ndarray:
        if self._closed:
            raise BatcherClosed("the service is shutting down")
        if not texts:
            return np.zeros((0, 3), dtype=np.float32)
        if self.queued_units + len(texts) > self.max_queue_units and self.queued_units > 0:
            raise QueueFull(self.queued_units, self.max_queue_units, self.retry_after())
        job = _Job(texts, asyncio.get_running_loop().create_future())
        self._jobs.append(job)
        self.queued_units += len(texts)
        self._wake.set()
        return await job.future

    async def _run(self) -> None:
        while True:
            # Checked before waiting: close() may have set the event while a
            # batch ran, and nothing would set it again.
            if self._closed and not self._jobs:
                return
            await self._wake.wait()
            self._wake.clear()
            if not self._jobs:
                continue
            # A free replica first: while every one is busy, requests keep
            # gathering into the next, larger batch.
            await self._slots.acquire()
            # Give concurrent requests a moment to join a batch that is not yet full.
            deadline = self._jobs[0].enqueued + self.max_wait
            while sum(len(job.texts) for job in self._jobs) < self.batch_units and not self._closed:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(remaining, 0.001))
            batch: list[_Job] = []
            units = 0
            # Take whole requests up to a few batches' worth: the engine sorts
            # them by length, so a larger call pads less.
            while self._jobs and (not batch or units + len(self._jobs[0].texts) <= self.call_units):
                job = self._jobs.popleft()
                batch.append(job)
                units += len(job.texts)
            call = asyncio.get_running_loop().create_task(self._call(batch, units))
            self._calls.add(call)
            call.add_done_callback(self._calls.discard)
            if self._jobs:
                self._wake.set()

    async def _call(self, batch: list[_Job], units: int) -> None:
        live = [job for job in batch if not job.future.done()]
        texts = [t for job in live for t in job.texts]
        started = time.perf_counter()
        try:
            probs = await asyncio.get_running_loop().run_in_executor(self._executor, self._classify, texts) if texts else None
        except Exception as exc:  # the model failed: every waiting caller gets the error
            for job in live:
                if not job.future.done():
                    job.future.set_exception(exc)
        else:
            if texts:
                self._seconds_per_unit = 0.8 * self._seconds_per_unit + 0.2 * (time.perf_counter() - started) / len(texts)
                self._on_batch(len(texts))
            offset = 0
            for job in live:
                if not job.future.done():
                    job.future.set_result(probs[offset : offset + len(job.texts)])
                offset += len(job.texts)
        finally:
            self.queued_units -= units
            self._slots.release()
            if self._jobs:
                self._wake.set()
