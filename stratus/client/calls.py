"""The REST API as data: each function builds one `Call` (what to send, how to read the answer).

`Client` and `AsyncClient` only send Calls; everything else about the API lives here, once, with no I/O.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from stratus.client.errors import ActivationFailed, ApiError, error_for

T = TypeVar("T")
ACTIVATION_HEADER = "x-openwhisk-activation-id"
Json = Any  # user JSON: a function's result, a record, an action


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str  # below /api/v1
    parse: Callable[[httpx.Response], T]
    params: dict[str, str | int] = field(default_factory=dict)
    json: Json = None
    timeout_s: float | None = None  # None: the client's default


def _json(response: httpx.Response) -> Json:
    return response.json()


def _segment(name: str) -> str:
    return quote(name, safe="")


def _action_path(name: str) -> str:
    """An action's name, `pkg/name` for one in a package (or binding): the slash stays a path separator."""
    return "/".join(_segment(part) for part in name.split("/"))


def namespaces() -> Call[list[str]]:
    return Call("GET", "/namespaces", _json)


def list_actions(ns: str, *, limit: int = 30, skip: int = 0) -> Call[list[dict[str, Json]]]:
    return Call("GET", f"/namespaces/{ns}/actions", _json, {"limit": limit, "skip": skip})


def get_action(ns: str, name: str, *, code: bool = True) -> Call[dict[str, Json]]:
    return Call("GET", f"/namespaces/{ns}/actions/{_action_path(name)}", _json, {"code": str(code).lower()})


def put_action(ns: str, name: str, body: dict[str, Json], *, overwrite: bool = False) -> Call[dict[str, Json]]:
    params: dict[str, str | int] = {"overwrite": str(overwrite).lower()}
    return Call("PUT", f"/namespaces/{ns}/actions/{_action_path(name)}", _json, params, body)


def delete_action(ns: str, name: str) -> Call[dict[str, Json]]:
    return Call("DELETE", f"/namespaces/{ns}/actions/{_action_path(name)}", _json)


def invoke(
    ns: str,
    name: str,
    params: dict[str, Json] | None = None,
    *,
    blocking: bool = False,
    result: bool = False,
    timeout_ms: int | None = None,
) -> Call[Json]:
    """Non-blocking: `{"activationId"}`. Blocking: the record (or only the result), or `{"activationId"}`
    when the wait ran out. A failed function raises ActivationFailed carrying the activation id."""
    query: dict[str, str | int] = {"blocking": str(blocking).lower(), "result": str(result).lower()}
    if timeout_ms is not None:
        query["timeout"] = timeout_ms
    wait_s = (timeout_ms or 60_000) / 1000 + 30 if blocking else None
    return Call("POST", f"/namespaces/{ns}/actions/{_action_path(name)}", _json, query, params or {}, wait_s)


def list_activations(
    ns: str,
    *,
    name: str | None = None,
    limit: int = 30,
    skip: int = 0,
    since: int | None = None,
    upto: int | None = None,
    docs: bool = False,
) -> Call[list[dict[str, Json]]]:
    query: dict[str, str | int] = {"limit": limit, "skip": skip, "docs": str(docs).lower()}
    query |= {k: v for k, v in (("name", name), ("since", since), ("upto", upto)) if v is not None}
    return Call("GET", f"/namespaces/{ns}/activations", _json, query)


def get_activation(ns: str, activation_id: str) -> Call[dict[str, Json]]:
    return Call("GET", f"/namespaces/{ns}/activations/{_segment(activation_id)}", _json)


def activation_logs(ns: str, activation_id: str) -> Call[list[str]]:
    def parse(response: httpx.Response) -> list[str]:
        logs: list[str] = response.json()["logs"]
        return logs

    return Call("GET", f"/namespaces/{ns}/activations/{_segment(activation_id)}/logs", parse)


def activation_result(ns: str, activation_id: str) -> Call[dict[str, Json]]:
    """The record's `response`: status, success and result."""
    return Call("GET", f"/namespaces/{ns}/activations/{_segment(activation_id)}/result", _json)


def put_route(ns: str, route: dict[str, Json]) -> Call[dict[str, Json]]:
    """Create or replace the route of (basePath, relPath, verb); the answer carries its `url`."""
    return Call("PUT", f"/namespaces/{ns}/routes", _json, json=route)


