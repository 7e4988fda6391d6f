"""The body of an action PUT from what a user gives (CLI flags or a manifest entry), in one place."""

from typing import Any

from stratus.client.calls import Json


def web_annotations(web: bool | None) -> dict[str, Json]:
    """The web-export annotation; `web: true` implies `final` (as wsk's `--web true`): anonymous callers cannot
    override the action's parameters."""
    if web is None:
        return {}
    return {"web-export": True, "final": True} if web else {"web-export": False}


def action_body(
    *,
    exec_: dict[str, Any] | None = None,
    params: dict[str, Json] | None = None,
    limits: dict[str, int] | None = None,
    annotations: dict[str, Json] | None = None,
    web: bool | None = None,
) -> dict[str, Any]:
    """Only what is given goes in: on update the platform keeps the rest (limits merge field by field)."""
    body: dict[str, Any] = {}
    if exec_ is not None:
        body["exec"] = exec_
    if params is not None:
        body["parameters"] = key_values(params)
    if limits:
        body["limits"] = limits
    notes = web_annotations(web) | (annotations or {})  # `-a final false` still says otherwise
    if notes:
        body["annotations"] = key_values(notes)
    return body


def key_values(values: dict[str, Json]) -> list[dict[str, Json]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def from_key_values(items: list[dict[str, Json]] | None) -> dict[str, Json]:
    return {item["key"]: item.get("value") for item in items or []}
