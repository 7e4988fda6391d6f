"""`stratus image build` (the runtime images, built offline when no registry is reachable) and
`stratus image build-action` (a custom image for blackbox actions)."""

import typer
from rich.console import Console

from core import kinds
from core.errors import StratusError
from images import ensure_runtime_image
from images.errors import BaseUnavailable, ImageBuildError
from standalone.cli.image_action import build_action, engine

app = typer.Typer(help="Build the images functions run in.", no_args_is_help=True)
app.command("build-action")(build_action)
console = Console(stderr=True)
KINDS = typer.Option(None, "--kind", "-k", help=f"A kind to build (repeatable); default {kinds.DEFAULT.kind}.")


@app.command("build")
def build(
    kind: list[str] = KINDS,
    every: bool = typer.Option(False, "--all", help="Every kind; one that cannot be built here is skipped."),
    base_image: str = typer.Option(
        "",
        envvar="STRATUS_BASE_IMAGE",
        help="BASE_IMAGE (default python:<version>-slim); when it cannot be pulled, a local base is built.",
    ),
    mirror: str = typer.Option(
        "", help="The archive of the kind's local base (default: the host's Debian mirror, or archive.ubuntu.com)."
    ),
    repository: str = typer.Option(
        kinds.RUNTIME_REPOSITORY, envvar="STRATUS_RUNTIME_REPOSITORY", help="Images are <repository>:<version>."
    ),
    force: bool = typer.Option(False, help="Rebuild even when nothing changed."),
) -> None:
    """Build runtime images (a no-op for each whose inputs did not change)."""
    try:
        runtimes = list(kinds.RUNTIMES) if every else [kinds.runtime(k) for k in kind or [kinds.DEFAULT.kind]]
    except kinds.UnknownKind as exc:
        console.print(f"[red]{exc}[/red] Runtime kinds: {', '.join(r.kind for r in kinds.RUNTIMES)}.")
        raise typer.Exit(2) from exc
    if (base_image or mirror) and len(runtimes) > 1:
        console.print("[red]--base-image and --mirror name the base of one kind: give one --kind with them.[/red]")
        raise typer.Exit(2)
    client = engine()
    failed = False
    for runtime in runtimes:
        try:
            with console.status(f"building {runtime.kind}…"):
                result = ensure_runtime_image(
                    client,
                    runtime,
                    repository=repository,
                    base_image=base_image or None,
                    mirror=mirror or None,
                    force=force,
                    say=console.print,
                )
        except ImageBuildError as exc:
            if every and isinstance(exc, BaseUnavailable):
                console.print(f"[yellow]{runtime.kind}: skipped[/yellow] {exc}")
                continue
            console.print(f"[red]{runtime.kind}: {exc}[/red]")
            failed = True
            continue
        except StratusError as exc:
            console.print(f"[red]{runtime.kind}: {exc}[/red]")
            failed = True
            continue
        state = "built" if result.built else "up to date"
        console.print(f"[green]{result.tag}[/green] ({runtime.kind}) {state} ({result.image_id[7:19]})")
    if failed:
        raise typer.Exit(1)
