"""From /init's code to a callable: Python source, or a base64 zip with __main__.py (and optionally
a virtualenv/). Everything is written under the temp dir: the container's root is read-only."""

import base64
import binascii
import importlib.util
import io
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

MODULE_NAME = "main__"


class InitError(Exception):
    """The code cannot become a runnable action; the message says why."""


def load(code: str, *, binary: bool, entry_point: str) -> Callable[..., Any]:
    home = Path(tempfile.mkdtemp(prefix="action-"))
    if binary:
        _unpack(code, home)
    else:
        (home / "__main__.py").write_text(code)
    sys.path.insert(0, str(home))
    for site in sorted(home.glob("virtualenv/lib/python3*/site-packages")):
        sys.path.insert(1, str(site))
    module = _import(home / "__main__.py")
    function = getattr(module, entry_point, None)
    if function is None:
        raise InitError(f"The action has no entry point '{entry_point}'.")
    if not callable(function):
        raise InitError(f"The action's entry point '{entry_point}' is not callable.")
    return function  # type: ignore[no-any-return]


def _unpack(code: str, home: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(code, validate=True)))
    except (binascii.Error, ValueError, zipfile.BadZipFile) as exc:
        raise InitError(f"The action's binary code is not a base64-encoded zip file: {exc}") from exc
    with archive:
        if "__main__.py" not in archive.namelist():
            raise InitError("The action's zip file has no __main__.py at its top level.")
        archive.extractall(home)  # zipfile drops absolute paths and '..' components


def _import(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise InitError(f"Cannot load {path.name}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)  # may raise anything: the caller reports it
    return module
