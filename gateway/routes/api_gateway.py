"""Serving API routes: `{verb} /api/{namespace}/{basePath}/{relPath}` runs the route's web action."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException

from core.errors import NotFound
from core.models import WEB_METHODS
from gateway.deps import BackendsDep
from gateway.route_match import find_route
from gateway.web_hosts import WEB_HOST_KEY
from gateway.web_invoke import WebTarget, serve

router = APIRouter(tags=["api routes"])


class RouteNamespace(Convertor[str]):
    """A namespace segment other than `v1`: /api/v1/... stays the resource API's (its 404s and 405s)."""

    regex = "(?!v1/)[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("route_namespace", RouteNamespace())


@router.api_route("/api/{namespace:route_namespace}/{path:path}", methods=list(WEB_METHODS), include_in_schema=False)
async def api_route(namespace: str, path: str, request: Request, b: BackendsDep) -> Response:
    try:
        hit = find_route(await b.routes.of(namespace), "/" + path, request.method)
    except LookupError as exc:
        raise HTTPException(405) from exc
    if hit is None:
        raise NotFound("route", f"/api/{namespace}/{path}")
    own_host = WEB_HOST_KEY in request.scope  # <namespace>.<web domain>: the whole host is the namespace's
    target = WebTarget(
        namespace=namespace,
        package="default",
        action=hit.route.action,
        extension=hit.route.response_type,
        extra_path=hit.rel_path,
        path_params=hit.path_params,
        cors=hit.route.cors,
        url_prefix=f"/api{hit.route.base_path}" if own_host else f"/api/{namespace}{hit.route.base_path}",
        namespace_root="/" if own_host else f"/api/{namespace}/",
    )
    return await serve(request, b, target)
