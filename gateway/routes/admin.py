"""Operator routes: `GET /api/v1/admin/invokers` lists invokers with state, load and warm pools;
`GET /api/v1/admin/metrics-targets` is Prometheus service discovery for the invokers' and the
controllers' /metrics.

Guarded by the admin key (STRATUS_ADMIN_KEY), sent as `Authorization: Bearer <key>`. With no admin
key configured, the admin routes answer 404: they do not exist on that gateway.
"""

import hmac
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from core.errors import NotFound, Unauthorized
from core.invokers import list_invokers
from gateway.deps import Backends, BackendsDep

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
CONTROLLER_TARGET_TTL_MS = 30_000  # controllers advertise every stratus controller.metrics.LOAD_INTERVAL_S


async def operator(request: Request, b: BackendsDep) -> Backends:
    expected = b.settings.admin_key
    if not expected:
        raise NotFound("resource", request.url.path)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise Unauthorized("The admin routes require the admin key (Authorization: Bearer <key>).")
    return b


Operator = Annotated[Backends, Depends(operator)]


@router.get("/metrics-targets")
async def metrics_targets(b: Operator) -> list[dict[str, Any]]:
    """Prometheus HTTP service discovery (`http_sd_configs`): the /metrics of every invoker not offline and
    of every controller that advertised its own lately."""
    ttl_ms = int(b.settings.heartbeat_ttl_s * 1000)
    now = int(time.time() * 1000)
    rows = await list_invokers(b.bus, b.ledger, now, ttl_ms)
    invokers = [
        {"targets": [row.metrics], "labels": {"component": "invoker", "invoker": row.invoker_id}}
        for row in rows
        if row.metrics and row.state != "offline"
    ]
    controllers = [
        {"targets": [t.address], "labels": {"component": "controller", "controller": t.controller_id}}
        for t in sorted(await b.bus.metrics_targets(), key=lambda t: t.controller_id)
        if now - t.sent_ms <= CONTROLLER_TARGET_TTL_MS
    ]
    return invokers + controllers


@router.get("/invokers")
async def invokers(b: Operator) -> list[dict[str, Any]]:
    ttl_ms = int(b.settings.heartbeat_ttl_s * 1000)
    return [row.to_api() for row in await list_invokers(b.bus, b.ledger, int(time.time() * 1000), ttl_ms)]
