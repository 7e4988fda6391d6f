"""Packages and bindings: create or update (PUT), get (with its actions), list, delete."""

import time
from typing import Any

from fastapi import APIRouter, Request

from core import limits as L
from core import packages
from core.entity_updates import check_overwrite
from core.errors import Conflict, NotFound
from core.messages import ActionChanged
from core.names import check_name
from gateway.body import model_body
from gateway.deps import BackendsDep, Caller, OwnNamespace
from gateway.openapi import EntityName, extra, json_body, links, model_schema
from gateway.paging import Limit, Skip, list_window
from gateway.routes.actions import announce_change

router = APIRouter(prefix="/api/v1/namespaces/{ns}/packages", tags=["packages"])
PUT_DOC = extra(
    json_body(
        model_schema(packages.PackagePut),
        "The package: parameters (merged under its actions' own), annotations, publish; or a binding: "
        '`{"binding": {"namespace": "ns", "name": "pkg"}, "parameters": [...]}`.',
    ),
    links(
        200,
        "The package as stored.",
        GetPackage=("getPackage", {"name": "$request.path.name"}),
        DeletePackage=("deletePackage", {"name": "$request.path.name"}),
    ),
)


@router.get("", operation_id="listPackages")
async def list_packages(who: OwnNamespace, b: BackendsDep, limit: Limit = None, skip: Skip = None) -> Any:
    limit, skip = list_window(limit, skip)
    return [p.summary() for p in await b.entities.list_packages(who.name, limit=limit, skip=skip)]


@router.get("/{name}", operation_id="getPackage")
async def get_package(ns: str, name: EntityName, who: Caller, b: BackendsDep) -> dict[str, Any]:
    """A package of the caller's namespace, or a published one of another namespace."""
    owner = who.name if ns == "_" else ns
    package = await b.entities.get_package(owner, check_name(name))
    if package is None:
        raise NotFound("package", f"{owner}/{name}")
    packages.check_readable(who.name, package)
    return await packages.package_view(b.entities, package)


@router.put("/{name}", operation_id="putPackage", openapi_extra=PUT_DOC)
async def put_package(
    name: EntityName, request: Request, who: OwnNamespace, b: BackendsDep, overwrite: bool = False
) -> dict[str, Any]:
    check_name(name)
    put = await model_body(request, packages.PackagePut, max_bytes=L.ENTITY_PUT_MAX_BYTES, what="package")
    existing = await b.entities.get_package(who.name, name)
    check_overwrite(existing, overwrite)
    now = int(time.time() * 1000)
    package = await packages.apply_put(b.entities, existing, put, namespace=who.name, name=name, now_ms=now)
    await b.entities.put_package(package, expected_updated=existing.updated if existing else None)
    b.actions.clear()  # its actions' parameters change with it
    return package.to_api()


@router.delete("/{name}", operation_id="deletePackage")
async def delete_package(name: EntityName, who: OwnNamespace, b: BackendsDep, force: bool = False) -> dict[str, Any]:
    package = await b.entities.get_package(who.name, check_name(name))
    if package is None:
        raise NotFound("package", f"{who.name}/{name}")
    if package.binding is None:
        members = await b.entities.package_actions(who.name, name)
        if members and not force:
            raise Conflict(
                f"The package '{package.fqn}' contains {len(members)} entities; delete them first, "
                "or delete with force=true."
            )
        for action in members:
            await b.entities.delete_action(action.namespace, action.name)
            await announce_change(b, ActionChanged(fqn=action.fqn))
    deleted = await b.entities.delete_package(who.name, name)
    b.actions.clear()
    if deleted is None:
        raise NotFound("package", f"{who.name}/{name}")
    return deleted.to_api()
