"""Compiled extension modules (`.so`) shipped in an action's zip, although /tmp is mounted noexec.

The action's zip is extracted under /tmp (the container's only writable place), which the invoker mounts
`noexec`: the dynamic loader cannot map a shared object from there ("failed to map segment from shared
object"). This finder loads the extension modules found under an action's home from an anonymous memory
file (memfd_create) instead, which the kernel lets a process map executable. So wheels such as
pydantic-core (FastAPI) work from a zip. Caveat: an extension that loads further shared libraries by path
(numpy's bundled OpenBLAS in numpy.libs/, say) still fails, since those are found on /tmp.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType


class MemfdExtensionLoader(importlib.machinery.ExtensionFileLoader):
    def create_module(self, spec: ModuleSpec) -> ModuleType:
        fd = os.memfd_create(spec.name)
        try:
            with open(self.path, "rb") as source:
                os.write(fd, source.read())
            in_memory = ModuleSpec(spec.name, self, origin=f"/proc/self/fd/{fd}")
            module: ModuleType = super().create_module(in_memory)
        finally:
            os.close(fd)  # the mapping outlives the descriptor
        return module


class MemfdExtensionFinder(importlib.abc.MetaPathFinder):
    """Finds modules as the path finder does; for extension modules under `home`, hands back our loader."""

    def __init__(self, home: Path) -> None:
        self._home = str(home) + os.sep

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            return None
        if not (spec.origin or "").startswith(self._home):
            return None
        return importlib.util.spec_from_file_location(
            fullname, spec.origin, loader=MemfdExtensionLoader(fullname, spec.origin or "")
        )


def install(home: Path) -> None:
    """Linux only (memfd_create); elsewhere extension modules load as usual."""
    if hasattr(os, "memfd_create"):
        sys.meta_path.insert(0, MemfdExtensionFinder(home))
