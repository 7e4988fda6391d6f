"""The Starlette app: POST /init once, POST /run per activation, GET /ping.

Stratus extension: with the request header `X-Stratus-Envelope: 1`, the body of /init and /run is
`{"result": <the usual body>, "logs": [<this activation's lines>]}` (same status code) and nothing is
written to the container's streams. Without it, answers are exactly OpenWhisk's and each
activation's lines go to the container's stdout/stderr, followed by the log sentinels.
"""

import asyncio
import contextvars
import functools
import inspect
import json
import os
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from actionproxy.loader import InitError, load
from actionproxy.logcapture import ActivationLog, StreamRouter, current, emit_with_sentinels

ENVELOPE_HEADER = "x-stratus-envelope"
MAX_THREADS = 128
Answer = tuple[int, Any]


class Proxy:
    """The one action this container runs; initialised once."""

    def __init__(self) -> None:
        self.function: Callable[..., Any] | None = None
        self.is_async = False
        self.init_started = False
        self.streams = StreamRouter()
        # Sync functions run here, so the proxy stays responsive; sized for intra-container concurrency.
        self.threads = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="action")

    def init(self, value: dict[str, Any], log: ActivationLog) -> Answer:
        if self.init_started:
            return 403, {"error": "This action is already initialized; it cannot be initialized twice."}
        code = value.get("code")
        if not isinstance(code, str) or not code.strip():
            return 403, {"error": "There is no code to run: /init needs a non-empty 'code'."}
        self.init_started = True
        for key, item in (value.get("env") or {}).items():
            os.environ[str(key)] = item if isinstance(item, str) else json.dumps(item)
        token = current.set(log)
        try:
            function = load(code, binary=bool(value.get("binary")), entry_point=value.get("main") or "main")
        except InitError as exc:
            log.write("stderr", f"{exc}\n")
            return 502, {"error": f"The action failed to initialize: {exc}"}
        except BaseException as exc:  # user code ran at import time: anything can happen
            log.write("stderr", traceback.format_exc())
            return 502, {"error": f"The action failed to initialize: {type(exc).__name__}: {exc}"}
        finally:
            current.reset(token)
        self.function = function
        self.is_async = inspect.iscoroutinefunction(function)
        return 200, {"ok": True}

    async def run(self, body: dict[str, Any], log: ActivationLog) -> Answer:
        if self.function is None:
            return 500, {"error": "No action is initialized: call /init first."}
        params = body.get("value", {})
        for key, item in body.items():
            if key != "value":
                os.environ[f"__OW_{key.upper()}"] = item if isinstance(item, str) else json.dumps(item)
        token = current.set(log)
        try:
            if self.is_async:
                result = await self.function(params)
            else:
                context = contextvars.copy_context()  # carries the current activation's log into the thread
                call = functools.partial(context.run, self.function, params)
                result = await asyncio.get_running_loop().run_in_executor(self.threads, call)
        except Exception as exc:
            log.write("stderr", traceback.format_exc())
            return 200, {"error": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__}
        finally:
            current.reset(token)
        return _checked(result)


def _checked(result: Any) -> Answer:
    if not isinstance(result, dict | list):
        kind = type(result).__name__
        return 502, {"error": f"The action did not return a dictionary or array (it returned {kind})."}
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return 502, {"error": f"The action's result cannot be serialized as JSON: {exc}"}
    return 200, result


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _answer(proxy: Proxy, request: Request, answer: Answer, log: ActivationLog) -> Response:
    status, body = answer
    lines = log.close()
    if request.headers.get(ENVELOPE_HEADER) == "1":
        return JSONResponse({"result": body, "logs": lines}, status_code=status)
    emit_with_sentinels(lines, *proxy.streams.ensure())
    return JSONResponse(body, status_code=status)


def create_app() -> Starlette:
    """A fresh proxy. Routes sys.stdout/sys.stderr per activation until `app.state.close()`."""
    proxy = Proxy()

    async def init(request: Request) -> Response:
        proxy.streams.ensure()
        body = await _json_body(request)
        log = ActivationLog()
        if body is None or not isinstance(body.get("value"), dict):
            return _answer(proxy, request, (400, {"error": '/init expects {"value": {...}}.'}), log)
        return _answer(proxy, request, proxy.init(body["value"], log), log)

    async def run(request: Request) -> Response:
        proxy.streams.ensure()
        body = await _json_body(request)
        log = ActivationLog()
        if body is None:
            return _answer(proxy, request, (400, {"error": "/run expects a JSON object."}), log)
        return _answer(proxy, request, await proxy.run(body, log), log)

    async def ping(request: Request) -> Response:
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[
            Route("/init", init, methods=["POST"]),
            Route("/run", run, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
        ]
    )
    app.state.close = proxy.streams.close
    return app
