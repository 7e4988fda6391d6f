"""The one action a container runs: /init once, then /run per activation, as (status, JSON body) answers.

Outcomes, following OpenWhisk's Python action-loop runtime:
- /init: 200 {"ok": true}; 403 for a second /init or no code; 502 when the code cannot load.
- /run: 500 before a successful /init; 200 with a dict or list result; 200 {"error": <message>} for an
  uncaught exception (an application error; traceback on stderr); 502 for any other result, a result
  that is not JSON, or a function that exits the process (sys.exit).

Sync functions run on a thread pool, so one slow activation never stalls the others or the proxy.
"""

import asyncio
import contextvars
import inspect
import json
import logging
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from actionproxy import lambdas
from actionproxy.loader import InitError, LoadedAction, baked_code, load
from actionproxy.logcapture import ActivationLog, current

log = logging.getLogger(__name__)

MAX_THREADS = 128  # above the platform's largest per-container concurrency (100)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes  # JSON


def to_json(value: Any) -> bytes:
    """Compact UTF-8 JSON. Lone surrogates become \\udxxx escapes, which JSON allows, not an encoding error."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


def error(status: int, message: str) -> Answer:
    return Answer(status, to_json({"error": message}))


def check_result(result: Any) -> Answer:
    if not isinstance(result, dict | list):
        kind = "None" if result is None else type(result).__name__
        return error(502, f"The action did not return a dictionary or array (it returned {kind}).")
    try:
        return Answer(200, to_json(result))
    except (TypeError, ValueError, RecursionError) as exc:
        return error(502, f"The action's result cannot be serialized as JSON: {exc}")


def export_env(variables: Mapping[str, Any], activation: ActivationLog, prefix: str = "") -> None:
    """os.environ is process-wide: with several activations in flight, the latest /run's values win."""
    for key, value in variables.items():
        name = prefix + (key.upper() if prefix else key)
        try:
            os.environ[name] = value if isinstance(value, str) else json.dumps(value)
        except (ValueError, OSError) as exc:  # an empty name, '=' in the name, NUL anywhere
            activation.write("stderr", f"Ignored the environment variable {name!r}: {exc}.\n")


class ActionRunner:
    def __init__(self, max_threads: int = MAX_THREADS) -> None:
        self._action: LoadedAction | None = None
        self._init_received = False
        self._threads = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="action")

    def init(self, value: Mapping[str, Any], activation: ActivationLog) -> Answer:
        """Load the code. Runs on the event loop: module-level code may expect one, and nothing else runs yet."""
        if self._init_received:
            return error(403, "The action cannot be initialized twice: this container already received /init.")
        code = value.get("code")
        if not isinstance(code, str) or not code.strip():
            if baked_code() is None:
                return error(403, "There is no code to run: /init needs a non-empty 'code'.")
            code = None  # the image carries it
        self._init_received = True
        env = value.get("env")
        export_env(env if isinstance(env, dict) else {}, activation)
        entry_point, handler = value.get("main"), value.get("handler")
        token = current.set(activation)
        try:
            self._action = load(
                code,
                binary=bool(value.get("binary")),
                entry_point=entry_point if isinstance(entry_point, str) and entry_point else "main",
                handler=handler if isinstance(handler, str) and handler else None,
            )
        except InitError as exc:
            activation.write("stderr", exc.detail)
            return error(502, f"The action could not be initialized: {exc}")
        finally:
            current.reset(token)
        return Answer(200, b'{"ok":true}')

    async def run(self, body: Mapping[str, Any], activation: ActivationLog) -> Answer:
        action = self._action
        if action is None:
            return error(500, "No action has been initialized in this container: /init must succeed first.")
        export_env({key: item for key, item in body.items() if key != "value"}, activation, prefix="__OW_")
        token, body_token = current.set(activation), lambdas.run_body.set(body)
        try:
            result = await self._call(action, body.get("value", {}))
        except Exception as exc:
            activation.write("stderr", action.traceback(exc))
            return error(200, str(exc) or type(exc).__name__)
        except SystemExit as exc:  # would stop the server; in OpenWhisk it kills the action's process
            activation.write("stderr", action.traceback(exc))
            return error(502, f"The action exited (exit code {exc.code!r}) instead of returning a result.")
        finally:
            current.reset(token)
            lambdas.run_body.reset(body_token)
        return check_result(result)

    async def _call(self, action: LoadedAction, params: Any) -> Any:
        if action.is_async:
            result = await action.function(params)
        else:
            context = contextvars.copy_context()  # carries `current` into the worker thread
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._threads, context.run, action.function, params)
        if inspect.isawaitable(result):  # an async callable that iscoroutinefunction() did not recognise
            result = await result
        return result

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
