"""Declared requirements travel inside the action: installed on this host, shipped in the zip.

`pip install --target` on the host (where PyPI, a mirror or PIP_FIND_LINKS is reachable; function
containers have no package index) fetches wheels for the runtime (CPython 3.11 manylinux, the platform
the runtime image's own wheels are fetched for) into `virtualenv/lib/python3.11/site-packages/`, the
folder the runtime's loader puts on sys.path ahead of its own packages.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from stratus.client.errors import ConfigError

SITE_PACKAGES = "virtualenv/lib/python3.11/site-packages"
# The runtime's wheel platform (CPython 3.11, manylinux x86_64), as images.wheels fetches the runtime image's own;
# the client side does not import the image tooling, tests/unit/test_client_contract.py keeps the two equal
PLATFORM_ARGS = ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11"]
PLATFORM_ARGS += ["--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64"]
_SKIPPED = {"__pycache__", "bin"}


def vendor_requirements(requirements: list[str]) -> dict[str, bytes]:
    """The zip members (path -> bytes) that make `requirements` importable in the runtime."""
    with tempfile.TemporaryDirectory(prefix="stratus-vendor-") as target:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
        command = [*pip, "--target", target, *PLATFORM_ARGS, *requirements]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ConfigError(f"could not install the requirements {requirements} on this host:\n{done.stderr.strip()}")
        root = Path(target)
        return {
            f"{SITE_PACKAGES}/{path.relative_to(root).as_posix()}": path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file() and not set(path.relative_to(root).parts) & _SKIPPED
        }
