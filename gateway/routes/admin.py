"""Operator routes: `GET /api/v1/admin/invokers` lists invokers with state, load and warm pools;
`GET /api/v1/admin/metrics-targets` is Prometheus service discovery for the invokers' /metrics.

Guarded by the admin key (STRATUS_ADMIN_KEY), sent as `Authorization: Bearer <key>`. With no admin
key configured, the admin routes answer 404: they do not exist on that gateway.
"""

import hmac
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from gateway.deps import Backends, BackendsDep
from stratus.errors import NotFound, Unauthorized
from stratus.invokers import list_invokers

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


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
    """Prometheus HTTP service discovery (`http_sd_configs`): the /metrics of every invoker not offline."""
    ttl_ms = int(b.settings.heartbeat_ttl_s * 1000)
    rows = await list_invokers(b.bus, b.ledger, int(time.time() * 1000), ttl_ms)
    return [
        {"targets": [row.metrics], "labels": {"invoker": row.invoker_id}}
        for row in rows
        if row.metrics and row.state != "offline"
    ]


@router.get("/invokers")
async def invokers(b: Operator) -> list[dict[str, Any]]:
    ttl_ms = int(b.settings.heartbeat_ttl_s * 1000)
    return [row.to_api() for row in await list_invokers(b.bus, b.ledger, int(time.time() * 1000), ttl_ms)]
