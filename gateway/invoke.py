"""Accepting an invocation: mint the id, place it on an invoker, wait for the record when blocking.

The gateway places what it accepts itself (core.placer): booked and on its invoker's stream before the
caller hears back. What it cannot place at once (no healthy invoker, its booking lost to another
placer) and sequences (a controller conducts them) go on `stratus:invocations` for a controller, which
retries, waits for an invoker, or fails them with a record.
"""

import logging
from typing import Any

from fastapi.responses import JSONResponse

from core import kinds
from core import limits as L
from core.errors import BadRequest, NotFound
from core.ids import ActivationId
from core.messages import INVOCATIONS, Invocation
from core.models import Action, Activation, Namespace
from core.packages import check_reference
from core.params import run_params
from core.replies import RecordRef, read_large_record
from gateway import throttle
from gateway.deps import Backends
from gateway.metrics import PLACED

log = logging.getLogger(__name__)

STATUS_HTTP = {"success": 200, "application error": 502, "action developer error": 502, "whisk internal error": 500}
ACTIVATION_HEADER = "x-openwhisk-activation-id"
INVOCATIONS_MAXLEN = 1_000_000  # a backlog bound, far above any real queue


def check_timeout(timeout_ms: int | None) -> None:
    if timeout_ms is not None and not 0 < timeout_ms <= L.BLOCKING_WAIT_MAX_MS:
        raise BadRequest(f"The timeout must be a number of milliseconds from 1 to {L.BLOCKING_WAIT_MAX_MS}.")


async def invoke_named(
    backends: Backends,
    who: Namespace,
    name: str,
    body: dict[str, Any],
    *,
    blocking: bool,
    result_only: bool,
    timeout_ms: int | None,
) -> JSONResponse:
    """POST …/actions/{name} (`name`: [pkg/]name, or /ns/pkg/name in another namespace's published package)
    once the caller and the body are known (the FastAPI route and the fast path),
    the timeout checked (`check_timeout`) before the body was read."""
    action = await backends.actions.get(who.name, check_reference(name))
    if action is None:
        raise NotFound("action", f"{who.name}/{name}")
    wait_s = timeout_ms / 1000 if timeout_ms else backends.settings.blocking_wait_s
    return await invoke(backends, who, action, body, blocking=blocking, result_only=result_only, wait_s=wait_s)


async def invoke(
    backends: Backends,
    who: Namespace,
    action: Action,
    body: dict[str, Any],
    *,
    blocking: bool,
    result_only: bool,
    wait_s: float,
) -> JSONResponse:
    params = run_params(action, body)
    if not blocking:
        invocation = _invocation(backends, who, action, params, blocking=False)
        await publish(backends, who, invocation)
        log.info("activation %s accepted for %s", invocation.activation_id, action.fqn)
        accepted = {ACTIVATION_HEADER: invocation.activation_id}
        return JSONResponse({"activationId": invocation.activation_id}, status_code=202, headers=accepted)
    activation_id, record = await invoke_blocking(backends, who, action, params, wait_s=wait_s)
    headers: dict[str, str] = {ACTIVATION_HEADER: activation_id}
    if record is None:
        return JSONResponse({"activationId": activation_id}, status_code=202, headers=headers)
    return blocking_response(record, result_only=result_only, headers=headers)


async def invoke_blocking(
    backends: Backends, who: Namespace, action: Action, params: dict[str, Any], *, wait_s: float
) -> tuple[ActivationId, Activation | None]:
    """One pass through the bus: publish, then wait for the record (None when the wait ran out).
    Blocking invokes and web actions both come through here."""
    invocation = _invocation(backends, who, action, params, blocking=True)
    activation_id = invocation.activation_id
    future = backends.replies.expect(activation_id)
    try:
        await publish(backends, who, invocation)
    except BaseException:
        backends.replies.forget(activation_id)
        raise
    log.info("activation %s accepted for %s (blocking)", activation_id, action.fqn)
    answer = await backends.replies.wait(future, activation_id, wait_s)
    if isinstance(answer, RecordRef):
        return activation_id, await read_large_record(
            backends.bus, backends.activations, invocation.namespace, activation_id, answer
        )
    return activation_id, answer


async def publish(backends: Backends, who: Namespace, invocation: Invocation) -> None:
    """Throttles first (429), then accepted: on an invoker's stream, or on the stream the controllers read."""
    await throttle.admit(backends, who, invocation)
    try:
        if invocation.action.exec.kind != kinds.SEQUENCE and await backends.placer.place_now(invocation):
            PLACED["gateway"].inc()
            return
        PLACED["controller"].inc()
        await backends.bus.publish(INVOCATIONS, invocation.to_fields(), maxlen=INVOCATIONS_MAXLEN)
    except BaseException:
        await backends.ledger.finish(invocation.namespace, invocation.activation_id)
        raise


def _invocation(
    backends: Backends, who: Namespace, action: Action, params: dict[str, Any], *, blocking: bool
) -> Invocation:
    return Invocation.accept(
        who.name, who.subject, action, params, reply_to=backends.replies.stream if blocking else None
    )


def blocking_response(record: Activation, *, result_only: bool, headers: dict[str, str]) -> JSONResponse:
    status = STATUS_HTTP[record.response.status]
    result = record.response.result
    if result_only or isinstance(result, list):
        return JSONResponse(result, status_code=status, headers=headers)
    return JSONResponse(record.to_api(), status_code=status, headers=headers)
