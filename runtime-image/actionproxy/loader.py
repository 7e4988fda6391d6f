"""From /init's `code` to a callable.

`code` is Python source, or (binary) a base64 zip with `__main__.py` at its top level and optionally a
`virtualenv/` whose site-packages hold the action's dependencies. Either way the code is written to a
fresh directory under CODE_ROOT — in a function container a tmpfs of its own, exec, writable only by the
function user, so compiled modules and the native libraries wheels bundle (numpy's OpenBLAS, Pillow's
libtiff) load from it — or under the temp dir elsewhere (tests). That directory becomes the working
directory and goes on sys.path so modules shipped beside `__main__.py` import, and `__main__.py` is
imported under the private name `main__`, so its `if __name__ == "__main__":` block does not run. An
entry point that is an ASGI or WSGI app is wrapped by actionproxy.webapp.

With a `handler` ("module.function", Lambda's naming) the code is that module instead: source is saved
as the module's file, a zip needs the module and no `__main__.py`; the function is wrapped by
actionproxy.lambdas and receives `(event, context)`.

A zip must fit before it is unpacked: in its directory's free space, and (the tmpfs is memory) in the
memory the container has left; otherwise /init fails saying how much it needed.
"""

import base64
import binascii
import importlib
import importlib.util
import inspect
import io
import logging
import os
import re
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

from actionproxy import lambdas, memory, webapp

log = logging.getLogger(__name__)

MODULE_NAME = "main__"
ENTRY_FILE = "__main__.py"
CODE_ROOT = Path("/action")  # the invoker mounts it (tmpfs, exec); elsewhere the temp dir serves
BAKED_CODE_ENV = "STRATUS_ACTION_CODE"
MB = memory.MB
MEMORY_RESERVE = 16 * MB  # left for the function itself when the unpacked code is held in memory
HANDLER = re.compile(r"^(?P<module>[A-Za-z_]\w*(?:[./][A-Za-z_]\w*)*)\.(?P<function>[A-Za-z_]\w*)$")


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


def baked_code() -> Path | None:
    """The code an action image carries (`stratus image build-action --code`), used when /init has none."""
    baked = os.environ.get(BAKED_CODE_ENV)
    return Path(baked) if baked else None


def load(code: str | None, *, binary: bool, entry_point: str, handler: str | None = None) -> LoadedAction:
    """Raises InitError, with the user's traceback as its detail when their code failed to import.
    `code` None: the image's baked code, loaded where it is."""
    module_name, entry_point = split_handler(handler) if handler else (None, entry_point)
    entry_file = ENTRY_FILE if module_name is None else module_name.replace(".", "/") + ".py"
    home = _write(code, binary, entry_file) if code is not None else baked_code()
    if home is None or not (home / entry_file).is_file():
        raise InitError(f"there is no code: /init has none, and the image has no {entry_file} in ${BAKED_CODE_ENV}")
    _extend_path(home)
    try:
        module = _import(home / ENTRY_FILE) if module_name is None else importlib.import_module(module_name)
    except InitError:
        raise
    except Exception as exc:  # user code ran at import time: anything can happen
        raise InitError(f"{type(exc).__name__}: {exc}", user_traceback(exc, home)) from exc
    except SystemExit as exc:
        raise InitError(f"the code called exit ({exc.code!r}) while loading", user_traceback(exc, home)) from exc
    function = _entry(module, entry_point, handler)
    if handler:
        lambdas.install_logging()
        return LoadedAction(lambdas.LambdaHandler(function, memory.limit_mb()), False, home)
    function = webapp.adapt(function) or function  # an ASGI or WSGI app serves web requests
    return LoadedAction(function, inspect.iscoroutinefunction(function), home)


def _write(code: str, binary: bool, entry_file: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix="action-", dir=code_root()))
    try:
        if binary:
            _unpack(code, home, entry_file)
        else:
            (home / entry_file).parent.mkdir(parents=True, exist_ok=True)
            (home / entry_file).write_text(code, encoding="utf-8")
    except InitError:
        shutil.rmtree(home, ignore_errors=True)
        raise
    return home


def split_handler(handler: str) -> tuple[str, str]:
    """("package.module", "function") from "package.module.function" or "package/module.function"."""
    match = HANDLER.match(handler)
    if match is None:
        raise InitError(f"the handler '{handler}' is not 'module.function' (for example lambda_function.handler)")
    return match["module"].replace("/", "."), match["function"]


def _entry(module: ModuleType, name: str, handler: str | None) -> Callable[..., Any]:
    function = getattr(module, name, None)
    if function is None:
        where = f"the module {module.__name__}" if handler else "the code"
        hint = "set the action's handler to name another one" if handler else "set the action's main to name another"
        raise InitError(f"{where} has no entry point '{name}' ({hint})")
    if not callable(function):
        raise InitError(f"the entry point '{name}' is a {type(function).__name__}, not a function")
    return function  # type: ignore[no-any-return]


def code_root() -> Path:
    return CODE_ROOT if os.access(CODE_ROOT, os.W_OK | os.X_OK) else Path(tempfile.gettempdir())


def _unpack(code: str, home: Path, entry_file: str) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(code)))  # lenient: tolerates wrapped base64
    except (binascii.Error, ValueError, zipfile.BadZipFile) as exc:
        raise InitError(f"the binary code is not a base64-encoded zip file ({exc})") from exc
    with archive:
        names = archive.namelist()
        if entry_file not in names:
            nested = next((name for name in names if name.endswith("/" + entry_file)), None)
            hint = f"; found {nested}: zip the folder's contents, not the folder" if nested else ""
            raise InitError(f"the zip file has no {entry_file} at its top level{hint}")
        check_fits(sum(info.file_size for info in archive.infolist()), home)
        try:
            archive.extractall(home)  # zipfile drops absolute paths and '..' components
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:  # RuntimeError: encrypted members
            raise InitError(f"the zip file could not be extracted ({exc})") from exc


def check_fits(unpacked: int, home: Path) -> None:
    free = shutil.disk_usage(home).free
    if unpacked > free:
        raise InitError(
            f"the zip unpacks to {unpacked // MB} MB, more than the {free // MB} MB of space for the action's code: "
            "leave out what the function does not need (tests, docs, other platforms' files)"
        )
    if not home.is_relative_to(CODE_ROOT):
        return
    limit, used = memory.limit_bytes(), memory.used_bytes()
    if limit is not None and used is not None and unpacked + MEMORY_RESERVE > limit - used:
        raise InitError(
            f"the zip unpacks to {unpacked // MB} MB, but only {(limit - used) // MB} MB of the action's "
            f"{limit // MB} MB memory are free, and unpacked code is held in memory: raise the action's "
            "memory limit, or leave out what the function does not need"
        )


def _extend_path(home: Path) -> None:
    os.chdir(home)  # relative paths to the code's own files work (as in Lambda's /var/task)
    sys.path.insert(0, str(home))
    for packages in sorted(home.glob("virtualenv/lib/python3*/site-packages")):
        sys.path.insert(1, str(packages))  # ahead of the runtime's own site-packages
        site.addsitedir(str(packages))  # already on the path: this only runs its .pth files
    importlib.invalidate_caches()


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
