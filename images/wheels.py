"""Wheels for the image, downloaded on the host: inside a build, PyPI may sit behind a proxy the
image does not trust, or not be reachable at all (air-gapped)."""

import hashlib
import subprocess
import sys
from pathlib import Path

from images.errors import ImageBuildError
from images.progress import Progress

PLATFORM_ARGS = [
    "--only-binary=:all:",
    "--implementation",
    "cp",
    "--python-version",
    "3.11",
    "--platform",
    "manylinux2014_x86_64",
    "--platform",
    "manylinux_2_17_x86_64",
]


def ensure_wheels(requirements: Path, dest: Path, say: Progress) -> None:
    """Download what `requirements` needs into `dest`, once per version of the requirements file."""
    marker = dest / ".requirements-sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if marker.exists() and marker.read_text() == digest:
        return
    dest.mkdir(parents=True, exist_ok=True)
    say(f"downloading wheels for {requirements.name} on the host")
    argv = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-cache-dir",
        "--dest",
        str(dest),
        *PLATFORM_ARGS,
        "-r",
        str(requirements),
    ]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise ImageBuildError(f"pip download failed (is PyPI or a mirror reachable?):\n{done.stderr[-2000:]}")
    marker.write_text(digest)
