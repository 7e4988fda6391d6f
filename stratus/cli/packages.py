"""`stratus package create|update|bind|get|list|delete`: packages (shared parameters) and bindings."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from stratus.cli import output as out
from stratus.cli.pairs import ANNOTATION, PARAM, PARAM_FILE, PairCommand, given_entries

app = typer.Typer(help="Packages: actions grouped with shared parameters; bindings of them.", no_args_is_help=True)
NAME = typer.Argument(..., help="Package name.")
SHARED = typer.Option(None, "--shared/--no-shared", help="Publish: readable and invocable by every namespace.")


def _write(
    ctx: typer.Context, name: str, param_file: Path | None, shared: bool | None, **extra: object
) -> dict[str, Any]:
    body: dict[str, object] = dict(extra) | given_entries(ctx, param_file)
    if shared is not None:
        body["publish"] = shared
    overwrite = bool(body.pop("overwrite", False))
    with out.client() as client:
        return client.put_package(name, body, overwrite=overwrite)


def _write_command(overwrite: bool) -> Callable[..., None]:
    """`create` and `update`: the same options, written once; they differ in `overwrite`."""

    def command(
        ctx: typer.Context,
        name: str = NAME,
        param: list[str] = PARAM,
        param_file: Path = PARAM_FILE,
        annotation: list[str] = ANNOTATION,
        shared: bool = SHARED,
    ) -> None:
        written = _write(ctx, name, param_file, shared, overwrite=overwrite)
        out.console.print(f"ok: {'updated' if overwrite else 'created'} package {written['name']}")

    return command


create = app.command(
    "create",
    cls=PairCommand,
    help="Create a package; its parameters reach every action in it (under the action's own).",
)(_write_command(overwrite=False))
update = app.command(
    "update", cls=PairCommand, help="Update a package (or create it): parameters are replaced when given."
)(_write_command(overwrite=True))


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
    out.print_entity("packages", name)


@app.command("list")
def list_(
    limit: int = out.LIMIT_OPTION,
    as_json: bool = out.JSON_OPTION,
) -> None:
    """List packages and bindings, newest first."""
    found = out.listed("packages", limit, as_json)
    if found is None:
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
