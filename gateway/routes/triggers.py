"""Triggers: create or update (PUT), get (with its rules), list, delete, fire (POST)."""

import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from core import limits as L
from core import triggers
from core.entity_updates import check_overwrite, merged_annotations, written_fields
from core.errors import BadRequest, NotFound
from core.models import KeyValue, Namespace, Trigger, path_and_name
from core.names import check_name
from gateway import invoke as invoking
from gateway.body import json_object, model_body
from gateway.deps import BackendsDep, OwnNamespace
from gateway.openapi import EntityName, extra, json_body, links, model_schema
from gateway.paging import Limit, Skip, list_window

router = APIRouter(prefix="/api/v1/namespaces/{ns}/triggers", tags=["triggers"])
FEED_PATH = re.compile(r"^/?[^/]+(/[^/]+){1,2}$")


class TriggerPut(BaseModel):
    """The body of PUT …/triggers/{name}: each given field replaces the stored one."""

    model_config = ConfigDict(strict=True, populate_by_name=True)

    parameters: list[KeyValue] | None = None
    annotations: list[KeyValue] | None = None
    publish: bool | None = None
    version: str | None = None
    limits: dict[str, Any] | None = None  # accepted and ignored, as OpenWhisk's (triggers have no limits)
    del_annotations: list[str] | None = Field(default=None, alias="delAnnotations")


NAME = {"name": "$request.path.name"}
PUT_DOC = extra(
    json_body(model_schema(TriggerPut), "The trigger: parameters (under each firing's payload), annotations."),
    links(
        200,
        "The trigger as stored.",
        GetTrigger=("getTrigger", NAME),
        FireTrigger=("fireTrigger", NAME),
        DeleteTrigger=("deleteTrigger", NAME),
    ),
)
FIRE_DOC = extra(json_body({"type": "object", "additionalProperties": True}, "The payload of this firing."))


async def existing(b: BackendsDep, namespace: str, name: str) -> Trigger:
    trigger = await b.entities.get_trigger(namespace, check_name(name))
    if trigger is None:
        raise NotFound("trigger", f"{namespace}/{name}")
    return trigger


async def with_rules(b: BackendsDep, trigger: Trigger) -> dict[str, Any]:
    body = trigger.to_api()
    fqn = f"{trigger.namespace}/{trigger.name}"
    found = await b.entities.list_rules(trigger.namespace, limit=triggers.RULES_MAX, skip=0)
    linked = {r.fqn: {"action": path_and_name(r.action), "status": r.status} for r in found if r.trigger == fqn}
    if linked:
        body["rules"] = linked
    return body


# list, get and put have the shape of the rules' routes; each names its own path, operation id and store call.
@router.get("", operation_id="listTriggers")
async def list_triggers(who: OwnNamespace, b: BackendsDep, limit: Limit = None, skip: Skip = None) -> Any:
    limit, skip = list_window(limit, skip)
    return [t.to_api() for t in await b.entities.list_triggers(who.name, limit=limit, skip=skip)]


@router.get("/{name}", operation_id="getTrigger")
async def get_trigger(name: EntityName, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    return await with_rules(b, await existing(b, who.name, name))


@router.put("/{name}", operation_id="putTrigger", openapi_extra=PUT_DOC)
async def put_trigger(
    name: EntityName, request: Request, who: OwnNamespace, b: BackendsDep, overwrite: bool = False
) -> dict[str, Any]:
    check_name(name)
    put = await model_body(request, TriggerPut, max_bytes=L.ENTITY_PUT_MAX_BYTES, what="trigger")
    old = await b.entities.get_trigger(who.name, name)
    check_overwrite(old, overwrite)
    trigger = _apply(old, put, who.name, name)
    await b.entities.put_trigger(trigger, expected_updated=old.updated if old else None)
    return await with_rules(b, trigger)


def _apply(old: Trigger | None, put: TriggerPut, namespace: str, name: str) -> Trigger:
    annotations = merged_annotations(old, put.annotations, put.del_annotations)
    feed = annotations.get("feed")
    if feed is not None and not (isinstance(feed.value, str) and FEED_PATH.match(feed.value)):
        raise BadRequest("The feed annotation must be an entity path such as /whisk.system/alarms/alarm.")
    return Trigger(
        namespace=namespace,
        name=name,
        parameters=put.parameters if put.parameters is not None else (old.parameters if old else []),
        annotations=list(annotations.values()),
        **written_fields(old, put.version, put.publish, int(time.time() * 1000)),
    )


@router.delete("/{name}", operation_id="deleteTrigger")
async def delete_trigger(name: EntityName, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    deleted = await b.entities.delete_trigger(who.name, check_name(name))
    if deleted is None:
        raise NotFound("trigger", f"{who.name}/{name}")
    await b.entities.delete_alarm(who.name, name)  # its schedule, if a feed made one, goes with it
    return deleted.to_api()


@router.post("/{name}", operation_id="fireTrigger", openapi_extra=FIRE_DOC)
async def fire_trigger(name: EntityName, request: Request, who: OwnNamespace, b: BackendsDep) -> Response:
    """202 with the trigger's activation id; 204 when no rule is active (nothing runs)."""
    trigger = await existing(b, who.name, name)
    payload = await json_object(request, max_bytes=L.PAYLOAD_MAX_BYTES)
    activation_id = await fire(b, who, trigger, payload)
    if activation_id is None:
        return Response(status_code=204)
    headers = {invoking.ACTIVATION_HEADER: activation_id}
    return JSONResponse({"activationId": activation_id}, status_code=202, headers=headers)


async def fire(b: BackendsDep, who: Namespace, trigger: Trigger, payload: dict[str, Any]) -> str | None:
    async def publish(invocation: Any) -> None:
        await invoking.publish(b, who, invocation)

    return await triggers.fire(b.entities, b.ledger, who, trigger, payload, publish)
