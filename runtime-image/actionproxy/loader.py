"""From /init's `code` to a callable.

`code` is Python source, or (binary) a base64 zip with `__main__.py` at its top level and optionally a
`virtualenv/` whose site-packages hold the action's dependencies. Either way the code is written to a
fresh directory under the temp dir (the container's root file system is read-only), that directory goes
on sys.path so modules shipped beside `__main__.py` import, and `__main__.py` is imported under the
private name `main__`, so its `if __name__ == "__main__":` block does not run. An entry point that is an
ASGI or WSGI app is wrapped by actionproxy.webapp; compiled modules in the zip load through
actionproxy.extensions (the temp dir is mounted noexec).
"""

import base64
import binascii
import importlib.util
import inspect
import io
import logging
import shutil
import site
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from actionproxy import extensions, webapp

log = logging.getLogger(__name__)

MODULE_NAME = "main__"
ENTRY_FILE = "__main__.py"


class InitError(Exception):
    """The code cannot become a runnable action. `detail` is for the activation's stderr."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message + "\n"


@dataclass(frozen=True)
class LoadedAction:
    function: Callable[..., Any]
    is_async: bool
    home: Path  # the action's own files: traceback frames under it are the user's

    def traceback(self, exc: BaseException) -> str:
        return user_traceback(exc, self.home)


def load(code: str, *, binary: bool, entry_point: str) -> LoadedAction:
    """Raises InitError, with the user's traceback as its detail when their code failed to import."""
    home = Path(tempfile.mkdtemp(prefix="action-"))
    if binary:
        try:
            _unpack(code, home)
        except InitError:
            shutil.rmtree(home, ignore_errors=True)
            raise
    else:
        (home / ENTRY_FILE).write_text(code, encoding="utf-8")
    _extend_path(home)
    try:
        module = _import(home / ENTRY_FILE)
    except InitError:
        raise
    except Exception as exc:  # user code ran at import time: anything can happen
        raise InitError(f"{type(exc).__name__}: {exc}", user_traceback(exc, home)) from exc
    except SystemExit as exc:
        raise InitError(f"the code called exit ({exc.code!r}) while loading", user_traceback(exc, home)) from exc
    function = getattr(module, entry_point, None)
    if function is None:
        raise InitError(f"the code has no entry point '{entry_point}' (set the action's main to name another one)")
    if not callable(function):
        raise InitError(f"the entry point '{entry_point}' is a {type(function).__name__}, not a function")
    function = webapp.adapt(function) or function  # an ASGI or WSGI app serves web requests
    return LoadedAction(function, inspect.iscoroutinefunction(function), home)


def _unpack(code: str, home: Path) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(code)))  # lenient: tolerates wrapped base64
    except (binascii.Error, ValueError, zipfile.BadZipFile) as exc:
        raise InitError(f"the binary code is not a base64-encoded zip file ({exc})") from exc
    with archive:
        names = archive.namelist()
        if ENTRY_FILE not in names:
            nested = next((name for name in names if name.endswith("/" + ENTRY_FILE)), None)
            hint = f"; found {nested}: zip the folder's contents, not the folder" if nested else ""
            raise InitError(f"the zip file has no {ENTRY_FILE} at its top level{hint}")
        try:
            archive.extractall(home)  # zipfile drops absolute paths and '..' components
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:  # RuntimeError: encrypted members
            raise InitError(f"the zip file could not be extracted ({exc})") from exc


def _extend_path(home: Path) -> None:
    extensions.install(home)  # compiled modules from the zip, although /tmp is noexec
    sys.path.insert(0, str(home))
    for packages in sorted(home.glob("virtualenv/lib/python3*/site-packages")):
        sys.path.insert(1, str(packages))  # ahead of the runtime's own site-packages
        site.addsitedir(str(packages))  # already on the path: this only runs its .pth files


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise InitError(f"{path.name} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[MODULE_NAME]
        raise
    return module


def user_traceback(exc: BaseException, home: Path) -> str:
    """The traceback from the first frame in the action's own files: the proxy's frames say nothing
    to the user. Without such a frame (a syntax error, say), only the exception itself."""
    prefix = str(home) + "/"
    tb = exc.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(prefix):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))
