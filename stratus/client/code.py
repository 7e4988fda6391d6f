"""An action's `exec` from a path: a `.py` file (source), a folder (zipped) or a `.zip` (as is).

A folder must hold `__main__.py` at its top — or, for a Lambda-style handler ("module.function"), that
module; its files go into the zip in sorted order with fixed timestamps, so the same folder always gives
the same bytes (and the manifest diff sees "unchanged").
"""

import base64
import io
import zipfile
from pathlib import Path

from stratus.client.errors import ConfigError

KIND = "python:3.11"
ENTRY_FILE = "__main__.py"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SKIPPED_DIRS = {"__pycache__", ".git", ".venv", ".mypy_cache", ".pytest_cache"}


def entry_file(handler: str | None) -> str:
    """The file a zip must hold at its top: `__main__.py`, or a handler's module ("a.b.fn" -> "a/b.py")."""
    if not handler:
        return ENTRY_FILE
    module = handler.rpartition(".")[0]
    return module.replace(".", "/") + ".py"


def exec_from_path(
    path: Path, *, kind: str = KIND, main: str | None = None, handler: str | None = None
) -> dict[str, str]:
    """The `exec` body of a PUT for the code at `path`."""
    entry = entry_file(handler)
    if path.is_dir():
        code = base64.b64encode(zip_folder(path, entry)).decode()
    elif not path.is_file():
        raise ConfigError(f"{path} does not exist: give a .py file, a folder with {entry}, or a .zip")
    elif path.suffix == ".zip":
        code = base64.b64encode(check_zip(path.read_bytes(), path, entry)).decode()
    else:
        code = path.read_text()
    return {"kind": kind, "code": code} | ({"main": main} if main else {})


def zip_folder(folder: Path, entry: str = ENTRY_FILE) -> bytes:
    if not (folder / entry).is_file():
        raise ConfigError(f"{folder} has no {entry}: the function's entry point must be in {folder}/{entry}")
    return zip_files({p.relative_to(folder).as_posix(): p.read_bytes() for p in _files(folder)})


def zip_files(files: dict[str, bytes]) -> bytes:
    """A deterministic zip: sorted names, fixed timestamps and permissions."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def check_zip(data: bytes, path: Path, entry: str = ENTRY_FILE) -> bytes:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile as exc:
        raise ConfigError(f"{path} is not a zip file") from exc
    if entry not in names:
        nested = next((n for n in names if n.endswith("/" + entry)), None)
        hint = f" (found {nested}: zip the folder's contents, not the folder)" if nested else ""
        raise ConfigError(f"{path} has no {entry} at its top level{hint}")
    return data


def _files(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        parts = set(path.relative_to(folder).parts)
        if path.is_file() and not parts & _SKIPPED_DIRS and path.suffix != ".pyc":
            found.append(path)
    return found
