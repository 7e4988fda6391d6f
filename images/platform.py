"""What `deploy/Dockerfile` and the offline compose images install, prepared on the host.

The platform image (gateway, controller, invoker) and the SecantusDB image install Python packages
from wheels only (`pip install --no-index`): inside a build PyPI may be unreachable or behind a proxy
the image does not trust. This downloads them on the host into `.stratus-build/wheels/platform`
(with a wheel of Stratus itself, rebuilt each time), and finds the image to build FROM: BASE_IMAGE
when present or pullable, else the local Debian base (debootstrap + docker import), as for the
runtime image.

Run `python -m images.platform`; it prints the BASE_IMAGE to pass to compose.
"""

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from images.base import ensure_base_image
from images.build import engine
from images.errors import ImageBuildError
from images.progress import Progress, quiet
from images.wheels import PLATFORM_ARGS

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / ".stratus-build" / "wheels" / "platform"
EXTRA = [
    "secantusdb>=0.7.0b3",  # the offline MongoDB-wire image (deploy/secantus/Dockerfile)
    # redis needs it below Python 3.11.3, as Debian 12's 3.11.2 (the local base); `pip download
    # --python-version 3.11` does not see that marker, and pip installs it only where needed
    "async-timeout>=4.0.3",
]


def requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *EXTRA]


def _pip(argv: list[str], what: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *argv], capture_output=True, text=True)
    if done.returncode != 0:
        raise ImageBuildError(f"{what} failed (is PyPI or a mirror reachable?):\n{done.stderr[-2000:]}")


def ensure_platform_wheels(say: Progress = quiet, dest: Path = WHEELS) -> Path:
    """Third-party wheels once per dependency list; the Stratus wheel every time (the code changes)."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted = requirements()
    marker = dest / ".requirements-sha256"
    digest = hashlib.sha256("\n".join(wanted).encode()).hexdigest()
    if not marker.exists() or marker.read_text() != digest:
        say("downloading the platform's wheels on the host")
        _pip(["download", "--quiet", "--no-cache-dir", "--dest", str(dest), *PLATFORM_ARGS, *wanted], "pip download")
        marker.write_text(digest)
    say("building the stratus wheel")
    with tempfile.TemporaryDirectory(prefix="stratus-wheel-", dir=dest.parent) as tmp:
        _pip(["wheel", "--quiet", "--no-deps", "--wheel-dir", tmp, str(ROOT)], "building the stratus wheel")
        [built] = Path(tmp).glob("stratus-*.whl")
        for stale in dest.glob("stratus-*.whl"):
            if stale.name != built.name:
                stale.unlink()
        os.replace(built, dest / built.name)  # atomic: a build running meanwhile sees one whole wheel
    return dest


def platform_base(base_image: str = "python:3.11-slim", say: Progress = quiet) -> str:
    """The image to build FROM: `base_image` when present or pullable, else the local Debian base."""
    client = engine()
    try:
        return ensure_base_image(client, base_image, say)
    finally:
        client.close()


def main() -> None:
    def say(line: str) -> None:
        print(line, file=sys.stderr)

    base = sys.argv[1] if len(sys.argv) > 1 else "python:3.11-slim"
    ensure_platform_wheels(say)
    print(platform_base(base, say))


if __name__ == "__main__":
    main()
