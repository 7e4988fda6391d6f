"""The one action a container runs: /init once, then /run per activation, as (status, JSON body) answers.

Outcomes, following OpenWhisk's Python action-loop runtime:
- /init: 200 {"ok": true}; 403 for a second /init or no code; 502 when the code cannot load.
- /run: 500 before a successful /init; 200 with a dict or list result; 200 {"error": <message>} for an
  uncaught exception (an application error; traceback on stderr); 502 for any other result, a result
  that is not JSON, or a function that exits the process (sys.exit).

Each request has a thread of its own (actionproxy.server), so a sync function runs right there and one
slow activation never stalls the others; coroutines (async def, ASGI apps) run on actionproxy.aioloop.
"""

import json
import os
from collections.abc import Awaitable, Mapping
from typing import Any, NamedTuple

from actionproxy.loader import InitError, LoadedAction, baked_code, load
from actionproxy.logcapture import ActivationLog, current, current_run


class Answer(NamedTuple):
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


def export_env(variables: Mapping[str, Any], activation: ActivationLog) -> None:
    """/init's `env`, once per container: into os.environ and the process's C environment (child processes
    inherit it)."""
    for name, value in variables.items():
        try:
            os.environ[name] = value if isinstance(value, str) else json.dumps(value)
        except (ValueError, OSError) as exc:  # an empty name, '=' in the name, NUL anywhere
            activation.write("stderr", f"Ignored the environment variable {name!r}: {exc}.\n")


def export_run_env(body: Mapping[str, Any], activation: ActivationLog) -> None:
    """A /run's context (activation id, deadline, ...) as `__OW_*` variables, into os.environ's mapping only.

    Not into the C environment: glibc's setenv() keeps every distinct value it was ever given (a getenv()
    caller may still hold the old one), so a new activation id, transaction id and deadline per /run
    leaked 230-265 bytes per activation, and a warm 128 MB container thrashed at its limit after some
    500,000 activations (tests/unit/test_actionproxy.py measures the growth). Python code reads them as
    before (os.environ, os.getenv); a child process gets them when started with `env=os.environ`.
    os.environ is process-wide: with several activations in flight, the latest /run's values win."""
    environ: Any = os.environ  # os._Environ: its mapping, without the putenv() of its __setitem__
    for key, value in body.items():
        if key == "value":
            continue
        name = "__OW_" + key.upper()
        text = value if isinstance(value, str) else json.dumps(value)
        if "=" in name or "\0" in name or "\0" in text:
            activation.write("stderr", f"Ignored the environment variable {name!r}: '=' or NUL in it.\n")
            continue
        environ._data[environ.encodekey(name)] = environ.encodevalue(text)


class ActionRunner:
    def __init__(self) -> None:
        self._action: LoadedAction | None = None
        self._init_received = False

    def init(self, value: Mapping[str, Any], activation: ActivationLog) -> Answer:
        """Load the code, on the request's thread (nothing else runs yet)."""
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

    def run(self, body: Mapping[str, Any], activation: ActivationLog) -> Answer:
        action = self._action
        if action is None:
            return error(500, "No action has been initialized in this container: /init must succeed first.")
        export_run_env(body, activation)
        token, body_token = current.set(activation), current_run.set(body)
        try:
            result = self._call(action, body.get("value", {}))
        except Exception as exc:
            activation.write("stderr", action.traceback(exc))
            return error(200, str(exc) or type(exc).__name__)
        except SystemExit as exc:  # would stop the server; in OpenWhisk it kills the action's process
            activation.write("stderr", action.traceback(exc))
            return error(502, f"The action exited (exit code {exc.code!r}) instead of returning a result.")
        finally:
            current.reset(token)
            current_run.reset(body_token)
        return check_result(result)

    @staticmethod
    def _call(action: LoadedAction, params: Any) -> Any:
        result = action.function(params)
        if isinstance(result, Awaitable):  # from a coroutine function or an ASGI app
            from actionproxy import aioloop  # with asyncio: only actions that need a loop load it

            result = aioloop.run(_awaited(result))
        return result


async def _awaited(result: Any) -> Any:
    return await result
