"""Per-namespace throttles (OpenWhisk): invocations per minute, then concurrent invocations.

Limits come from the namespace (`stratus admin namespace limits`), else the gateway's settings; 0 means
no limit. The counts live in Redis (core.ledger), so they hold across every gateway. An admitted
activation stays in flight until a controller releases it (completion, or its failure record), or
until its entry expires: its timeout plus the blocking wait, a bound that a lost activation cannot pin.
"""

import time

from core.errors import Throttled
from core.ledger import Refused
from core.messages import Invocation
from core.models import Namespace
from gateway.deps import Backends
from gateway.metrics import THROTTLES

IN_FLIGHT_SLACK_MS = 120_000  # queueing at a busy invoker, on top of the action's timeout


def refusal_message(refused: Refused) -> str:
    if refused.throttle == "per-minute":
        return f"Too many requests in the last minute (count: {refused.count}, allowed: {refused.allowed})."
    return f"Too many concurrent requests in flight (count: {refused.count}, allowed: {refused.allowed})."


def limits_of(who: Namespace, backends: Backends) -> tuple[int, int]:
    """(per minute, concurrent) for this namespace."""
    own, default = who.limits, backends.settings
    per_minute = own.invocations_per_minute
    concurrent = own.concurrent_invocations
    return (
        default.invocations_per_minute if per_minute is None else per_minute,
        default.concurrent_invocations if concurrent is None else concurrent,
    )


async def admit(backends: Backends, who: Namespace, invocation: Invocation) -> None:
    """Raises Throttled (429) when the namespace is over a limit; otherwise the activation is in flight."""
    per_minute, concurrent = limits_of(who, backends)
    if per_minute == 0 and concurrent == 0:
        return
    ttl_ms = invocation.action.limits.timeout + int(backends.settings.blocking_wait_s * 1000) + IN_FLIGHT_SLACK_MS
    refused = await backends.ledger.admit(
        invocation.namespace,
        invocation.activation_id,
        per_minute=per_minute,
        concurrent=concurrent,
        now_ms=int(time.time() * 1000),
        ttl_ms=ttl_ms,
    )
    if refused is not None:
        THROTTLES[refused.throttle].inc()
        raise Throttled(refusal_message(refused))
