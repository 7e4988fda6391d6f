"""Unauthenticated endpoints: API description and liveness."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from core import kinds, metrics
from core import limits as L

router = APIRouter(tags=["info"])


@router.get("/api/v1")
async def api_info() -> dict[str, Any]:
    return {
        "description": "Stratus, an OpenWhisk-compatible API",
        "api_version": "1.0.0",
        "api_version_path": "v1",
        "swagger_paths": {"ui": "/docs", "api-docs": "/openapi.json"},
    }


@router.get("/")
async def root() -> dict[str, Any]:
    return {
        "description": "Stratus",
        "api_paths": ["/api/v1"],
        "limits": {
            "min_action_duration": L.TIMEOUT.minimum,
            "max_action_duration": L.TIMEOUT.maximum,
            "min_action_memory": L.MEMORY.minimum * L.MB,
            "max_action_memory": L.MEMORY.maximum * L.MB,
            "min_action_logs": L.LOGS.minimum * L.MB,
            "max_action_logs": L.LOGS.maximum * L.MB,
        },
        "runtimes": kinds.listing(),
    }


@router.get("/ping", response_class=PlainTextResponse)
async def ping() -> str:
    return "pong"


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics() -> Response:
    """Prometheus exposition: this API process's metrics (in `stratus standalone`, every API worker's and the
    controller's, summed; core.metrics)."""
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)
