"""Accepting an invocation: mint the id, publish the Invocation, wait for the record when blocking."""

import logging
import time
from typing import Any

from fastapi.responses import JSONResponse

from gateway.deps import Backends
from stratus.ids import new_activation_id
from stratus.messages import INVOCATIONS, Invocation
from stratus.models import Action, Activation, Namespace
from stratus.params import run_params

log = logging.getLogger(__name__)

STATUS_HTTP = {"success": 200, "application error": 502, "action developer error": 502, "whisk internal error": 500}
ACTIVATION_HEADER = "x-openwhisk-activation-id"
INVOCATIONS_MAXLEN = 1_000_000  # a backlog bound, far above any real queue


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
    invocation = Invocation(
        activation_id=new_activation_id(),
        namespace=who.name,
        subject=who.subject,
        action=action.without_code(),
        params=run_params(action, body),
        accepted_ms=int(time.time() * 1000),
        reply_to=backends.replies.stream if blocking else None,
    )
    activation_id = invocation.activation_id
    headers: dict[str, str] = {ACTIVATION_HEADER: activation_id}
    if not blocking:
        await backends.bus.publish(INVOCATIONS, invocation.to_fields(), maxlen=INVOCATIONS_MAXLEN)
        log.info("activation %s accepted for %s", activation_id, action.fqn)
        return JSONResponse({"activationId": activation_id}, status_code=202, headers=headers)
    future = backends.replies.expect(activation_id)
    try:
        await backends.bus.publish(INVOCATIONS, invocation.to_fields(), maxlen=INVOCATIONS_MAXLEN)
    except BaseException:
        backends.replies.forget(activation_id)
        raise
    log.info("activation %s accepted for %s (blocking)", activation_id, action.fqn)
    record = await backends.replies.wait(future, activation_id, wait_s)
    if record is None:
        return JSONResponse({"activationId": activation_id}, status_code=202, headers=headers)
    return blocking_response(record, result_only=result_only, headers=headers)


def blocking_response(record: Activation, *, result_only: bool, headers: dict[str, str]) -> JSONResponse:
    status = STATUS_HTTP[record.response.status]
    result = record.response.result
    if result_only or isinstance(result, list):
        return JSONResponse(result, status_code=status, headers=headers)
    return JSONResponse(record.to_api(), status_code=status, headers=headers)
