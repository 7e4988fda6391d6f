"""Runtime kinds: which `exec.kind` values exist, the image each runs in, and how that image is built.

One table (`RUNTIMES`); adding a Python version is one line. Each kind's runtime image is
`{RUNTIME_REPOSITORY}:{version}`, built FROM `python:{version}-slim` where a registry has it, else FROM a
local base made with debootstrap of the distribution suite whose `python3` is that version (Debian, or
Ubuntu for a version no Debian suite ships; see `images/base.py`). A kind whose `offline_base` is
None has no offline base: its image needs a registry, or a `--base-image` that has that Python.

`blackbox` is OpenWhisk's custom-image kind: the action names an image of its own (`exec.image`) that
speaks the action-proxy protocol; nothing here builds or pulls it.
"""

from dataclasses import dataclass
from typing import Literal

RUNTIME_REPOSITORY = "stratus/runtime-python"  # every runtime image is this repository, tagged by version
BLACKBOX = "blackbox"
SEQUENCE = "sequence"  # no runtime: the controller runs its `components` one after another (core.sequences)


@dataclass(frozen=True)
class OfflineBase:
    """What debootstrap makes a local base from: a distribution's suite whose python3 is the kind's version."""

    distribution: Literal["debian", "ubuntu"]
    suite: str
    mirror: str  # its archive; for Debian the mirror the host's apt uses comes first (images.base)
    components: str = "main"
    update_suites: tuple[str, ...] = ()  # applied after debootstrap, which takes each package from `suite`


def debian(suite: str) -> OfflineBase:
    return OfflineBase("debian", suite, "http://deb.debian.org/debian")


def ubuntu(suite: str) -> OfflineBase:
    # universe: Ubuntu's python3-venv (custom images install their wheels with a venv's pip) is not in main.
    # Ubuntu's release suite is frozen at release (noble: April 2024); its fixes come in -updates and -security.
    updates = (f"{suite}-updates", f"{suite}-security")
    return OfflineBase("ubuntu", suite, "http://archive.ubuntu.com/ubuntu", "main,universe", updates)


@dataclass(frozen=True)
class Runtime:
    kind: str  # "python:3.11"
    version: str  # "3.11": the CPython version, the image tag and the wheels' --python-version
    offline_base: OfflineBase | None  # the suite whose python3 is `version`; None: no offline base exists
    default: bool = False
    deprecated: bool = False

    def image(self, repository: str = RUNTIME_REPOSITORY) -> str:
        return f"{repository}:{self.version}"

    @property
    def base_image(self) -> str:
        """The registry image to build FROM (python.org's Debian-based images)."""
        return f"python:{self.version}-slim"


RUNTIMES = (
    Runtime("python:3.11", "3.11", debian("bookworm"), default=True),
    Runtime("python:3.12", "3.12", ubuntu("noble")),  # no Debian suite ships CPython 3.12; Ubuntu 24.04 does
    Runtime("python:3.13", "3.13", debian("trixie")),
)
DEFAULT = next(r for r in RUNTIMES if r.default)
ALIASES = {"python:3": DEFAULT.kind, "python:default": DEFAULT.kind}
_BY_KIND = {r.kind: r for r in RUNTIMES}


class UnknownKind(ValueError):
    pass


def resolve(kind: str) -> str:
    """The stored kind for what a user wrote: an alias becomes the kind it names."""
    name = ALIASES.get(kind, kind)
    if name not in (BLACKBOX, SEQUENCE) and name not in _BY_KIND:
        raise UnknownKind(f"The kind '{kind}' is not supported; valid kinds: {', '.join(valid_kinds())}.")
    return name


def runtime(kind: str) -> Runtime:
    """The runtime of a stored (resolved) kind; raises UnknownKind for blackbox or an unknown kind."""
    try:
        return _BY_KIND[ALIASES.get(kind, kind)]
    except KeyError:
        raise UnknownKind(f"'{kind}' is not a runtime kind") from None


def image_for(kind: str, image: str | None, repository: str = RUNTIME_REPOSITORY) -> str:
    """The image an action runs in: its own for blackbox, else its kind's runtime image."""
    if kind == BLACKBOX and image:
        return image
    return runtime(kind).image(repository)


def valid_kinds() -> list[str]:
    return sorted([*_BY_KIND, *ALIASES, BLACKBOX, SEQUENCE])


def listing(repository: str = RUNTIME_REPOSITORY) -> dict[str, list[dict[str, object]]]:
    """The `runtimes` of `GET /`, shaped as OpenWhisk's (kind, image, default, deprecated)."""
    python: list[dict[str, object]] = [
        {
            "kind": r.kind,
            "image": r.image(repository),
            "default": r.default,
            "deprecated": r.deprecated,
            "attached": False,  # code travels in /init, not as an attachment
            "requireMain": False,
        }
        for r in RUNTIMES
    ]
    blackbox: dict[str, object] = {"kind": BLACKBOX, "default": False, "deprecated": False, "attached": False}
    return {"python": python, BLACKBOX: [blackbox]}
