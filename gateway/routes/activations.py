"""Activation records: list, get, logs, result. Every read is scoped to the caller's namespace."""

from typing import Any

from fastapi import APIRouter

from core.errors import BadRequest, NotFound
from core.ids import ACTIVATION_ID_RE
from core.models import Activation
from core.stores.activations import ActivationStore
from gateway.deps import BackendsDep, OwnNamespace
from gateway.openapi import ActivationIdPath
from gateway.paging import EpochMs, Limit, Skip, list_window

router = APIRouter(prefix="/api/v1/namespaces/{ns}/activations", tags=["activations"])


async def _record(store: ActivationStore, namespace: str, activation_id: str) -> Activation:
    if not ACTIVATION_ID_RE.match(activation_id):
        raise BadRequest(f"The activation id '{activation_id}' is not valid: 32 lowercase hex digits are expected.")
    record = await store.get(namespace, activation_id)
    if record is None:
        raise NotFound("activation", activation_id)
    return record


@router.get("", operation_id="listActivations")
async def list_activations(
    who: OwnNamespace,
    b: BackendsDep,
    limit: Limit = None,
    skip: Skip = None,
    count: bool = False,
    docs: bool = False,
    name: str | None = None,
    since: EpochMs = None,
    upto: EpochMs = None,
) -> Any:
    if count and docs:
        raise BadRequest("The parameters 'count' and 'docs' cannot be combined.")
    if name is not None and len(name.split("/")) > 2:
        raise BadRequest("The name filter is 'action' or 'package/action'.")
    if count:
        return {"activations": await b.activations.count(who.name, name=name, since=since, upto=upto)}
    limit, skip = list_window(limit, skip)
    rows = await b.activations.list_recent(who.name, name=name, since=since, upto=upto, limit=limit, skip=skip)
    return [r.to_api() if docs else r.summary() for r in rows]


@router.get("/{activation_id}", operation_id="getActivation")
async def get_activation(activation_id: ActivationIdPath, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    return (await _record(b.activations, who.name, activation_id)).to_api()


@router.get("/{activation_id}/logs", operation_id="getActivationLogs")
async def get_logs(activation_id: ActivationIdPath, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    return {"logs": (await _record(b.activations, who.name, activation_id)).logs}


@router.get("/{activation_id}/result", operation_id="getActivationResult")
async def get_result(activation_id: ActivationIdPath, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    response: dict[str, Any] = (await _record(b.activations, who.name, activation_id)).to_api()["response"]
    return response
