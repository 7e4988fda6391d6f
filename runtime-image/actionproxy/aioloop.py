"""An asyncio event loop on a thread of its own, started the first time an action needs one.

The proxy serves requests on plain threads, so a cold start never pays for importing asyncio (more than
the rest of the proxy together, measured: README "Cold starts"). Actions that are coroutine functions or
ASGI apps run their coroutines here while the request's thread waits for the result. Each coroutine runs
in a copy of the caller's context, so the activation's log capture (`logcapture.current`) follows it.
"""

import concurrent.futures
import contextvars
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

_lock = threading.Lock()
_loop: "asyncio.AbstractEventLoop | None" = None
_running: "set[asyncio.Task[None]]" = set()  # referenced: the loop keeps only weak references to tasks


def loop() -> "asyncio.AbstractEventLoop":
    """The shared loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None:
            import asyncio  # only actions that need a loop pay for the import

            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="actions-loop", daemon=True).start()
        return _loop


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run `coroutine` on the shared loop in a copy of the caller's context; its result or exception."""
    done: concurrent.futures.Future[Any] = concurrent.futures.Future()

    async def guarded() -> None:
        try:
            done.set_result(await coroutine)
        except BaseException as exc:  # noqa: B036 (SystemExit too: it is the caller's to report, not the loop's)
            done.set_exception(exc)

    def start() -> None:
        task = target.create_task(guarded(), context=context)
        _running.add(task)
        task.add_done_callback(_running.discard)

    target, context = loop(), contextvars.copy_context()
    target.call_soon_threadsafe(start)
    return done.result()
