"""Sequences: checking one at create (components exist, at most SEQUENCE_MAX_ACTIONS, no cycle) and the pure
parts of running one (what the next component gets, when the chain stops, the sequence's own record).

The controller runs them (controller.conductor): each component is an ordinary activation with its own
record; the sequence's record lists their ids in `logs` (as OpenWhisk's does).
"""

from typing import Any

from core import kinds
from core import limits as L
from core.errors import BadRequest
from core.models import Action, Activation, ActivationResponse, KeyValue
from core.packages import resolve_action, split_fqn
from core.stores.entities import EntityStore


def qualified(caller: str, reference: str) -> str:
    namespace, path = split_fqn(caller, reference)
    return f"/{namespace}/{path}"


async def check_components(entities: EntityStore, caller: str, sequence: Action) -> Action:
    """The sequence with its components fully qualified; 400 when one is missing, when it (through nested
    sequences) holds more than SEQUENCE_MAX_ACTIONS actions, or when it would contain itself."""
    components = [qualified(caller, c) for c in sequence.exec.components or []]
    count = await _count(entities, caller, components, [f"/{sequence.fqn}"])
    if count > L.SEQUENCE_MAX_ACTIONS:
        raise BadRequest(f"Too many actions in the sequence: {count} > {L.SEQUENCE_MAX_ACTIONS}.")
    return sequence.model_copy(update={"exec": sequence.exec.model_copy(update={"components": components})})


async def _count(entities: EntityStore, caller: str, components: list[str], stack: list[str]) -> int:
    total = 0
    for reference in components:
        action = await resolve_action(entities, caller, reference)
        if action is None:
            raise BadRequest(f"The sequence component '{reference}' does not exist.")
        if f"/{action.fqn}" in stack:
            raise BadRequest(f"The sequence would contain itself (through '{reference}').")
        if action.exec.kind == kinds.SEQUENCE:
            total += await _count(entities, caller, action.exec.components or [], [*stack, f"/{action.fqn}"])
        else:
            total += 1
        if total > L.SEQUENCE_MAX_ACTIONS:
            return total
    return total


def next_input(result: Any) -> dict[str, Any]:
    """What the next component gets: an object result as it is, anything else nothing (OpenWhisk)."""
    return result if isinstance(result, dict) else {}


def stops(record: Activation) -> bool:
    """The chain ends at a component that did not succeed (its result then holds `error`)."""
    result = record.response.result
    return record.response.status != "success" or (isinstance(result, dict) and "error" in result)


def sequence_annotations(sequence: Action, wait_ms: int, *, nested: bool) -> list[KeyValue]:
    extra = [KeyValue(key="causedBy", value="sequence")] if nested else []
    return extra + [
        KeyValue(key="topmost", value=not nested),
        KeyValue(key="path", value=sequence.fqn),
        KeyValue(key="kind", value=kinds.SEQUENCE),
        KeyValue(key="waitTime", value=wait_ms),
        KeyValue(key="limits", value=sequence.limits.model_dump()),
    ]


def failed(message: str) -> ActivationResponse:
    return ActivationResponse(status="whisk internal error", result={"error": message})
