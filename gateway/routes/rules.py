"""Rules: create or update (PUT), get, list, delete, enable or disable (POST `status`)."""

import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from core import limits as L
from core.entity_updates import check_overwrite, merged_annotations, written_fields
from core.errors import BadRequest, NotFound
from core.models import KeyValue, Rule
from core.names import check_name
from core.packages import resolve_action, split_fqn
from gateway.body import json_object, model_body
from gateway.deps import BackendsDep, OwnNamespace
from gateway.openapi import EntityName, extra, json_body, links, model_schema
from gateway.paging import Limit, Skip, list_window

router = APIRouter(prefix="/api/v1/namespaces/{ns}/rules", tags=["rules"])


class RulePut(BaseModel):
    """The body of PUT …/rules/{name}: `trigger` and `action` by name or fully qualified (/ns/[pkg/]name)."""

    model_config = ConfigDict(strict=True)

    trigger: str | None = None
    action: str | None = None
    annotations: list[KeyValue] | None = None
    publish: bool | None = None
    version: str | None = None


class StatusPost(BaseModel):
    model_config = ConfigDict(strict=True)

    status: Literal["active", "inactive"]


NAME = {"name": "$request.path.name"}
PUT_DOC = extra(
    json_body(model_schema(RulePut), "The rule: the trigger and the action it connects."),
    links(
        200,
        "The rule as stored.",
        GetRule=("getRule", NAME),
        SetRuleStatus=("setRuleStatus", NAME),
        DeleteRule=("deleteRule", NAME),
    ),
)
STATUS_DOC = extra(json_body(model_schema(StatusPost), 'Enable or disable: {"status": "active" | "inactive"}.'))


async def _shown(b: BackendsDep, rule: Rule) -> dict[str, Any]:
    """Inactive when its trigger is gone."""
    trigger_ns, _, trigger_name = rule.trigger.partition("/")
    if await b.entities.get_trigger(trigger_ns, trigger_name) is None:
        rule = rule.model_copy(update={"status": "inactive"})
    return rule.to_api()


async def _existing(b: BackendsDep, namespace: str, name: str) -> Rule:
    rule = await b.entities.get_rule(namespace, check_name(name))
    if rule is None:
        raise NotFound("rule", f"{namespace}/{name}")
    return rule


@router.get("", operation_id="listRules")
async def list_rules(who: OwnNamespace, b: BackendsDep, limit: Limit = None, skip: Skip = None) -> Any:
    limit, skip = list_window(limit, skip)
    return [r.to_api() for r in await b.entities.list_rules(who.name, limit=limit, skip=skip)]


@router.get("/{name}", operation_id="getRule")
async def get_rule(name: EntityName, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    return await _shown(b, await _existing(b, who.name, name))


@router.put("/{name}", operation_id="putRule", openapi_extra=PUT_DOC)
async def put_rule(
    name: EntityName, request: Request, who: OwnNamespace, b: BackendsDep, overwrite: bool = False
) -> dict[str, Any]:
    check_name(name)
    put = await model_body(request, RulePut, max_bytes=L.ENTITY_PUT_MAX_BYTES, what="rule")
    old = await b.entities.get_rule(who.name, name)
    check_overwrite(old, overwrite)
    if old is None and not (put.trigger and put.action):
        raise BadRequest("A rule needs a trigger and an action.")
    trigger = await _trigger(b, who.name, put.trigger) if put.trigger else old.trigger  # type: ignore[union-attr]
    action = await _action(b, who.name, put.action) if put.action else old.action  # type: ignore[union-attr]
    annotations = merged_annotations(old, put.annotations)
    rule = Rule(
        namespace=who.name,
        name=name,
        trigger=trigger,
        action=action,
        status=old.status if old else "active",
        annotations=list(annotations.values()),
        **written_fields(old, put.version, put.publish, int(time.time() * 1000)),
    )
    await b.entities.put_rule(rule, expected_updated=old.updated if old else None)
    return rule.to_api()


async def _trigger(b: BackendsDep, caller: str, reference: str) -> str:
    namespace, name = split_fqn(caller, reference)
    if namespace != caller or "/" in name or await b.entities.get_trigger(namespace, check_name(name)) is None:
        raise BadRequest(f"The rule's trigger '{reference}' does not exist.")
    return f"{namespace}/{name}"


async def _action(b: BackendsDep, caller: str, reference: str) -> str:
    namespace, path = split_fqn(caller, reference)
    if await resolve_action(b.entities, caller, f"/{namespace}/{path}") is None:
        raise BadRequest(f"The rule's action '{reference}' does not exist.")
    return f"{namespace}/{path}"


@router.post("/{name}", operation_id="setRuleStatus", openapi_extra=STATUS_DOC)
async def set_status(name: EntityName, request: Request, who: OwnNamespace, b: BackendsDep) -> PlainTextResponse:
    rule = await _existing(b, who.name, name)
    try:
        wanted = StatusPost.model_validate(await json_object(request, max_bytes=L.ENTITY_PUT_MAX_BYTES, what="status"))
    except ValidationError as exc:
        raise BadRequest("The status must be 'active' or 'inactive'.") from exc
    trigger_ns, _, trigger_name = rule.trigger.partition("/")
    if await b.entities.get_trigger(trigger_ns, trigger_name) is None:
        raise NotFound("trigger", rule.trigger)
    if rule.status != wanted.status:
        updated = max(int(time.time() * 1000), rule.updated + 1)
        changed = rule.model_copy(update={"status": wanted.status, "updated": updated})
        await b.entities.put_rule(changed, expected_updated=rule.updated)
    return PlainTextResponse("")


@router.delete("/{name}", operation_id="deleteRule")
async def delete_rule(name: EntityName, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    deleted = await b.entities.delete_rule(who.name, check_name(name))
    if deleted is None:
        raise NotFound("rule", f"{who.name}/{name}")
    return deleted.model_copy(update={"status": "inactive"}).to_api()
