"""HTTP to the action proxy in a container: /init (retried while the server starts) and /run.

The transport is invoker.http1 (httptools on an asyncio Protocol): this hop is on every warm invocation,
and there it costs half of aiohttp's CPU (tests/bench/bench_container_hop.py), which itself was 0.29 ms
against httpx's 0.90 ms per call (reference/performance.md). Each container gets its own connection
pool, closed when the container goes, so a keep-alive connection never outlives its container and meets
a new container that was given the same IP address.
"""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from core import limits as L
from invoker.http1 import Dropped, Http1Pool, TooLarge, Unreachable

log = logging.getLogger(__name__)

ENVELOPE = b"X-Stratus-Envelope: 1\r\nContent-Type: application/json\r\n"
CONNECT_RETRY_S = 0.005  # a refused connect costs ~0.1 ms: retry often, a cold start waits on it
ALIVE_CHECK_S = 0.5  # while retrying, ask the engine this often whether the container still runs
SMALL_ANSWER_BYTES = 1 * L.MB + 64 * 1024  # /init and /ping answers


# http1's Unreachable/Dropped/TooLarge, said in the runner's terms: the transport's errors stop at this module.
class ProxyTimeout(Exception):
    """No answer within the time limit."""


class ProxyGone(Exception):
    """The connection failed or dropped: the process in the container died or never listened."""


class ProxyUnreachable(ProxyGone):
    """No connection could be made, so nothing was sent (a starting server does not listen yet)."""


class ProxyTooLarge(Exception):
    """The answer was larger than the limit; the rest was not read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes")
        self.limit = limit


Alive = Callable[[], Awaitable[bool]]  # whether the container still runs
T = TypeVar("T")


@dataclass(frozen=True)
class ProxyAnswer:
    status: int
    body: Any  # the result (or {"error": ...}) when the proxy answered JSON, else None
    raw: str  # the body as text, for error messages and the result size
    logs: list[str] = field(default_factory=list)


class ProxyClient:
    def __init__(self) -> None:
        self._pools: dict[str, Http1Pool] = {}

    def _pool(self, address: str) -> Http1Pool:
        pool = self._pools.get(address)
        if pool is None:
            pool = self._pools[address] = Http1Pool(address)
        return pool

    async def init(self, address: str, value: dict[str, Any], timeout_s: float, alive: Alive) -> ProxyAnswer:
        """POST /init once the server listens: only a connection that could not be made is retried (a sent
        /init never is: a second one would be refused), and only while `alive()` says the container runs."""
        return await self._when_listening(
            lambda remaining: self._post(address, "/init", {"value": value}, remaining, SMALL_ANSWER_BYTES),
            timeout_s,
            alive,
        )

    async def wait_ready(self, address: str, timeout_s: float, alive: Alive) -> None:
        """Until GET /ping answers (a stem cell is only worth having once its server listens)."""

        async def ping(remaining: float) -> None:
            status, _ = await self._request(address, "GET", "/ping", b"", b"", remaining, SMALL_ANSWER_BYTES)
            if status != 200:
                raise ProxyUnreachable(f"/ping answered {status}")

        await self._when_listening(ping, timeout_s, alive)

    @staticmethod
    async def _when_listening(attempt: Callable[[float], Awaitable[T]], timeout_s: float, alive: Alive) -> T:
        deadline = time.monotonic() + timeout_s
        next_check = time.monotonic() + ALIVE_CHECK_S
        while True:
            try:
                return await _while_alive(attempt(deadline - time.monotonic()), alive)
            except ProxyUnreachable:
                now = time.monotonic()
                if now + CONNECT_RETRY_S >= deadline:  # the limit is the limit: not a few ms early
                    await asyncio.sleep(max(0.0, deadline - now))
                    raise ProxyTimeout() from None
                if now >= next_check:  # a container that died while starting never listens: stop waiting
                    if not await alive():
                        raise ProxyGone("the container exited before its server listened") from None
                    next_check = now + ALIVE_CHECK_S
                await asyncio.sleep(CONNECT_RETRY_S)

    async def run(self, address: str, payload: dict[str, Any], timeout_s: float, max_bytes: int) -> ProxyAnswer:
        """POST /run; raises ProxyTooLarge past `max_bytes` (result and logs together)."""
        return await self._post(address, "/run", payload, timeout_s, max_bytes)

    async def forget(self, address: str) -> None:
        """The container at `address` is gone: close its connections."""
        pool = self._pools.pop(address, None)
        if pool is not None:
            pool.close()

    async def _post(
        self, address: str, path: str, payload: dict[str, Any], timeout_s: float, max_bytes: int
    ) -> ProxyAnswer:
        body = json.dumps(payload, separators=(",", ":")).encode()
        status, raw = await self._request(address, "POST", path, body, ENVELOPE, timeout_s, max_bytes)
        return parse(status, raw)

    async def _request(
        self, address: str, method: str, path: str, body: bytes, headers: bytes, timeout_s: float, max_bytes: int
    ) -> tuple[int, bytes]:
        if timeout_s <= 0:
            raise ProxyTimeout()
        try:
            async with asyncio.timeout(timeout_s):
                return await self._pool(address).request(method, path, body, headers, max_bytes)
        except TimeoutError as exc:
            raise ProxyTimeout() from exc
        except Unreachable as exc:  # before anything was sent
            raise ProxyUnreachable(str(exc)) from exc
        except Dropped as exc:
            raise ProxyGone(str(exc)) from exc
        except TooLarge as exc:
            raise ProxyTooLarge(exc.limit) from exc

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()


async def _while_alive(work: Awaitable[T], alive: Alive) -> T:
    """`work`, given up (ProxyGone) once the container no longer runs. The proxy listens before it can
    answer (actionproxy.__main__), so a request can be sent to a container that is then killed, and its
    connection is not always reset: its network may go with it."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=ALIVE_CHECK_S)
            if done:
                return task.result()
            if not await alive():
                raise ProxyGone("the container exited before it answered")
    finally:
        task.cancel()  # nothing when done; else the request is dropped with its connection


def parse(status: int, raw: bytes | str) -> ProxyAnswer:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        envelope = json.loads(text)
    except ValueError:
        return ProxyAnswer(status, None, text)
    if isinstance(envelope, dict) and set(envelope) == {"result", "logs"} and isinstance(envelope["logs"], list):
        result = envelope["result"]
        return ProxyAnswer(status, result, json.dumps(result, separators=(",", ":")), envelope["logs"])
    return ProxyAnswer(status, envelope, text)
