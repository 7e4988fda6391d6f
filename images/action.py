"""Custom images for blackbox actions: a runtime image plus the action's dependencies, built offline.

`build_action_image` writes a build context with a generated Dockerfile:
- FROM the kind's runtime image (built first when missing), so the image speaks the action-proxy protocol;
- Debian packages with apt-get inside the build (the base's own Debian sources: the mirror the host's apt
  used for debootstrap, or python:slim's);
- Python packages from wheels downloaded on the host for the kind's CPython (manylinux, x86-64),
  installed `--no-index --target /opt/stratus/packages` (on the proxy's PYTHONPATH): inside the build PyPI
  may be unreachable or behind a proxy the image does not trust;
- optionally the function's code under /opt/stratus/action (`STRATUS_ACTION_CODE`), so an action of this
  image needs no code of its own.
The image runs as the function user like every function container.
"""

import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker

from core.kinds import RUNTIME_REPOSITORY, Runtime
from images.base import has_image
from images.build import BuildResult, build_image, ensure_runtime_image
from images.errors import ImageBuildError
from images.progress import Progress, quiet

PACKAGES_DIR = "/opt/stratus/packages"
CODE_DIR = "/opt/stratus/action"
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
ACTION_LABEL = "org.stratus.action-image"


@dataclass(frozen=True)
class ActionImage:
    tag: str
    runtime: Runtime
    requirements: Path | None = None
    apt_packages: tuple[str, ...] = ()
    code: Path | None = None  # a .py file (becomes __main__.py) or a folder


def download_wheels(requirements: Path, dest: Path, python_version: str, say: Progress = quiet) -> None:
    """The requirements' wheels for CPython `python_version` on manylinux x86-64, downloaded on the host."""
    say(f"downloading wheels for {requirements.name} (CPython {python_version}) on the host")
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--dest", str(dest)]
    argv += ["--only-binary=:all:", "--implementation", "cp", "--python-version", python_version, *platforms]
    done = subprocess.run([*argv, "-r", str(requirements)], capture_output=True, text=True)
    if done.returncode != 0:
        raise ImageBuildError(
            f"pip download failed: every requirement needs a wheel for CPython {python_version} on manylinux "
            f"x86-64 (is PyPI or a mirror reachable?):\n{done.stderr[-2000:]}"
        )


def dockerfile(spec: ActionImage, base: str) -> str:
    lines = [f"FROM {base}", "USER root"]
    if spec.apt_packages:
        packages = " ".join(shlex.quote(p) for p in spec.apt_packages)
        lines.append(
            "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
            f"{packages} >/dev/null && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb"
        )
    if spec.requirements is not None:
        lines += [
            "COPY wheels/ /tmp/stratus-wheels/",
            "RUN python3 -m venv /tmp/stratus-pip && /tmp/stratus-pip/bin/pip install --quiet --no-index "
            "--no-cache-dir --disable-pip-version-check --find-links /tmp/stratus-wheels "
            f"--target {PACKAGES_DIR} -r /tmp/stratus-wheels/requirements.txt "
            f"&& rm -rf /tmp/stratus-pip /tmp/stratus-wheels && python3 -m compileall -q {PACKAGES_DIR}",
        ]
    env = [f"PYTHONPATH=/opt/stratus:{PACKAGES_DIR}"]
    if spec.code is not None:
        lines += [f"COPY code/ {CODE_DIR}/", f"RUN python3 -m compileall -q {CODE_DIR}"]
        env.append(f"STRATUS_ACTION_CODE={CODE_DIR}")
    lines += [f"ENV {' '.join(env)}", "USER 65534:65534"]
    return "\n".join(lines) + "\n"


def build_action_image(
    client: docker.DockerClient, spec: ActionImage, *, repository: str = RUNTIME_REPOSITORY, say: Progress = quiet
) -> BuildResult:
    base = spec.runtime.image(repository)
    if not has_image(client, base):
        ensure_runtime_image(client, spec.runtime, repository=repository, say=say)
    with tempfile.TemporaryDirectory(prefix="stratus-action-image-") as tmp:
        context = Path(tmp)
        if spec.requirements is not None:
            (context / "wheels").mkdir()
            shutil.copy(spec.requirements, context / "wheels" / "requirements.txt")
            download_wheels(spec.requirements, context / "wheels", spec.runtime.version, say)
        if spec.code is not None:
            _copy_code(spec.code, context / "code")
        (context / "Dockerfile").write_text(dockerfile(spec, base))
        say(f"building {spec.tag} FROM {base}")
        labels = {ACTION_LABEL: "true", "org.stratus.kind": spec.runtime.kind}
        image_id = build_image(client, context, spec.tag, {}, labels, say)
    return BuildResult(image_id, spec.tag, built=True)


def _copy_code(source: Path, dest: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".git"))
    elif source.is_file() and source.suffix == ".py":
        dest.mkdir()
        shutil.copy(source, dest / "__main__.py")
    else:
        raise ImageBuildError(f"{source}: give the code as a .py file or a folder")
