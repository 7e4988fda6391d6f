"""`stratus package create|update|bind|get|list|delete`: packages (shared parameters) and bindings."""

from pathlib import Path
from typing import Any

import typer

from stratus.cli import output as out
from stratus.cli.pairs import ANNOTATION, PARAM, PARAM_FILE, PairCommand, given_params, pairs
from stratus.client.action_body import key_values

app = typer.Typer(help="Packages: actions grouped with shared parameters; bindings of them.", no_args_is_help=True)
NAME = typer.Argument(..., help="Package name.")
SHARED = typer.Option(None, "--shared/--no-shared", help="Publish: readable and invocable by every namespace.")


def _write(
    ctx: typer.Context, name: str, param_file: Path | None, shared: bool | None, **extra: object
) -> dict[str, Any]:
    body: dict[str, object] = dict(extra)
    params = given_params(ctx, param_file)
    if params is not None:
        body["parameters"] = key_values(params)
    notes = pairs(ctx, "annotation")
    if notes:
        body["annotations"] = key_values(notes)
    if shared is not None:
        body["publish"] = shared
    overwrite = bool(body.pop("overwrite", False))
    with out.client() as client:
        return client.put_package(name, body, overwrite=overwrite)


@app.command(cls=PairCommand)
def create(
    ctx: typer.Context,
    name: str = NAME,
    param: list[str] = PARAM,
    param_file: Path = PARAM_FILE,
    annotation: list[str] = ANNOTATION,
    shared: bool = SHARED,
) -> None:
    """Create a package; its parameters reach every action in it (under the action's own)."""
    created = _write(ctx, name, param_file, shared)
    out.console.print(f"ok: created package {created['name']}")


@app.command(cls=PairCommand)
def update(
    ctx: typer.Context,
    name: str = NAME,
    param: list[str] = PARAM,
    param_file: Path = PARAM_FILE,
    annotation: list[str] = ANNOTATION,
    shared: bool = SHARED,
) -> None:
    """Update a package (or create it): parameters are replaced when given."""
    updated = _write(ctx, name, param_file, shared, overwrite=True)
    out.console.print(f"ok: updated package {updated['name']}")


@app.command(cls=PairCommand)
def bind(
    ctx: typer.Context,
    package: str = typer.Argument(..., help="The package to bind: name, or /namespace/name (a shared one)."),
    name: str = typer.Argument(..., help="The binding's name."),
    param: list[str] = PARAM,
    param_file: Path = PARAM_FILE,
    annotation: list[str] = ANNOTATION,
) -> None:
    """Create a binding: the package's actions, reached as NAME/action, with these parameters over the package's."""
    namespace, _, bound = package.strip("/").rpartition("/") if package.startswith("/") else ("_", "", package)
    _write(ctx, name, param_file, None, binding={"namespace": namespace or "_", "name": bound})
    out.console.print(f"ok: created binding {name} of {package}")


@app.command()
def get(name: str = NAME) -> None:
    """Show a package (with its actions) as JSON."""
    with out.client() as client:
        out.print_json(client.get_entity("packages", name))


@app.command("list")
def list_(
    limit: int = out.LIMIT_OPTION,
    as_json: bool = out.JSON_OPTION,
) -> None:
    """List packages and bindings, newest first."""
    with out.client() as client:
        found = client.list_entities("packages", limit=limit)
    if as_json:
        out.print_json(found)
        return
    rows = [
        (p["name"], p["version"], "shared" if p["publish"] else "private", _bound(p["binding"]), out.when(p["updated"]))
        for p in found
    ]
    out.table(["name", "version", "visibility", "binding of", "updated (UTC)"], rows)


def _bound(binding: object) -> str:
    return f"/{binding['namespace']}/{binding['name']}" if isinstance(binding, dict) else ""


@app.command()
def delete(name: str = NAME, force: bool = typer.Option(False, "--force", help="Delete its actions too.")) -> None:
    """Delete a package (refused while it holds actions, unless --force) or a binding."""
    with out.client() as client:
        client.delete_entity("packages", name, force=force)
    out.console.print(f"ok: deleted package {name}")
