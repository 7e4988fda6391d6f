"""`stratus deploy FILE` and `stratus undeploy FILE`: the actions a manifest describes (stratus.client.manifest)."""

import contextlib
from pathlib import Path
from typing import Any

import typer

from stratus.cli import output as out
from stratus.client import Client
from stratus.client.errors import ClientError, NotFoundError
from stratus.client.manifest import (
    Change,
    Manifest,
    desired_body,
    load_manifest,
    plan,
    plan_entity,
    plan_route,
    put_body,
)

MANIFEST = typer.Argument(..., help="The manifest (YAML), e.g. stratus.yaml.")
COLOURS = {"created": "green", "updated": "yellow", "unchanged": "dim", "deleted": "red", "absent": "dim"}


def deploy(
    manifest: Path = MANIFEST,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would change."),
    as_json: bool = out.JSON_OPTION,
) -> None:
    """Create or update the manifest's packages, actions (sequences last), triggers, rules, then its routes;
    unchanged ones are left alone."""
    rows: list[tuple[str, Change]] = []
    with out.client() as client:
        spec = load_manifest(manifest)
        # every action is read and checked before the first one is written
        wanted = {name: desired_body(spec.actions[name], manifest.parent) for name in spec.ordered_actions()}
        with out.errors.status("deploying…") as progress:
            for name, package in spec.packages.items():
                rows.append(("package", _apply_entity(client, "packages", name, package.body(), dry_run)))
            for name, desired in wanted.items():
                progress.update(f"deploying {name}…")
                rows.append(("action", _apply(client, name, desired, dry_run)))
            for name, trigger in spec.triggers.items():
                change = _apply_entity(client, "triggers", name, trigger.body(), dry_run)
                if trigger.feed and change.verdict != "unchanged" and not dry_run:
                    client.feed(trigger.feed, "CREATE", f"/{client.namespace}/{name}", trigger.feed_params)
                rows.append(("trigger", change))
            for name, rule in spec.rules.items():
                rows.append(("rule", _apply_entity(client, "rules", name, rule.model_dump(), dry_run)))
            rows += [("route", change) for change in _apply_routes(client, spec, dry_run)]
    _report([(kind, c.name, c.verdict, ", ".join(c.reasons)) for kind, c in rows], as_json, dry_run)


def _apply(client: Client, name: str, desired: dict[str, Any], dry_run: bool) -> Change:
    try:
        existing = client.get_action(name)
    except NotFoundError:
        existing = None
    change = plan(name, desired, existing)
    if change.verdict != "unchanged" and not dry_run:
        client.put_action(name, put_body(desired, change), overwrite=True)
    return change


def _apply_entity(client: Client, collection: str, name: str, desired: dict[str, Any], dry_run: bool) -> Change:
    try:
        existing = client.get_entity(collection, name)
    except NotFoundError:
        existing = None
    change = plan_entity(name, desired, existing)
    if change.verdict != "unchanged" and not dry_run:
        client.put_entity(collection, name, desired, overwrite=existing is not None)
    return change


def _apply_routes(client: Client, spec: Manifest, dry_run: bool) -> list[Change]:
    changes = []
    for route in spec.routes:
        change = plan_route(route, client.list_routes(base_path=route.basePath))
        if change.verdict != "unchanged" and not dry_run:
            client.put_route(route.model_dump())
        changes.append(change)
    return changes


def undeploy(
    manifest: Path = MANIFEST,
    as_json: bool = out.JSON_OPTION,
) -> None:
    """Delete the manifest's rules, triggers, routes, actions and packages (those already gone: absent)."""
    rows: list[tuple[str, str, str, str]] = []
    with out.client() as client:
        spec = load_manifest(manifest)
        for name in spec.rules:
            rows.append(("rule", name, _delete(client, "rules", name), ""))
        for name, trigger in spec.triggers.items():
            if trigger.feed:
                with contextlib.suppress(ClientError):
                    client.feed(trigger.feed, "DELETE", f"/{client.namespace}/{name}")
            rows.append(("trigger", name, _delete(client, "triggers", name), ""))
        for route in spec.routes:
            try:
                client.delete_routes(route.basePath, rel_path=route.relPath, verb=route.verb.upper())
                rows.append(("route", route.label, "deleted", ""))
            except NotFoundError:
                rows.append(("route", route.label, "absent", ""))
        for name in reversed(spec.ordered_actions()):
            try:
                client.delete_action(name)
                rows.append(("action", name, "deleted", ""))
            except NotFoundError:
                rows.append(("action", name, "absent", ""))
        for name in spec.packages:
            rows.append(("package", name, _delete(client, "packages", name), ""))
    _report(rows, as_json, dry_run=False)


def _delete(client: Client, collection: str, name: str) -> str:
    try:
        client.delete_entity(collection, name)
    except NotFoundError:
        return "absent"
    return "deleted"


def _report(rows: list[tuple[str, str, str, str]], as_json: bool, dry_run: bool) -> None:
    if as_json:
        out.print_json(
            [{"kind": k, "name": n, "change": v, "fields": f.split(", ") if f else []} for k, n, v, f in rows]
        )
        return
    for kind, name, verdict, fields in rows:
        detail = f" ({fields})" if fields else ""
        out.console.print(f"[{COLOURS[verdict]}]{verdict:<9}[/] {kind} {name}{detail}", highlight=False)
    if dry_run:
        out.console.print("dry run: nothing was changed")
