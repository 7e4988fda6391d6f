"""Web actions: `/api/v1/web/{namespace}/{package}/{action}[.{ext}][/{extra path}]`, no key needed
unless the action asks for one (reference/openwhisk.md §5)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.models import WEB_METHODS
from gateway.deps import BackendsDep
from gateway.web_cors import WEB_ACTION_CORS
from gateway.web_hosts import WEB_HOST_KEY
from gateway.web_invoke import WebTarget, serve
from gateway.web_request import split_action_segment

router = APIRouter(tags=["web actions"])


async def web_action(namespace: str, package: str, rest: str, request: Request, b: BackendsDep) -> Response:
    """Run the exported action with the request as its arguments; its result becomes the response."""
    name, extension, extra_path = split_action_segment(rest)
    segment = rest.partition("/")[0]
    own_host = WEB_HOST_KEY in request.scope  # <namespace>.<web domain>: the whole host is the namespace's
    target = WebTarget(
        namespace=namespace,
        package=package,
        action=name,
        extension=extension,
        extra_path=extra_path,
        projection=extra_path,
        cors=WEB_ACTION_CORS,
        url_prefix=f"/{package}/{segment}" if own_host else f"/api/v1/web/{namespace}/{package}/{segment}",
        namespace_root="/" if own_host else f"/api/v1/web/{namespace}/",
    )
    return await serve(request, b, target)


for _method in WEB_METHODS:  # a route per method: one route of several methods gets one operation id for all
    router.add_api_route(
        "/api/v1/web/{namespace}/{package}/{rest:path}",
        web_action,
        methods=[_method],
        operation_id=f"webAction{_method.title()}",
    )
