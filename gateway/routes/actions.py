"""Actions: create or update (PUT), get, list, delete, invoke (POST)."""

import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from gateway import invoke as invoking
from gateway.body import json_object
from gateway.deps import Backends, BackendsDep, OwnNamespace
from gateway.openapi import EntityName, extra, json_body, limits_schema, links, model_schema, nullable
from gateway.paging import Limit, Skip, list_window
from stratus import kinds
from stratus import limits as L
from stratus.action_updates import ActionPut, ExecPut, apply_put
from stratus.errors import BadRequest, Conflict, NotFound, StoreUnavailable
from stratus.messages import ACTION_CHANGES, ActionChanged
from stratus.models import Action
from stratus.names import check_name
from stratus.stores.entities import EntityStore

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/namespaces/{ns}/actions", tags=["actions"])
BlockingWait = Annotated[  # the range is checked by invoking.check_timeout (its message, on both paths)
    int | None,
    Query(
        description=f"blocking wait in ms, 1..{L.BLOCKING_WAIT_MAX_MS}",
        json_schema_extra={"minimum": 1, "maximum": L.BLOCKING_WAIT_MAX_MS},
    ),
]
PUT_MAX_BYTES = 50 * L.MB
NAME = {"name": "$request.path.name"}
ACTION_LINKS = {
    "GetAction": ("getAction", NAME),
    "InvokeAction": ("invokeAction", NAME),
    "DeleteAction": ("deleteAction", NAME),
}
ACTIVATION_ID = {"activation_id": "$response.body#/activationId"}
ACTIVATION_LINKS = {
    "GetActivation": ("getActivation", ACTIVATION_ID),
    "GetActivationLogs": ("getActivationLogs", ACTIVATION_ID),
    "GetActivationResult": ("getActivationResult", ACTIVATION_ID),
}
EXEC_SCHEMA = model_schema(ExecPut) | {
    "required": ["kind"],
    "anyOf": [  # code, or a custom image that holds it (stratus.action_updates._exec)
        {"required": ["code"], "properties": {"code": {"type": "string", "minLength": 1}}},
        {"required": ["image"], "properties": {"kind": {"const": kinds.BLACKBOX}, "image": {"type": "string"}}},
    ],
}
PUT_DOC = extra(
    json_body(
        model_schema(ActionPut, exec=nullable(EXEC_SCHEMA), limits=nullable(limits_schema())),
        "The action: `exec` (kind, code; needed to create), parameters, limits, annotations. Bodies are JSON "
        f"objects of up to {PUT_MAX_BYTES // L.MB} MB, nested at most {L.JSON_MAX_DEPTH} levels, integers of 64 "
        "bits; code up to 48 MB, parameters and annotations up to 1 MB each.",
        required=True,
    ),
    links(200, "The action as stored.", **ACTION_LINKS),
)
INVOKE_DOC = extra(
    json_body(
        {"type": "object", "additionalProperties": True},
        "The parameters of this activation, over the action's own: any JSON object of up to "
        f"{L.PAYLOAD_MAX_BYTES // L.MB} MB, nested at most {L.JSON_MAX_DEPTH} levels, integers of 64 bits. "
        "Empty: {}.",
    ),
    links(200, "Blocking, in time: the activation record (or only its result with result=true).", **ACTIVATION_LINKS),
    links(202, "Accepted: the activation id (non-blocking, or the blocking wait ran out).", **ACTIVATION_LINKS),
)


async def _existing(entities: EntityStore, namespace: str, name: str) -> Action:
    action = await entities.get_action(namespace, check_name(name))
    if action is None:
        raise NotFound("action", f"{namespace}/{name}")
    return action


@router.get("", operation_id="listActions")
async def list_actions(
    who: OwnNamespace, b: BackendsDep, limit: Limit = None, skip: Skip = None, count: bool = False
) -> Any:
    if count:
        return {"actions": await b.entities.count_actions(who.name)}
    limit, skip = list_window(limit, skip)
    return [a.summary() for a in await b.entities.list_actions(who.name, limit=limit, skip=skip)]


@router.get("/{name}", operation_id="getAction")
async def get_action(name: EntityName, who: OwnNamespace, b: BackendsDep, code: bool = True) -> dict[str, Any]:
    return (await _existing(b.entities, who.name, name)).to_api(code=code)


@router.put("/{name}", operation_id="putAction", openapi_extra=PUT_DOC)
async def put_action(
    name: EntityName, request: Request, who: OwnNamespace, b: BackendsDep, overwrite: bool = False
) -> dict[str, Any]:
    check_name(name)
    try:
        put = ActionPut.model_validate(await json_object(request, max_bytes=PUT_MAX_BYTES, what="action"))
    except ValidationError as exc:
        raise BadRequest(f"The request content was malformed: {_first_problem(exc)}") from exc
    existing = await b.entities.get_action(who.name, name)
    if existing is not None and not overwrite:
        raise Conflict("The resource already exists; use overwrite=true to update it.")
    action = apply_put(existing, put, namespace=who.name, name=name, now_ms=int(time.time() * 1000))
    if existing is None:
        await b.entities.create_action(action)
    else:
        await b.entities.replace_action(action, expected_updated=existing.updated)
    b.actions.invalidate(who.name, name)
    if existing is not None:
        await announce_change(b, ActionChanged(fqn=action.fqn, revision=action.revision))
    return action.to_api()


@router.delete("/{name}", operation_id="deleteAction")
async def delete_action(name: EntityName, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    deleted = await b.entities.delete_action(who.name, check_name(name))
    b.actions.invalidate(who.name, name)
    if deleted is None:
        raise NotFound("action", f"{who.name}/{name}")
    await announce_change(b, ActionChanged(fqn=deleted.fqn))
    return deleted.to_api()


async def announce_change(b: Backends, change: ActionChanged) -> None:
    """Invokers remove the containers the change made useless at once, not at their idle timeout."""
    try:
        await b.bus.announce(ACTION_CHANGES, change.model_dump_json())
    except StoreUnavailable as exc:  # the write is done; the containers go at their idle timeout instead
        log.warning("action change of %s not announced: %s", change.fqn, exc)


@router.post("/{name}", operation_id="invokeAction", openapi_extra=INVOKE_DOC)
async def invoke_action(
    name: EntityName,
    request: Request,
    who: OwnNamespace,
    b: BackendsDep,
    blocking: bool = False,
    result: bool = False,
    timeout: BlockingWait = None,  # noqa: ASYNC109
) -> JSONResponse:
    """Invoke: 202 with the activation id, or (blocking) the record when it arrives in time.
    Served by gateway.fast_path in the common case; this route documents it and takes the rest."""
    invoking.check_timeout(timeout)
    body = await json_object(request, max_bytes=L.PAYLOAD_MAX_BYTES)
    return await invoking.invoke_named(b, who, name, body, blocking=blocking, result_only=result, timeout_ms=timeout)


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
