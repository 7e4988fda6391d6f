"""Actions: create or update (PUT), get, list, delete, invoke (POST)."""

import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from core import kinds, sequences
from core import limits as L
from core.action_updates import ActionPut, ExecPut, apply_put
from core.entity_updates import check_overwrite
from core.errors import BadRequest, NotFound, StoreUnavailable
from core.messages import ACTION_CHANGES, ActionChanged
from core.models import Action, Namespace
from core.names import check_name
from core.packages import check_path, check_reference, resolve_action
from gateway import invoke as invoking
from gateway.body import json_object, model_body
from gateway.deps import Backends, BackendsDep, Caller, OwnNamespace
from gateway.openapi import EntityName, extra, json_body, limits_schema, links, model_schema, nullable
from gateway.paging import Limit, Skip, list_window

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
NO_SEQ = {"components": {"type": "null"}}  # components only with the kind sequence
CODE_KINDS = {"enum": [k for k in kinds.valid_kinds() if k != kinds.SEQUENCE]}
EXEC_SCHEMA = model_schema(ExecPut) | {
    "required": ["kind"],
    "anyOf": [  # code, a custom image that holds it, or a sequence's components (core.action_updates._exec)
        {"required": ["code"], "properties": {"code": {"type": "string", "minLength": 1}, "kind": CODE_KINDS} | NO_SEQ},
        {
            "required": ["image"],
            "properties": {"kind": {"const": kinds.BLACKBOX}, "image": {"type": "string"}} | NO_SEQ,
        },
        {
            "required": ["components"],
            "properties": {
                "kind": {"const": kinds.SEQUENCE},
                "components": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            },
        },
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


async def _existing(b: BackendsDep, namespace: str, path: str) -> Action:
    action = await resolve_action(b.entities, namespace, path)
    if action is None:
        raise NotFound("action", f"{namespace}/{path}")
    return action


async def _home(b: BackendsDep, namespace: str, package: str | None) -> str:
    """Where an action of `package` is stored: "ns" or "ns/pkg"; the package must exist, and not be a binding."""
    if package is None:
        return namespace
    found = await b.entities.get_package(namespace, check_name(package))
    if found is None:
        raise NotFound("package", f"{namespace}/{package}")
    if found.binding is not None:
        raise BadRequest(f"Actions cannot be created or deleted in a binding ('{found.fqn}').")
    return found.fqn


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
    return (await _existing(b, who.name, check_name(name))).to_api(code=code)


def _owner(ns: str, who: Namespace) -> str | None:
    """None for the caller's own namespace; else the namespace whose published packages the caller reads."""
    return None if ns in ("_", who.name) else ns


@router.get("/{package}/{name}", operation_id="getPackageAction")
async def get_package_action(
    ns: str, package: EntityName, name: EntityName, who: Caller, b: BackendsDep, code: bool = True
) -> dict[str, Any]:
    """The action as stored in its package; through a binding, with the parameters it runs with. In another
    namespace: only in a published package."""
    if (owner := _owner(ns, who)) is not None:
        reference = check_reference(f"/{owner}/{package}/{name}")
        return (await _existing(b, who.name, reference)).to_api(code=code)
    found = await b.entities.get_package(who.name, check_name(package))
    if found is not None and found.binding is None:
        stored = await b.entities.get_action(found.fqn, check_name(name))
        if stored is None:
            raise NotFound("action", f"{found.fqn}/{name}")
        return stored.to_api(code=code)
    return (await _existing(b, who.name, check_path(f"{package}/{name}"))).to_api(code=code)


@router.put("/{name}", operation_id="putAction", openapi_extra=PUT_DOC)
async def put_action(
    name: EntityName, request: Request, who: OwnNamespace, b: BackendsDep, overwrite: bool = False
) -> dict[str, Any]:
    return await _put(request, b, who.name, None, name, overwrite)


@router.put("/{package}/{name}", operation_id="putPackageAction", openapi_extra=PUT_DOC)
async def put_package_action(
    package: EntityName, name: EntityName, request: Request, who: OwnNamespace, b: BackendsDep, overwrite: bool = False
) -> dict[str, Any]:
    return await _put(request, b, who.name, package, name, overwrite)


async def _put(
    request: Request, b: BackendsDep, ns: str, package: str | None, name: str, overwrite: bool
) -> dict[str, Any]:
    check_name(name)
    home = await _home(b, ns, package)
    put = await model_body(request, ActionPut, max_bytes=PUT_MAX_BYTES, what="action")
    existing = await b.entities.get_action(home, name)
    check_overwrite(existing, overwrite)
    action = apply_put(existing, put, namespace=home, name=name, now_ms=int(time.time() * 1000))
    if action.exec.kind == kinds.SEQUENCE:
        action = await sequences.check_components(b.entities, ns, action)
    if existing is None:
        await b.entities.create_action(action)
    else:
        await b.entities.replace_action(action, expected_updated=existing.updated)
    b.actions.invalidate(ns, f"{package}/{name}" if package else name)
    if existing is not None:
        await announce_change(b, ActionChanged(fqn=action.fqn, revision=action.revision))
    return action.to_api()


@router.delete("/{name}", operation_id="deleteAction")
async def delete_action(name: EntityName, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    return await _delete(b, who.name, None, name)


@router.delete("/{package}/{name}", operation_id="deletePackageAction")
async def delete_package_action(
    package: EntityName, name: EntityName, who: OwnNamespace, b: BackendsDep
) -> dict[str, Any]:
    return await _delete(b, who.name, package, name)


async def _delete(b: BackendsDep, ns: str, package: str | None, name: str) -> dict[str, Any]:
    home = await _home(b, ns, package)
    deleted = await b.entities.delete_action(home, check_name(name))
    b.actions.invalidate(ns, f"{package}/{name}" if package else name)
    if deleted is None:
        raise NotFound("action", f"{home}/{name}")
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


# invoke_action's query parameters again: FastAPI reads a route's query parameters from its own signature.
@router.post("/{package}/{name}", operation_id="invokePackageAction", openapi_extra=INVOKE_DOC)
async def invoke_package_action(
    package: EntityName,
    name: EntityName,
    request: Request,
    ns: str,
    who: Caller,
    b: BackendsDep,
    blocking: bool = False,
    result: bool = False,
    timeout: BlockingWait = None,  # noqa: ASYNC109
) -> JSONResponse:
    """Invoke an action of a package or of a binding (its parameters: package <- binding <- action); in
    another namespace, of a published package (the activation is the caller's)."""
    invoking.check_timeout(timeout)
    body = await json_object(request, max_bytes=L.PAYLOAD_MAX_BYTES)
    owner = _owner(ns, who)
    path = check_path(f"{package}/{name}") if owner is None else check_reference(f"/{owner}/{package}/{name}")
    return await invoking.invoke_named(b, who, path, body, blocking=blocking, result_only=result, timeout_ms=timeout)
