"""`stratus deploy FILE` and `stratus undeploy FILE`: the actions a manifest describes (stratus.client.manifest)."""

from pathlib import Path
from typing import Any

import typer

from stratus.cli import output as out
from stratus.client import Client
from stratus.client.errors import NotFoundError
from stratus.client.manifest import Change, desired_body, load_manifest, plan

MANIFEST = typer.Argument(..., help="The manifest (YAML), e.g. stratus.yaml.")
COLOURS = {"created": "green", "updated": "yellow", "unchanged": "dim", "deleted": "red", "absent": "dim"}


def deploy(
    manifest: Path = MANIFEST,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would change."),
    as_json: bool = out.JSON_OPTION,
) -> None:
    """Create or update the manifest's actions; unchanged ones are left alone."""
    changes: list[Change] = []
    with out.client() as client:
        spec = load_manifest(manifest)
        wanted = {
            name: desired_body(action, manifest.parent) for name, action in spec.actions.items()
        }  # all valid first
        with out.errors.status("deploying…") as progress:
            for name, desired in wanted.items():
                progress.update(f"deploying {name}…")
                changes.append(_apply(client, name, desired, dry_run))
    _report([(c.name, c.verdict, ", ".join(c.reasons)) for c in changes], as_json, dry_run)


def _apply(client: Client, name: str, desired: dict[str, Any], dry_run: bool) -> Change:
    try:
        existing = client.get_action(name)
    except NotFoundError:
        existing = None
    change = plan(name, desired, existing)
    if change.verdict != "unchanged" and not dry_run:
        client.put_action(name, desired, overwrite=True)
    return change


def undeploy(
    manifest: Path = MANIFEST,
    as_json: bool = out.JSON_OPTION,
) -> None:
    """Delete the manifest's actions (those already gone are reported as absent)."""
    rows: list[tuple[str, str, str]] = []
    with out.client() as client:
        for name in load_manifest(manifest).actions:
            try:
                client.delete_action(name)
                rows.append((name, "deleted", ""))
            except NotFoundError:
                rows.append((name, "absent", ""))
    _report(rows, as_json, dry_run=False)


def _report(rows: list[tuple[str, str, str]], as_json: bool, dry_run: bool) -> None:
    if as_json:
        out.print_json([{"name": n, "change": v, "fields": f.split(", ") if f else []} for n, v, f in rows])
        return
    for name, verdict, fields in rows:
        detail = f" ({fields})" if fields else ""
        out.console.print(f"[{COLOURS[verdict]}]{verdict:<9}[/] action {name}{detail}")
    if dry_run:
        out.console.print("dry run: nothing was changed")
