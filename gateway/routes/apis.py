"""API routes as a REST resource: `/api/v1/namespaces/{ns}/routes` (PUT one, GET the list, DELETE some).

A Stratus-native stand-in for OpenWhisk's `wsk api` (which goes through system web actions and a separate
gateway, reference/openwhisk.md §5.7). The routes are served by gateway.routes.api_gateway.
"""

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from core.errors import BadRequest, NotFound
from core.models import WEB_METHODS, Cors, Route
from core.names import NAME_PATTERN, check_name
from core.stores.entities import ROUTE_BASE_PATH_MAX, ROUTE_REL_PATH_MAX
from gateway.body import model_body
from gateway.deps import BackendsDep, OwnNamespace
from gateway.openapi import extra, json_body, links, model_schema
from gateway.route_match import PARAM, SEGMENT, check_path, check_verb
from gateway.web_invoke import truthy

router = APIRouter(prefix="/api/v1/namespaces/{ns}/routes", tags=["api routes"])
ROUTE_MAX_BYTES = 64 * 1024


BASE_PATH = f"^(/{SEGMENT.pattern})+$"  # the rules of check_path and check_verb, for the schema only
REL_PATH = f"^/$|^(/({SEGMENT.pattern}|{PARAM.pattern}))+$"
BASE_PATH_RULE: JsonDict = {"pattern": BASE_PATH, "maxLength": ROUTE_BASE_PATH_MAX}
REL_PATH_RULE: JsonDict = {"pattern": REL_PATH, "maxLength": ROUTE_REL_PATH_MAX}
VERB_RULE: JsonDict = {"enum": list(WEB_METHODS)}
BasePathQuery = Annotated[str, Query(json_schema_extra=BASE_PATH_RULE)]


class RoutePut(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    base_path: str = Field(alias="basePath", json_schema_extra=BASE_PATH_RULE)
    rel_path: str = Field(alias="relPath", json_schema_extra=REL_PATH_RULE)
    verb: str = Field(json_schema_extra=VERB_RULE)
    action: str = Field(json_schema_extra={"pattern": NAME_PATTERN})
    response_type: Literal["json", "html", "http", "text", "svg"] = Field(default="json", alias="responseType")
    cors: Cors | None = None


PUT_DOC = extra(
    json_body(
        model_schema(RoutePut),
        f"The route: basePath, relPath (`{{name}}` segments become parameters), verb and a web action; a JSON "
        f"object of up to {ROUTE_MAX_BYTES // 1024} KB.",
        required=True,
    ),
    links(
        200,
        "The route as stored, with its URL.",
        ListRoutes=("listRoutes", {"basePath": "$response.body#/basePath"}),
        DeleteRoutes=(
            "deleteRoutes",
            {
                "basePath": "$response.body#/basePath",
                "relPath": "$response.body#/relPath",
                "verb": "$response.body#/verb",
            },
        ),
    ),
)


def route_url(request: Request, route: Route) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/{route.namespace}{route.base_path}{route.rel_path}"


@router.put("", operation_id="putRoute", openapi_extra=PUT_DOC)
async def put_route(request: Request, who: OwnNamespace, b: BackendsDep) -> dict[str, Any]:
    """Create or replace the route of (basePath, relPath, verb). The action must be a web action."""
    put = await model_body(request, RoutePut, max_bytes=ROUTE_MAX_BYTES, what="route")
    base_path = check_path(put.base_path, "basePath", max_length=ROUTE_BASE_PATH_MAX, templates=False)
    if base_path == "/":
        raise BadRequest("basePath must name at least one segment, e.g. /shop.")
    action = await b.entities.get_action(who.name, check_name(put.action))
    if action is None:
        raise NotFound("action", f"{who.name}/{put.action}")
    if not truthy(action.annotation("web-export")):
        raise BadRequest(f"The action '{put.action}' is not a web action: annotate it with web-export: true.")
    route = Route(
        namespace=who.name,
        base_path=base_path,
        rel_path=check_path(put.rel_path, "relPath", max_length=ROUTE_REL_PATH_MAX, templates=True),
        verb=check_verb(put.verb),
        action=put.action,
        response_type=put.response_type,
        cors=put.cors,
        updated=int(time.time() * 1000),
    )
    await b.entities.put_route(route)
    b.routes.invalidate(who.name)
    return route.to_api() | {"url": route_url(request, route)}


@router.get("", operation_id="listRoutes")
async def list_routes(
    request: Request,
    who: OwnNamespace,
    b: BackendsDep,
    basePath: Annotated[str | None, Query(json_schema_extra=BASE_PATH_RULE)] = None,
) -> list[dict[str, Any]]:
    base_path = None
    if basePath is not None:
        base_path = check_path(basePath, "basePath", max_length=ROUTE_BASE_PATH_MAX, templates=False)
    found = await b.entities.list_routes(who.name)
    return [r.to_api() | {"url": route_url(request, r)} for r in found if base_path in (None, r.base_path)]


@router.delete("", operation_id="deleteRoutes")
async def delete_routes(
    request: Request,
    who: OwnNamespace,
    b: BackendsDep,
    basePath: BasePathQuery,
    relPath: Annotated[str | None, Query(json_schema_extra=REL_PATH_RULE)] = None,
    verb: Annotated[str | None, Query(json_schema_extra=VERB_RULE)] = None,
) -> list[dict[str, Any]]:
    """Delete the base path's routes, or only those of one relative path and/or verb; 404 when none."""
    base_path = check_path(basePath, "basePath", max_length=ROUTE_BASE_PATH_MAX, templates=False)
    rel_path = None
    if relPath is not None:
        rel_path = check_path(relPath, "relPath", max_length=ROUTE_REL_PATH_MAX, templates=True)
    deleted = await b.entities.delete_routes(who.name, base_path, rel_path, None if verb is None else check_verb(verb))
    b.routes.invalidate(who.name)
    if not deleted:
        raise NotFound("route", f"{who.name}{base_path}{rel_path or ''}")
    return [r.to_api() for r in deleted]
