"""`stratus image build`: the runtime image, built offline when no registry is reachable."""

import docker
import typer
from rich.console import Console

from stratus.config import DEFAULT_RUNTIME_IMAGE
from stratus.errors import StratusError
from stratus.images import ensure_runtime_image

app = typer.Typer(help="Build the images functions run in.", no_args_is_help=True)
console = Console(stderr=True)


@app.command("build")
def build(
    base_image: str = typer.Option(
        "python:3.11-slim",
        envvar="STRATUS_BASE_IMAGE",
        help="BASE_IMAGE; when it cannot be pulled, a local Debian base is built.",
    ),
    tag: str = typer.Option(DEFAULT_RUNTIME_IMAGE, help="Tag of the runtime image."),
    force: bool = typer.Option(False, help="Rebuild even when nothing changed."),
) -> None:
    """Build the runtime image (a no-op when its inputs did not change)."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        console.print(f"[red]Cannot reach the Docker engine:[/red] {exc}\nStart Docker, or check DOCKER_HOST.")
        raise typer.Exit(1) from exc
    try:
        with console.status("building images…"):
            result = ensure_runtime_image(client, base_image=base_image, tag=tag, force=force, say=console.print)
    except StratusError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"[green]{result.tag}[/green] {'built' if result.built else 'up to date'} ({result.image_id[7:19]})")
