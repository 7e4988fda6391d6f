"""Firing a trigger: every active rule's action, invoked non-blocking with the trigger's parameters under
the payload, and one record for the trigger listing what each rule caused (OpenWhisk's shape: a JSON string
per rule in `logs`). Used by the gateway (POST …/triggers/{name}) and by the alarms feed (controller.alarms).
"""

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from core.errors import StoreUnavailable, StratusError, Unavailable
from core.ids import ActivationId, new_activation_id
from core.ledger import Ending, Ledger
from core.messages import Invocation, Record
from core.models import Activation, ActivationResponse, KeyValue, Namespace, Rule, Trigger
from core.packages import resolve_action
from core.params import run_params
from core.stores.entities import EntityStore

Publish = Callable[[Invocation], Awaitable[None]]  # admit (throttles) and put on the invocations stream
RULES_MAX = 10_000


async def active_rules(entities: EntityStore, trigger: Trigger) -> list[Rule]:
    fqn = f"{trigger.namespace}/{trigger.name}"
    found = await entities.list_rules(trigger.namespace, limit=RULES_MAX, skip=0)
    return sorted((r for r in found if r.trigger == fqn and r.status == "active"), key=lambda r: r.name)


async def fire(
    entities: EntityStore,
    ledger: Ledger,
    who: Namespace,
    trigger: Trigger,
    payload: dict[str, Any],
    publish: Publish,
) -> ActivationId | None:
    """The trigger's activation id, or None when no rule is active (nothing runs, nothing is recorded)."""
    rules = await active_rules(entities, trigger)
    if not rules:
        return None
    activation_id = new_activation_id()
    start = int(time.time() * 1000)
    args = {p.key: p.value for p in trigger.parameters} | payload
    logs = [json.dumps(await _run_rule(entities, who, rule, args, publish)) for rule in rules]
    record = Activation(
        activation_id=activation_id,
        namespace=who.name,
        name=trigger.name,
        version=trigger.version,
        subject=who.subject,
        start=start,
        end=start,
        duration=0,
        response=ActivationResponse(status="success", result=payload),
        logs=logs,
        annotations=[
            KeyValue(key="path", value=f"{trigger.namespace}/{trigger.name}"),
            KeyValue(key="kind", value="trigger"),
        ],
    )
    await ledger.end([Ending(activation_id, who.name, Record(activation=record).to_fields(), None, None)])
    return activation_id


async def _run_rule(
    entities: EntityStore, who: Namespace, rule: Rule, args: dict[str, Any], publish: Publish
) -> dict[str, Any]:
    line: dict[str, Any] = {"rule": rule.fqn, "action": rule.action}
    try:
        action = await resolve_action(entities, who.name, f"/{rule.action}")
        if action is None:
            return line | {"statusCode": 1, "success": False, "error": "The requested action does not exist."}
        invocation = Invocation.accept(who.name, who.subject, action, run_params(action, args))
        await publish(invocation)
    except StratusError as exc:  # a throttle (429), a parameter the action does not allow (400), a store down
        code = 3 if isinstance(exc, StoreUnavailable | Unavailable) else 1
        return line | {"statusCode": code, "success": False, "error": str(exc)}
    return line | {"statusCode": 0, "success": True, "activationId": invocation.activation_id}
