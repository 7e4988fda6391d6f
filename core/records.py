"""The record written when an activation cannot run, or ran where nobody can tell how it ended."""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from core.ids import ACTIVATION_ID_RE, ActivationId
from core.messages import REPLY_PREFIX, Invocation
from core.models import Activation, ActivationResponse, KeyValue

UNREADABLE = "The invocation could not be read by the platform; it did not run."


def internal_error(invocation: Invocation, message: str, now_ms: int) -> Activation:
    action = invocation.action
    return invocation.record(
        ActivationResponse(status="whisk internal error", result={"error": message}),
        start=now_ms,
        end=now_ms,
        annotations=[
            KeyValue(key="path", value=action.fqn),
            KeyValue(key="kind", value=action.exec.kind),
            KeyValue(key="waitTime", value=now_ms - invocation.accepted_ms),
        ],
    )


@dataclass(frozen=True)
class Unreadable:
    """What a consumer can still tell of an entry it cannot decode: enough to end its activation."""

    record: Activation
    reply_to: str | None


def salvage(fields: Mapping[bytes, bytes], message: str, now_ms: int) -> Unreadable | None:
    """The record of an Invocation (or a Dispatch of one) that does not decode, when its id and namespace
    can still be read: an accepted activation ends with a record even then. None when they cannot."""
    try:
        body = json.loads(fields[b"body"])
        body = body.get("invocation", body)  # a Dispatch carries the Invocation
        activation_id, namespace = str(body["activation_id"]), str(body["namespace"])
    except (KeyError, ValueError, TypeError, AttributeError, RecursionError):
        return None
    if not ACTIVATION_ID_RE.match(activation_id) or not namespace:
        return None
    action = body.get("action") if isinstance(body.get("action"), dict) else {}
    name = str(action.get("name") or "unknown")
    record = Activation(
        activation_id=ActivationId(activation_id),
        namespace=namespace,
        name=name,
        version=str(action.get("version") or "0.0.0"),
        subject=str(body.get("subject") or namespace),
        start=now_ms,
        end=now_ms,
        duration=0,
        response=ActivationResponse(status="whisk internal error", result={"error": message}),
    )
    reply_to = body.get("reply_to")
    return Unreadable(record, reply_to if isinstance(reply_to, str) and reply_to.startswith(REPLY_PREFIX) else None)
