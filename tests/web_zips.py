"""Action zips for web apps, built on the host: the app's directory plus its dependencies.

The same recipe users follow (README, "Web apps as one function"), with a cache: wheels are built or
downloaded on the host once per requirements file (`pip wheel`: the host runs CPython 3.11 on x86_64 like
the runtime image, and pure-Python sdists such as jieba's become wheels), installed with
`pip install --no-index --target`, and zipped with the app's `__main__.py` at the top level.
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

CACHE = Path(tempfile.gettempdir()) / "stratus-web-zips"
# Left out to fit the container's 64 MB /tmp: compiled and source translations (Django's are half of it)
# and jieba's paddle-mode model (`lac_small`, usable only with paddlepaddle installed).
SKIPPED_DIRS = {"__pycache__", "bin", "lac_small"}
SKIPPED_SUFFIXES = {".po", ".mo", ".pyc"}


class ZipBuildFailed(RuntimeError):
    pass


def pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise ZipBuildFailed(f"pip {' '.join(args[:2])} failed (is PyPI reachable?):\n{done.stderr[-2000:]}")


def dependencies(requirements: Path) -> Path:
    """A directory with the requirements installed (`--target` layout), built once per requirements file."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    target = CACHE / f"site-{digest}"
    if (target / ".complete").exists():
        return target
    wheels = CACHE / "wheels"
    pip("wheel", "--quiet", "--disable-pip-version-check", "--wheel-dir", str(wheels), "-r", str(requirements))
    shutil.rmtree(target, ignore_errors=True)
    pip(
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-index",
        "--find-links",
        str(wheels),
        "--target",
        str(target),
        "-r",
        str(requirements),
    )
    (target / ".complete").touch()
    return target


def action_zip(app_dir: Path) -> bytes:
    """The app's files and its requirements.txt's packages, as one zip with `__main__.py` on top."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        requirements = app_dir / "requirements.txt"
        if requirements.exists():
            _add_tree(archive, dependencies(requirements))
        _add_tree(archive, app_dir)
    return buffer.getvalue()


def action_zip_base64(app_dir: Path) -> str:
    return base64.b64encode(action_zip(app_dir)).decode("ascii")


def _add_tree(archive: zipfile.ZipFile, root: Path) -> None:
    """Everything under root but the cache marker and what SKIPPED_* name."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_dir() or SKIPPED_DIRS.intersection(relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        if path.name != ".complete":
            archive.write(path, relative.as_posix())
