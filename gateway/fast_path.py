"""The invoke route without FastAPI's routing, middleware and dependency machinery: the hot path.

`POST /api/v1/namespaces/{ns}/actions/{name}` is most of a FaaS gateway's traffic, and FastAPI's
per-request machinery (routing over every route, dependency solving, four middleware layers) cost about
twice what the invocation itself costs here (py-spy, tests/bench/bench_throughput.py). This ASGI layer
answers the common case itself by calling the same functions the FastAPI route calls
(`gateway.invoke.check_timeout`, `gateway.body.parse_object`, `gateway.invoke.invoke_named`), with the
same errors (`gateway.errors`), and hands everything else to the app unchanged:
- another method or path;
- an `Origin` header (CORS is the app's business);
- a query with anything but `blocking`, `result` (`true`/`false`) and `timeout` (digits) once each.
So the route in `gateway/routes/actions.py` stays the documented one (OpenAPI) and the fallback, and
both answer alike: tests/e2e/test_invoke.py runs through this path, tests/unit/test_fast_path.py pins
which requests it takes.
"""

import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from core import limits as L
from core.errors import StratusError
from gateway.body import check_raw_head, parse_object
from gateway.deps import Backends, check_own
from gateway.errors import error_json, given_transaction_id, stratus_error_response
from gateway.invoke import check_timeout, invoke_named
from gateway.metrics import IN_FLIGHT, INVOKE

log = logging.getLogger(__name__)

INVOKE_PATH = re.compile(r"/api/v1/namespaces/([^/]+)/actions/([^/]+)")
FLAGS = {"true": True, "false": False}


class Query:
    """blocking / result / timeout, when the query holds nothing else and only plain values."""

    def __init__(self, blocking: bool, result: bool, timeout_ms: int | None) -> None:
        self.blocking, self.result, self.timeout_ms = blocking, result, timeout_ms


def simple_query(raw: bytes) -> Query | None:
    """The query if this path can take it exactly as FastAPI would; None to leave it to the app."""
    seen: dict[str, str] = {}
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key in seen or key not in ("blocking", "result", "timeout"):
            return None
        seen[key] = value
    flags = [seen.get(flag, "false") for flag in ("blocking", "result")]
    timeout = seen.get("timeout")
    if any(f not in FLAGS for f in flags) or (timeout is not None and not (timeout.isdigit() and len(timeout) < 10)):
        return None
    return Query(FLAGS[flags[0]], FLAGS[flags[1]], int(timeout) if timeout is not None else None)


def takes(scope: Scope) -> tuple[str, str, Query] | None:
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    match = INVOKE_PATH.fullmatch(scope["path"])
    if match is None or any(name == b"origin" for name, _ in scope["headers"]):
        return None
    query = simple_query(scope["query_string"])
    return (match.group(1), match.group(2), query) if query else None


class InvokeFastPath:
    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self._state = state  # the app's state: `backends` is set by its lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        taken = takes(scope)
        if taken is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        IN_FLIGHT.inc()
        ns, name, query = taken
        headers = dict(scope["headers"])
        tid = given_transaction_id(headers)
        try:
            response: Any = await self._invoke(self._state.backends, headers, receive, ns, name, query)
        except StratusError as exc:
            response = stratus_error_response(exc, tid)
        except Exception:
            log.exception("request %s failed unexpectedly", tid)
            response = error_json(500, "The server encountered an internal error.", tid)
        response.headers["x-request-id"] = tid
        try:
            await response(scope, receive, send)
        finally:
            IN_FLIGHT.dec()
            INVOKE.count(response.status_code, time.perf_counter() - started)

    @staticmethod
    async def _invoke(
        b: Backends, headers: dict[bytes, bytes], receive: Receive, ns: str, name: str, query: Query
    ) -> Any:
        authorization = headers.get(b"authorization")
        who = check_own(ns, await b.auth.authenticate(authorization.decode("latin-1") if authorization else None))
        check_timeout(query.timeout_ms)
        check_raw_head(headers, L.PAYLOAD_MAX_BYTES, "request")
        body = parse_object(await read_body(receive, L.PAYLOAD_MAX_BYTES), max_bytes=L.PAYLOAD_MAX_BYTES)
        return await invoke_named(
            b, who, name, body, blocking=query.blocking, result_only=query.result, timeout_ms=query.timeout_ms
        )


async def read_body(receive: Receive, max_bytes: int) -> bytes:
    """The request body, read no further than one chunk past `max_bytes` (parse_object then says 413)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False) or size > max_bytes:
            break
    return b"".join(chunks)
