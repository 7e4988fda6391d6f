"""The image to build FROM: BASE_IMAGE when present or pullable, else a base made here with debootstrap
(the distribution's packages only) and `docker import`. The same path serves air-gapped sites.

Each Python version has its own local base, from the suite whose python3 it is (`core.kinds`): Debian
bookworm for 3.11, Ubuntu noble for 3.12 (its Release checked with the pinned key of
`images.keyring`), Debian trixie for 3.13."""

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker
from docker.errors import APIError, ImageNotFound

from core.kinds import OfflineBase, debian
from images.errors import BASE_IMAGE_HOW, BaseUnavailable, ImageBuildError
from images.host_tools import ensure_debootstrap, system_path
from images.keyring import ubuntu_keyring
from images.progress import Progress

log = logging.getLogger(__name__)

SUITE = "bookworm"  # Debian 12: its python3 is 3.11; the platform's images use this one
PYTHON = "3.11"
PLATFORM_BASE = debian(SUITE)
SCRIPTS = Path("/usr/share/debootstrap/scripts")
PACKAGES = "python3,python3-venv,ca-certificates"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info")


def has_image(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except ImageNotFound:
        return False
    return True


def local_base(suite: str = SUITE, python: str = PYTHON) -> str:
    return f"stratus/base:{suite}-python{python}"


LOCAL_BASE = local_base()


def ensure_base_image(
    client: docker.DockerClient,
    base_image: str,
    say: Progress,
    *,
    offline: OfflineBase | None = PLATFORM_BASE,
    python: str = PYTHON,
    mirror: str | None = None,
) -> str:
    """The name of an image present locally to build FROM. `offline` is the suite whose python3 is `python`,
    for the local base; None when there is none (then `base_image` must be had). `mirror` replaces its archive."""
    if has_image(client, base_image):
        return base_image
    say(f"Base image {base_image} is not present; trying to pull it")
    try:
        client.images.pull(base_image)
        return base_image
    except APIError as exc:
        reason = _short(exc)
    if offline is None:
        raise BaseUnavailable(
            f"Cannot pull {base_image} ({reason}), and no offline base ships Python {python} to build a local "
            f"base from: pass --base-image with a present image whose python3 is {python}, or build where a "
            "registry is reachable."
        )
    tag = local_base(offline.suite, python)
    say(f"Cannot pull {base_image} ({reason}); using the local {offline.distribution} base {tag} instead")
    if not has_image(client, tag):
        build_local_base(client, say, offline=offline, tag=tag, mirror=mirror or base_mirror(offline))
    return tag


def base_mirror(offline: OfflineBase) -> str:
    """Debian's: the mirror the host's apt uses (a Debian host); another distribution's: its own archive."""
    return host_mirror() if offline.distribution == "debian" else offline.mirror


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


def build_local_base(
    client: docker.DockerClient,
    say: Progress,
    *,
    mirror: str,
    offline: OfflineBase = PLATFORM_BASE,
    tag: str = LOCAL_BASE,
) -> None:
    if os.geteuid() != 0:
        raise ImageBuildError(
            "Building a local base needs root (debootstrap, installed with apt-get when missing); "
            f"run as root once, or give an image that is present as the base ({BASE_IMAGE_HOW})."
        )
    debootstrap = ensure_debootstrap(say)
    options = [f"--components={offline.components}"]
    if offline.distribution == "ubuntu":  # Debian's suites: debootstrap's default, the host's debian-archive-keyring
        options.append(f"--keyring={ubuntu_keyring(mirror, offline.suite, say)}")
    with tempfile.TemporaryDirectory(prefix="stratus-base-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        say(f"debootstrap {offline.distribution} {offline.suite} from {mirror} (a few minutes)")
        _debootstrap(debootstrap, [*options, offline.suite, str(rootfs), mirror, *_script(offline)], say)
        if offline.update_suites:
            _upgrade(rootfs, offline, mirror, say)
        for relative in TRIM:
            shutil.rmtree(rootfs / relative, ignore_errors=True)
        tarball = Path(tmp) / "rootfs.tar"
        say("packing the root filesystem")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
        say(f"docker import as {tag}")
        repository, version = tag.split(":")
        client.api.import_image_from_file(
            str(tarball),
            repository=repository,
            tag=version,
            changes=[
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "ENV LANG=C.UTF-8",
                'CMD ["python3"]',
            ],
        )
    if not has_image(client, tag):
        raise ImageBuildError(f"docker import did not produce {tag}")


def _script(offline: OfflineBase) -> list[str]:
    """An Ubuntu release newer than the host's debootstrap has no script of its own: gutsy's serves, as it
    does every release since 7.10 (jammy, kinetic, ... are links to it)."""
    if offline.distribution != "ubuntu" or (SCRIPTS / offline.suite).exists():
        return []
    return [str(SCRIPTS / "gutsy")]


def _debootstrap(debootstrap: str, args: list[str], say: Progress) -> None:
    argv = [debootstrap, "--variant=minbase", f"--include={PACKAGES}", *args]
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PATH": system_path()}
    )
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


def _upgrade(rootfs: Path, offline: OfflineBase, mirror: str, say: Progress) -> None:
    """Upgrade from the update suites, with the apt of the new root and its own keyring (from the archive
    debootstrap verified); they stay in its sources, for custom images' apt-get."""
    components = offline.components.replace(",", " ")
    suites = [offline.suite, *offline.update_suites]
    (rootfs / "etc/apt/sources.list").write_text("".join(f"deb {mirror} {s} {components}\n" for s in suites))
    say(f"upgrading from {', '.join(offline.update_suites)}")
    env = {"PATH": system_path(), "DEBIAN_FRONTEND": "noninteractive", "LANG": "C.UTF-8"}
    for args in (["update"], ["-y", "--no-install-recommends", "dist-upgrade"], ["clean"]):  # clean: 100 MB of caches
        done = subprocess.run(["chroot", str(rootfs), "apt-get", "-qq", *args], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise ImageBuildError(
                f"apt-get {args[-1]} in the new root failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}"
            )


def _short(exc: APIError) -> str:
    return str(exc.explanation or exc).splitlines()[0][:120]
