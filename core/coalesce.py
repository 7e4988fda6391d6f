"""Group commit: calls made while a batch is on its way go out together in the next batch.

A lone call goes out at once (no added latency when idle); under load, calls pile up while one batch is
in flight and share the next round trip. That turns N round trips per second into about one per
round-trip time, whatever N is, which is what lets a Redis or store client keep up with load.

Example: three activations end within the same 0.2 ms while the previous batch is in flight. When it
returns, the three `Ending`s go to Redis in one pipeline; each caller gets its own result or exception.

Caveat: a caller cancelled while waiting does not take its item back: it is sent anyway (a publish or an
ack must not be half-cancelled). Results come back in submission order.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Flush = Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]]


class Coalescer(Generic[T, R]):
    def __init__(self, flush: Flush[T, R], *, max_batch: int = 512) -> None:
        """`flush` sends a batch and answers one result (or exception) per item, in order; if it raises,
        every item of the batch gets that exception."""
        self._flush = flush
        self._max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain(), name="coalescer")
        return await future  # a caller cancelled here cancels only its future: the item goes out anyway

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
                await self._send(batch)
        finally:
            self._drainer = None

    async def _send(self, batch: list[tuple[T, "asyncio.Future[R]"]]) -> None:
        try:
            results = await self._flush([item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            results = [exc] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its caller was cancelled
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
