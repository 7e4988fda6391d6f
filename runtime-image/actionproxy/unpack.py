"""An action's zip, unpacked into its home — once it is known to fit.

The home is on the code's own tmpfs in a function container (/action), and tmpfs pages are memory: a zip
is refused, saying how much it needed, when its unpacked size exceeds the free space, or the memory the
container has left (the invoker's limit, read from the cgroup) minus a reserve for the function itself.
Imported only for zips: a cold start of source code never loads zipfile.
"""

import base64
import binascii
import io
import os
import zipfile

from actionproxy import memory
from actionproxy.errors import InitError

MB = memory.MB
MEMORY_RESERVE = 16 * MB  # left for the function itself when the unpacked code is held in memory


def unpack(code: str, home: str, entry_file: str, *, in_memory: bool) -> None:
    """Extract the base64 zip `code` into `home`; `in_memory`: the home is a tmpfs (counts as memory)."""
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
        check_fits(sum(info.file_size for info in archive.infolist()), home, in_memory=in_memory)
        try:
            archive.extractall(home)  # zipfile drops absolute paths and '..' components
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:  # RuntimeError: encrypted members
            raise InitError(f"the zip file could not be extracted ({exc})") from exc


def check_fits(unpacked: int, home: str, *, in_memory: bool) -> None:
    space = os.statvfs(home)
    free = space.f_bavail * space.f_frsize
    if unpacked > free:
        raise InitError(
            f"the zip unpacks to {unpacked // MB} MB, more than the {free // MB} MB of space for the action's code: "
            "leave out what the function does not need (tests, docs, other platforms' files)"
        )
    limit, used = memory.limit_bytes(), memory.used_bytes()
    if in_memory and limit is not None and used is not None and unpacked + MEMORY_RESERVE > limit - used:
        raise InitError(
            f"the zip unpacks to {unpacked // MB} MB, but only {(limit - used) // MB} MB of the action's "
            f"{limit // MB} MB memory are free, and unpacked code is held in memory: raise the action's "
            "memory limit, or leave out what the function does not need"
        )
