"""The image to build FROM: BASE_IMAGE when present or pullable, else a Debian base made here with
debootstrap (Debian packages only) and `docker import`. The same path serves air-gapped sites."""

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
from docker.errors import APIError, ImageNotFound

from stratus.errors import StratusError
from stratus.images.progress import Progress

log = logging.getLogger(__name__)

LOCAL_BASE = "stratus/base:bookworm-python3.11"
SUITE = "bookworm"  # Debian 12: its python3 is 3.11
PACKAGES = "python3,python3-venv,ca-certificates"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info")


class ImageBuildError(StratusError):
    pass


def has_image(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except ImageNotFound:
        return False
    return True


def ensure_base_image(client: docker.DockerClient, base_image: str, say: Progress, *, mirror: str | None = None) -> str:
    """The name of an image present locally to build FROM."""
    if has_image(client, base_image):
        return base_image
    say(f"Base image {base_image} is not present; trying to pull it")
    try:
        client.images.pull(base_image)
        return base_image
    except APIError as exc:
        say(f"Cannot pull {base_image} ({_short(exc)}); using a local Debian base instead")
    if not has_image(client, LOCAL_BASE):
        build_local_base(client, say, mirror=mirror or host_mirror())
    return LOCAL_BASE


def host_mirror() -> str:
    """The Debian mirror the host's apt uses, so the build reaches what the host reaches."""
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and len(words) > 1 and "security" not in words[1]:
                return words[1]
            if words[:1] == ["deb"] and len(words) > 2 and "security" not in line:
                return next(w for w in words[1:] if w.startswith("http"))
    return DEFAULT_MIRROR


def build_local_base(client: docker.DockerClient, say: Progress, *, mirror: str) -> None:
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("debootstrap is missing: run `apt-get install debootstrap`, or pass --base-image.")
    if os.geteuid() != 0:
        raise ImageBuildError(
            "Building the local Debian base needs root (debootstrap); run as root once, "
            "or pass --base-image with an image that is present."
        )
    with tempfile.TemporaryDirectory(prefix="stratus-base-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        say(f"debootstrap {SUITE} from {mirror} (a minute or two)")
        _debootstrap(rootfs, mirror, say)
        for relative in TRIM:
            shutil.rmtree(rootfs / relative, ignore_errors=True)
        tarball = Path(tmp) / "rootfs.tar"
        say("packing the root filesystem")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
        say(f"docker import as {LOCAL_BASE}")
        repository, tag = LOCAL_BASE.split(":")
        client.api.import_image_from_file(
            str(tarball),
            repository=repository,
            tag=tag,
            changes=[
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "ENV LANG=C.UTF-8",
                'CMD ["python3"]',
            ],
        )
    if not has_image(client, LOCAL_BASE):
        raise ImageBuildError(f"docker import did not produce {LOCAL_BASE}")


def _debootstrap(rootfs: Path, mirror: str, say: Progress) -> None:
    argv = ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, str(rootfs), mirror]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    tail: list[str] = []
    for line in process.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        if line.startswith("I: ") and not line.startswith(
            ("I: Retrieving", "I: Validating", "I: Extracting", "I: Unpacking", "I: Configuring")
        ):
            say("  " + line[3:].strip())
    if process.wait() != 0:
        raise ImageBuildError("debootstrap failed; its last lines:\n" + "\n".join(tail))


def _short(exc: APIError) -> str:
    return str(exc.explanation or exc).splitlines()[0][:120]
