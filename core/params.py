"""How parameters reach a function: run parameters for /run, init parameters as /init's env."""

import json
from typing import Any

from core.errors import BadRequest
from core.models import Action


def run_params(action: Action, body: dict[str, Any], *, final: bool = False) -> dict[str, Any]:
    """Action parameters overridden by the request body; `final` (the annotation, or the caller's say: an anonymous
    web request) freezes parameters that have a value."""
    defaults = {p.key: p.value for p in action.parameters if not p.init}
    if final or _truthy(action.annotation("final")):
        frozen = sorted(k for k in body if defaults.get(k) is not None or _is_init(action, k))
        if frozen:
            raise BadRequest(f"Request defines parameters that are not allowed: {', '.join(frozen)}.")
    return defaults | body


def init_env(action: Action) -> dict[str, str]:
    """Init parameters, stringified as OpenWhisk does for container environment variables."""
    return {p.key: _stringify(p.value) for p in action.parameters if p.init}


def _is_init(action: Action, key: str) -> bool:
    return any(p.key == key and p.init for p in action.parameters)


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _stringify(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))
