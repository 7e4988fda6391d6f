"""The built-in alarms feed, invoked as OpenWhisk's feed actions are: `POST /namespaces/whisk.system/actions/
alarms/{alarm|interval|once}` with `lifecycleEvent` (CREATE, READ, UPDATE, DELETE, PAUSE, UNPAUSE),
`triggerName` (/ns/trigger, a trigger of the caller's namespace) and the feed's parameters (core.alarms).
`wsk trigger create T --feed /whisk.system/alarms/alarm -p cron '*/5 * * * * *'` does exactly this."""

import time
from typing import Any

from fastapi import APIRouter, Request

from core import alarms as A
from core import limits as L
from core.errors import BadRequest, NotFound
from core.packages import split_fqn
from gateway.body import json_object
from gateway.deps import BackendsDep, Caller
from gateway.openapi import extra, json_body

router = APIRouter(prefix="/api/v1/namespaces/whisk.system/actions/alarms", tags=["feeds"])
FEED_DOC = extra(
    json_body(
        {
            "type": "object",
            "required": ["lifecycleEvent", "triggerName"],
            "properties": {
                "lifecycleEvent": {"enum": ["CREATE", "READ", "UPDATE", "DELETE", "PAUSE", "UNPAUSE"]},
                "triggerName": {"type": "string"},
                "cron": {"type": "string"},
                "minutes": {"type": "integer"},
                "trigger_payload": {"type": "object"},
            },
        },
        "A feed lifecycle event for a trigger of the caller's namespace, with the schedule's parameters.",
        required=True,
    )
)


@router.post("/{feed}", operation_id="alarmsFeed", openapi_extra=FEED_DOC)
async def alarms_feed(feed: str, request: Request, who: Caller, b: BackendsDep) -> dict[str, Any]:
    params = await json_object(request, max_bytes=L.PAYLOAD_MAX_BYTES)
    event, reference = params.get("lifecycleEvent"), params.get("triggerName")
    if not isinstance(reference, str):
        raise BadRequest("triggerName (/namespace/trigger) is required.")
    namespace, name = split_fqn(who.name, reference if reference.startswith("/") else f"/_/{reference}")
    if namespace != who.name or "/" in name:
        raise BadRequest(f"triggerName '{reference}' is not a trigger of your namespace.")
    if event in ("CREATE", "UPDATE"):
        if await b.entities.get_trigger(namespace, name) is None:
            raise NotFound("trigger", f"{namespace}/{name}")
        alarm = A.from_params(feed, namespace, name, params, int(time.time() * 1000))
        await b.entities.put_alarm(alarm)
        return {"status": "success", "alarm": alarm.to_api()}
    found = await b.entities.get_alarm(namespace, name)
    if found is None:
        raise NotFound("alarm of trigger", f"{namespace}/{name}")
    if event == "READ":
        return {"status": "success", "config": found.to_api()}
    if event in ("DELETE", "PAUSE"):  # PAUSE: removed, UNPAUSE needs the parameters again (CREATE)
        await b.entities.delete_alarm(namespace, name)
        return {"status": "success"}
    raise BadRequest("lifecycleEvent must be CREATE, READ, UPDATE, DELETE or PAUSE.")
