"""Packages and bindings: validating a PUT, and resolving an action reference through them (no HTTP here).

An action is addressed as `name` (the namespace's default package), `pkg/name`, or fully qualified as
`/ns/name` or `/ns/pkg/name` (`_` for the caller's namespace). Through a package, the action runs with the
package's parameters under its own; through a binding, with the bound package's, then the binding's, then
its own (OpenWhisk: package <- binding <- action). Another namespace's package is visible only when
published.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.entity_updates import merged_annotations, written_fields
from core.errors import BadRequest, Conflict, Forbidden
from core.models import Action, EntityRef, KeyValue, Package
from core.names import check_name
from core.stores.entities import EntityStore

RESERVED = "default"


class BindingPut(BaseModel):
    model_config = ConfigDict(strict=True)

    namespace: str | None = None
    name: str | None = None


class PackagePut(BaseModel):
    """The body of PUT …/packages/{name}; namespace and name in it are ignored."""

    model_config = ConfigDict(strict=True, populate_by_name=True)

    binding: BindingPut | None = None
    parameters: list[KeyValue] | None = None
    annotations: list[KeyValue] | None = None
    publish: bool | None = None
    version: str | None = None
    del_annotations: list[str] | None = Field(default=None, alias="delAnnotations")


def merge(*layers: list[KeyValue]) -> list[KeyValue]:
    """Parameters by key, later layers winning, in first-seen order."""
    merged: dict[str, KeyValue] = {}
    for layer in layers:
        for item in layer:
            merged[item.key] = item
    return list(merged.values())


def split_fqn(caller: str, reference: str) -> tuple[str, str]:
    """(namespace, path in it) of `name`, `pkg/name`, `/ns/name` or `/ns/pkg/name`."""
    if not reference.startswith("/"):
        return caller, reference
    parts = reference[1:].split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise BadRequest(f"'{reference}' is not a fully qualified name (/namespace/[package/]name).")
    namespace = caller if parts[0] == "_" else parts[0]
    return namespace, "/".join(parts[1:])


def check_path(path: str) -> str:
    parts = path.split("/")
    if len(parts) > 2:
        raise BadRequest(f"'{path}' is not a valid action name ([package/]name).")
    for part in parts:
        check_name(part)
    return path


def check_reference(reference: str) -> str:
    """`[pkg/]name` or `/ns/[pkg/]name`, each part a valid name."""
    if not reference.startswith("/"):
        return check_path(reference)
    split_fqn("_", reference)  # the shape
    for part in reference[1:].split("/"):
        check_name(part)
    return reference


async def binding_target(entities: EntityStore, caller: str, given: BindingPut) -> EntityRef:
    if not given.name:
        raise BadRequest("A binding needs the name of the package it binds.")
    namespace = caller if given.namespace in (None, "", "_") else str(given.namespace)
    target = await entities.get_package(namespace, given.name)
    if target is None or (namespace != caller and not target.publish):
        raise BadRequest(f"The binding references a missing package: '{namespace}/{given.name}'.")
    if target.binding is not None:
        raise BadRequest(f"The binding references a binding ('{target.fqn}'); bind the package itself.")
    return EntityRef(namespace=namespace, name=given.name)


async def apply_put(
    entities: EntityStore, existing: Package | None, put: PackagePut, *, namespace: str, name: str, now_ms: int
) -> Package:
    if name == RESERVED:
        raise BadRequest(f"The package name '{RESERVED}' is reserved.")
    wants_binding = put.binding is not None and bool(put.binding.name or put.binding.namespace)
    if existing is not None and existing.binding is None and wants_binding:
        raise Conflict("A package cannot be turned into a binding.")
    binding = existing.binding if existing else None
    if wants_binding:
        binding = await binding_target(entities, namespace, put.binding)  # type: ignore[arg-type]
    annotations = merged_annotations(existing, put.annotations, put.del_annotations)
    if binding is not None:
        annotations["binding"] = KeyValue(key="binding", value=binding.model_dump())
    return Package(
        namespace=namespace,
        name=name,
        binding=binding,
        parameters=put.parameters if put.parameters is not None else (existing.parameters if existing else []),
        annotations=list(annotations.values()),
        **written_fields(existing, put.version, put.publish, now_ms),
    )


async def resolve_action(entities: EntityStore, caller: str, reference: str) -> Action | None:
    """The action to run for `reference`, its parameters merged through its package (and binding).
    None when it (or its package) does not exist or is not visible to `caller`."""
    namespace, path = split_fqn(caller, reference)
    package_name, _, name = check_path(path).rpartition("/")
    if not package_name:
        return await entities.get_action(namespace, name) if namespace == caller else None
    package = await entities.get_package(namespace, package_name)
    if package is None or (namespace != caller and not package.publish):
        return None
    layers = [package.parameters]
    annotations: list[KeyValue] = []
    if package.binding is not None:
        bound = await entities.get_package(package.binding.namespace, package.binding.name)
        if bound is None or (bound.namespace != namespace and not bound.publish):
            return None
        layers.insert(0, bound.parameters)
        annotations.append(KeyValue(key="binding", value=package.fqn))
        package = bound
    action = await entities.get_action(package.fqn, name)
    if action is None:
        return None
    return action.model_copy(
        update={"parameters": merge(*layers, action.parameters), "annotations": merge(action.annotations, annotations)}
    )


async def package_view(entities: EntityStore, package: Package) -> dict[str, Any]:
    """GET of a package: with its actions and feeds; a binding shows the bound package under its own parameters."""
    shown = package
    if package.binding is not None:
        bound = await entities.get_package(package.binding.namespace, package.binding.name)
        if bound is not None:
            shown = bound
    body = package.to_api()
    inherited = shown.parameters if shown is not package else []
    body["parameters"] = [p.model_dump(exclude_none=True) for p in merge(inherited, package.parameters)]
    members = await entities.package_actions(shown.namespace, shown.name)
    rows = [
        {"name": a.name, "version": a.version, "annotations": [x.model_dump(exclude_none=True) for x in a.annotations]}
        for a in members
    ]
    body["actions"] = [r for r, a in zip(rows, members, strict=True) if a.annotation("feed") is None]
    body["feeds"] = [r for r, a in zip(rows, members, strict=True) if a.annotation("feed") is not None]
    return body


def check_readable(caller: str, package: Package) -> None:
    if package.namespace != caller and not package.publish:
        raise Forbidden(f"The supplied authentication is not authorized to access '{package.fqn}'.")
