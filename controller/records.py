"""The record the controller writes when an activation cannot run or its invoker died with it."""

from stratus.messages import Invocation
from stratus.models import Activation, ActivationResponse, KeyValue


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
