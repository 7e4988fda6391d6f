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
actionproxy.lambdas and receives `(event, context)`. Without code, an image's baked code
($STRATUS_ACTION_CODE) is loaded where it is.

Modules a plain source action does not need (zipfile, the web and Lambda adapters, traceback) are
imported only when used: this all runs inside a cold start.
"""

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from types import FunctionType, ModuleType
from typing import Any, NamedTuple

from actionproxy.errors import InitError

MODULE_NAME = "main__"
ENTRY_FILE = "__main__.py"
CODE_ROOT = "/action"  # the invoker mounts it (tmpfs, exec); elsewhere the temp dir serves
BAKED_CODE_ENV = "STRATUS_ACTION_CODE"
HANDLER_HINT = "for example lambda_function.lambda_handler"

__all__ = ["InitError", "LoadedAction", "baked_code", "load"]


class LoadedAction(NamedTuple):
    function: Callable[..., Any]
    home: str  # the action's own files: traceback frames under it are the user's

    def traceback(self, exc: BaseException) -> str:
        return user_traceback(exc, self.home)


def baked_code() -> str | None:
    """The code an action image carries (`stratus image build-action --code`), used when /init has none."""
    return os.environ.get(BAKED_CODE_ENV) or None


def load(code: str | None, *, binary: bool, entry_point: str, handler: str | None = None) -> LoadedAction:
    """Raises InitError, with the user's traceback as its detail when their code failed to import."""
    module_name, entry_point = split_handler(handler) if handler else (None, entry_point)
    entry_file = ENTRY_FILE if module_name is None else module_name.replace(".", "/") + ".py"
    home = _write(code, binary, entry_file) if code is not None else baked_code()
    if home is None or not os.path.isfile(os.path.join(home, entry_file)):
        raise InitError(f"there is no code: /init has none, and the image has no {entry_file} in ${BAKED_CODE_ENV}")
    _extend_path(home)
    try:
        if module_name is None:
            module = _import(os.path.join(home, ENTRY_FILE))
        else:
            module = importlib.import_module(module_name)
    except InitError:
        raise
    except Exception as exc:  # user code ran at import time: anything can happen
        raise InitError(f"{type(exc).__name__}: {exc}", user_traceback(exc, home)) from exc
    except SystemExit as exc:
        raise InitError(f"the code called exit ({exc.code!r}) while loading", user_traceback(exc, home)) from exc
    function = _entry(module, entry_point, handler)
    if handler:
        from actionproxy import lambdas, memory

        lambdas.install_logging()
        return LoadedAction(lambdas.LambdaHandler(function, memory.limit_mb()), home)
    return LoadedAction(_adapt(function), home)


def split_handler(handler: str) -> tuple[str, str]:
    """("package.module", "function") from "package.module.function" or "package/module.function"."""
    module, _, function = handler.rpartition(".")
    parts = module.replace("/", ".").split(".")
    if not function.isidentifier() or not all(part.isidentifier() for part in parts):
        raise InitError(f"the handler '{handler}' is not 'module.function' ({HANDLER_HINT})")
    return ".".join(parts), function


def _adapt(function: Callable[..., Any]) -> Callable[..., Any]:
    """An ASGI or WSGI app serves web requests; a plain `def main(args)` is taken as it is."""
    if isinstance(function, FunctionType) and function.__code__.co_argcount == 1:
        return function
    from actionproxy import webapp

    return webapp.adapt(function) or function


def _write(code: str, binary: bool, entry_file: str) -> str:
    root = CODE_ROOT if os.access(CODE_ROOT, os.W_OK | os.X_OK) else _temp_dir()
    home = os.path.join(root, f"action-{os.urandom(6).hex()}")
    os.mkdir(home, 0o700)
    try:
        if binary:
            from actionproxy.unpack import unpack

            unpack(code, home, entry_file, in_memory=root == CODE_ROOT)
        else:
            os.makedirs(os.path.dirname(os.path.join(home, entry_file)), exist_ok=True)
            with open(os.path.join(home, entry_file), "w", encoding="utf-8") as file:
                file.write(code)
    except InitError:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
        raise
    return home


def _temp_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


def _entry(module: ModuleType, name: str, handler: str | None) -> Callable[..., Any]:
    function = getattr(module, name, None)
    if function is None:
        where = f"the module {module.__name__}" if handler else "the code"
        hint = "set the action's handler to name another one" if handler else "set the action's main to name another"
        raise InitError(f"{where} has no entry point '{name}' ({hint})")
    if not callable(function):
        raise InitError(f"the entry point '{name}' is a {type(function).__name__}, not a function")
    return function  # type: ignore[no-any-return]


def _extend_path(home: str) -> None:
    os.chdir(home)  # relative paths to the code's own files work (as in Lambda's /var/task)
    sys.path.insert(0, home)
    lib = os.path.join(home, "virtualenv", "lib")
    versions = sorted(os.listdir(lib)) if os.path.isdir(lib) else []
    for packages in (os.path.join(lib, v, "site-packages") for v in versions if v.startswith("python3")):
        if os.path.isdir(packages):
            import site

            sys.path.insert(1, packages)  # ahead of the runtime's own site-packages
            site.addsitedir(packages)  # already on the path: this only runs its .pth files
    importlib.invalidate_caches()


def _import(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise InitError(f"{os.path.basename(path)} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[MODULE_NAME]
        raise
    return module


def user_traceback(exc: BaseException, home: str) -> str:
    """The traceback from the first frame in the action's own files: the proxy's frames say nothing
    to the user. Without such a frame (a syntax error, say), only the exception itself."""
    import traceback

    prefix = home + os.sep
    tb = exc.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith(prefix):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))
