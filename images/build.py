"""The runtime images, one per kind (`core.kinds`): each built once, rebuilt only when its inputs change
(a hash kept in a label)."""

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import APIError, BuildError, ImageNotFound
from docker.models.images import Image

from core.kinds import RUNTIME_REPOSITORY, Runtime
from images.base import ensure_base_image
from images.errors import ImageBuildError
from images.progress import Progress, quiet

log = logging.getLogger(__name__)

HASH_LABEL = "org.stratus.build-hash"


@dataclass(frozen=True)
class BuildResult:
    image_id: str
    tag: str
    built: bool  # False: the image was up to date


def engine() -> docker.DockerClient:
    """The local Docker engine, answering; ImageBuildError saying what to do when it does not."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise ImageBuildError(f"Cannot reach the Docker engine: {exc}\nStart Docker, or check DOCKER_HOST.") from exc
    return client


def runtime_context() -> Path:
    """runtime-image/ beside the images package (an editable install or a source checkout)."""
    context = Path(__file__).resolve().parents[1] / "runtime-image"
    if not (context / "Dockerfile").exists():
        raise ImageBuildError(
            f"{context}/Dockerfile not found: build images from a source checkout installed with `pip install -e .`."
        )
    return context


def input_hash(context: Path, base_id: str, kind: str) -> str:
    digest = hashlib.sha256(f"{base_id}\n{kind}".encode())
    files = [context / "Dockerfile", *sorted((context / "actionproxy").glob("*.py"))]
    for path in files:
        digest.update(path.relative_to(context).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_runtime_image(
    client: docker.DockerClient,
    runtime: Runtime,
    *,
    repository: str = RUNTIME_REPOSITORY,
    base_image: str | None = None,
    mirror: str | None = None,
    force: bool = False,
    say: Progress = quiet,
) -> BuildResult:
    """The image of `runtime`'s kind, FROM `base_image` (default: its python:<version>-slim, else a local
    base of the suite that ships that Python, from `mirror` when given)."""
    context = runtime_context()
    tag = runtime.image(repository)
    base = ensure_base_image(
        client,
        base_image or runtime.base_image,
        say,
        offline=runtime.offline_base,
        python=runtime.version,
        mirror=mirror,
    )
    wanted = input_hash(context, str(client.images.get(base).id), runtime.kind)
    current = _current(client, tag)
    if current is not None and current.labels.get(HASH_LABEL) == wanted and not force:
        say(f"{tag} is up to date")
        return BuildResult(str(current.id), tag, built=False)
    say(f"building {tag} FROM {base}")
    buildargs = {"BASE_IMAGE": base, "KIND": runtime.kind}
    image_id = build_image(client, context, tag, buildargs, {HASH_LABEL: wanted}, say)
    say(f"built {tag} ({image_id[7:19]})")
    return BuildResult(image_id, tag, built=True)


def _current(client: docker.DockerClient, tag: str) -> Image | None:
    try:
        return client.images.get(tag)
    except ImageNotFound:
        return None


def build_image(
    client: docker.DockerClient,
    context: Path,
    tag: str,
    buildargs: dict[str, str],
    labels: dict[str, str],
    say: Progress,
) -> str:
    try:
        stream = client.api.build(
            path=str(context), tag=tag, buildargs=buildargs, labels=labels, rm=True, forcerm=True, decode=True
        )
        for chunk in stream:
            if "error" in chunk:
                raise ImageBuildError(f"building {tag} failed: {chunk['error'].strip()}")
            line = str(chunk.get("stream", "")).strip()
            if line.startswith("Step "):
                say("  " + line)
    except (APIError, BuildError) as exc:
        raise ImageBuildError(f"building {tag} failed: {exc}") from exc
    return str(client.images.get(tag).id)
