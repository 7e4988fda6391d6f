"""Action zips with compiled dependencies, built the OpenWhisk way from manylinux wheels, cached.

The recipe the README gives users: on the host, `pip install --target` with `--platform manylinux…
--only-binary=:all: --python-version 3.X` (wheels for the runtime's CPython, whatever the host runs), then
a zip of `__main__.py` and `virtualenv/lib/python3.X/site-packages/`. Wheels and the installed trees are
kept under CACHE between runs (one tree per requirements list and Python version), so only a first run
downloads (about 50 MB for the whole set).
"""

import base64
import hashlib
import io
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CACHE = Path(tempfile.gettempdir()) / "stratus-native-zips"
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
# Not needed at run time, and big (pandas' own tests are 40 MB unpacked): left out, as users should.
SKIPPED_DIRS = {"__pycache__", "tests", "include"}
SKIPPED_SUFFIXES = {".pyc", ".pyi", ".pxd", ".pyx", ".h", ".c", ".cpp"}


class ZipBuildFailed(RuntimeError):
    pass


def site_packages(requirements: list[str], python_version: str) -> Path:
    """`requirements` installed for CPython `python_version` on manylinux x86-64, once per list and version."""
    digest = hashlib.sha256(f"{python_version}\n{sorted(requirements)}".encode()).hexdigest()[:16]
    target = CACHE / f"site-{python_version}-{digest}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    wheels = CACHE / f"wheels-{python_version}"
    common = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python_version, *platforms]
    _pip("download", "--dest", str(wheels), *common, *requirements)
    install = ["--no-index", "--find-links", str(wheels), "--target", str(target), "--ignore-requires-python"]
    _pip("install", *install, *common, *requirements)  # the host's own Python is not the one to check
    (target / ".complete").touch()
    return target


def _pip(command: str, *args: str) -> None:
    argv = [sys.executable, "-m", "pip", command, "--quiet", "--disable-pip-version-check", *args]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise ZipBuildFailed(f"pip {command} failed (is PyPI reachable?):\n{done.stderr[-2000:]}")


def action_zip(main: str, requirements: list[str], python_version: str) -> bytes:
    """`__main__.py` with `main` and the requirements under virtualenv/lib/python3.X/site-packages."""
    site = site_packages(requirements, python_version)
    prefix = f"virtualenv/lib/python{python_version}/site-packages/"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__main__.py", main)
        for path in sorted(site.rglob("*")):
            relative = path.relative_to(site)
            if path.is_dir() or path.name == ".complete" or path.suffix in SKIPPED_SUFFIXES:
                continue
            if SKIPPED_DIRS.intersection(relative.parts[1:]):  # package/tests/..., never a top-level package
                continue
            archive.write(path, prefix + relative.as_posix())
    return buffer.getvalue()


def action_zip_base64(main: str, requirements: list[str], python_version: str) -> str:
    return base64.b64encode(action_zip(main, requirements, python_version)).decode("ascii")
