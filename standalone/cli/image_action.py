"""`stratus image build-action TAG`: a custom image for blackbox actions, built offline."""

from pathlib import Path

import docker
import typer
from rich.console import Console

import images
from core import kinds
from core.errors import StratusError
from images.action import ActionImage, build_action_image

console = Console(stderr=True)
REQUIREMENTS = typer.Option(
    None, "--requirements", "-r", exists=True, dir_okay=False, help="A requirements.txt (wheels only)."
)
APT = typer.Option(None, "--apt", help="A Debian package to install (repeatable).")
CODE = typer.Option(None, "--code", exists=True, help="Bake the function in: a .py file (as __main__.py) or a folder.")


def engine() -> docker.DockerClient:
    try:
        return images.engine()
    except StratusError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


def build_action(
    tag: str = typer.Argument(..., help="The image to build, e.g. myteam/thumbnails:1.0."),
    kind: str = typer.Option(kinds.DEFAULT.kind, "--kind", "-k", help="The runtime kind it builds on."),
    requirements: Path = REQUIREMENTS,
    apt: list[str] = APT,
    code: Path = CODE,
    repository: str = typer.Option(
        kinds.RUNTIME_REPOSITORY, envvar="STRATUS_RUNTIME_REPOSITORY", help="Where the runtime images are."
    ),
) -> None:
    """Build an image for `exec.kind: blackbox` actions: the kind's runtime image plus Python packages (from
    wheels downloaded here) and Debian packages. Build it on every invoker's Docker engine: none is pulled."""
    try:
        runtime = kinds.runtime(kind)
    except kinds.UnknownKind as exc:
        console.print(f"[red]{exc}[/red] Runtime kinds: {', '.join(r.kind for r in kinds.RUNTIMES)}.")
        raise typer.Exit(2) from exc
    if requirements is None and not apt and code is None:
        console.print("[red]Nothing to add: give --requirements, --apt or --code.[/red]")
        raise typer.Exit(2)
    spec = ActionImage(tag, runtime, requirements, tuple(apt or ()), code)
    client = engine()
    try:
        with console.status(f"building {tag}…"):
            result = build_action_image(client, spec, repository=repository, say=console.print)
    except StratusError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"[green]{result.tag}[/green] built ({result.image_id[7:19]}); use it with")
    console.print(f'  {{"exec": {{"kind": "blackbox", "image": "{result.tag}", "code": ...}}}}', markup=False)