def list_routes(ns: str, *, base_path: str | None = None) -> Call[list[dict[str, Json]]]:
    return Call("GET", f"/namespaces/{ns}/routes", _json, {"basePath": base_path} if base_path else {})


def delete_routes(
    ns: str, base_path: str, *, rel_path: str | None = None, verb: str | None = None
) -> Call[list[dict[str, Json]]]:
    query: dict[str, str | int] = {"basePath": base_path}
    query |= {k: v for k, v in (("relPath", rel_path), ("verb", verb)) if v is not None}
    return Call("DELETE", f"/namespaces/{ns}/routes", _json, query)


ENTITIES = ("packages", "triggers", "rules")


def put_entity(
    ns: str, collection: str, name: str, body: dict[str, Json], *, overwrite: bool = False
) -> Call[dict[str, Json]]:
    """A package (or binding), trigger or rule: `collection` is one of ENTITIES."""
    params: dict[str, str | int] = {"overwrite": str(overwrite).lower()}
    return Call("PUT", f"/namespaces/{ns}/{collection}/{_segment(name)}", _json, params, body)


def get_entity(ns: str, collection: str, name: str) -> Call[dict[str, Json]]:
    return Call("GET", f"/namespaces/{ns}/{collection}/{_segment(name)}", _json)


def list_entities(ns: str, collection: str, *, limit: int = 30, skip: int = 0) -> Call[list[dict[str, Json]]]:
    return Call("GET", f"/namespaces/{ns}/{collection}", _json, {"limit": limit, "skip": skip})


def delete_entity(ns: str, collection: str, name: str, *, force: bool = False) -> Call[dict[str, Json]]:
    """`force`: a package's actions go with it (otherwise a package with actions is refused, 409)."""
    params: dict[str, str | int] = {"force": "true"} if force else {}
    return Call("DELETE", f"/namespaces/{ns}/{collection}/{_segment(name)}", _json, params)


def fire_trigger(ns: str, name: str, payload: dict[str, Json] | None = None) -> Call[str | None]:
    """The trigger's activation id; None when no rule is active (nothing ran)."""

    def parse(response: httpx.Response) -> str | None:
        return None if response.status_code == 204 else str(response.json()["activationId"])

    return Call("POST", f"/namespaces/{ns}/triggers/{_segment(name)}", parse, json=payload or {})


def set_rule_status(ns: str, name: str, status: str) -> Call[None]:
    """status: "active" or "inactive"."""
    return Call("POST", f"/namespaces/{ns}/rules/{_segment(name)}", lambda _: None, json={"status": status})


def feed(feed_path: str, event: str, trigger: str, params: dict[str, Json] | None = None) -> Call[Json]:
    """A feed lifecycle event (CREATE, READ, UPDATE, DELETE) for `trigger` (/ns/name), e.g. the built-in
    `/whisk.system/alarms/alarm` with `{"cron": "*/5 * * * * *"}`."""
    namespace, _, action = feed_path.strip("/").partition("/")
    body = (params or {}) | {"lifecycleEvent": event, "triggerName": trigger}
    query: dict[str, str | int] = {"blocking": "true", "result": "true"}
    return Call("POST", f"/namespaces/{namespace}/actions/{_action_path(action)}", _json, query, body)


def check(response: httpx.Response) -> None:
    """Raise the typed error an error answer stands for; a blocking invoke's 502 is a failed activation."""
    if response.status_code < 400:
        return
    activation_id = response.headers.get(ACTIVATION_HEADER)
    try:
        body = response.json()
    except ValueError:
        body = None
    if activation_id and response.request.method == "POST" and response.status_code in (500, 502):
        raise _activation_failed(response.status_code, body, activation_id)
    error, code = _error_text(body, response)
    raise error_for(response.status_code, error, code, activation_id)


def _activation_failed(status: int, body: Json, activation_id: str) -> ApiError:
    record_like = isinstance(body, dict) and isinstance(body.get("response"), dict)
    result = body["response"].get("result") if record_like else body
    what = body["response"].get("status", "failed") if record_like else "failed"
    error = result.get("error") if isinstance(result, dict) else None
    text = error if isinstance(error, str) else (str(error) if error is not None else what)
    record = body if record_like else None
    return ActivationFailed(status, f"the function failed ({what}): {text}", "", activation_id, result, record)


def _error_text(body: Json, response: httpx.Response) -> tuple[str, str]:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"], str(body.get("code", ""))
    return (response.text.strip() or response.reason_phrase), ""
