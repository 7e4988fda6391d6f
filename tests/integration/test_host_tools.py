"""A fresh machine: image builds install the host tools they lack (debootstrap), or say how."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from images.host_tools import ensure_debootstrap, installed

ROOT = Path(__file__).resolve().parents[2]
needs_apt_as_root = pytest.mark.skipif(
    os.geteuid() != 0 or installed("apt-get") is None, reason="needs root and Debian's apt-get"
)


@needs_apt_as_root
def test_root_without_debootstrap_on_path_gets_it_through_apt_get(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # neither debootstrap nor apt-get on PATH: a bare environment
    said: list[str] = []
    path = ensure_debootstrap(said.append)
    assert Path(path).name == "debootstrap" and os.access(path, os.X_OK)
    assert said[0] == "debootstrap is missing: installing it with apt-get"
    assert said[-1] == f"installed {path}"
    assert path in Path("/var/lib/dpkg/info/debootstrap.list").read_text().split()  # the Debian package's


@needs_apt_as_root
def test_a_user_without_root_is_told_what_to_run() -> None:
    code = (
        "from images.host_tools import ensure_debootstrap\n"
        "from images.errors import ImageBuildError\n"
        "import os; os.setgroups([]); os.setgid(65534); os.setuid(65534)\n"  # a user: nobody, for real
        "try:\n    ensure_debootstrap(print)\nexcept ImageBuildError as exc:\n    print('ERROR', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/nonexistent", "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT)), "HOME": "/tmp"},
        capture_output=True,
        text=True,
        cwd="/",
        check=True,
    )
    assert done.stdout.startswith("ERROR debootstrap is missing, and installing it (and running it) needs root")
    assert "sudo apt-get install debootstrap" in done.stdout
    assert "--base-image" in done.stdout and "STRATUS_BASE_IMAGE" in done.stdout
