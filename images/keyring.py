"""The Ubuntu archive's signing key, so debootstrap can verify an Ubuntu suite's Release file on a Debian
host (Debian has no ubuntu-keyring package): taken from the ubuntu-keyring .deb in the archive itself, and
accepted only when it holds exactly the key pinned here.

Why a pin: the .deb comes, over plain HTTP, from the very archive it is to authenticate, so what it holds
proves nothing by itself. The fingerprint written below is the trust anchor, as the host's
debian-archive-keyring package is for the Debian suites. A keyring holding another key, or more keys, is
refused and nothing is built. When Ubuntu signs with a new key, this line changes (checked against the
fingerprints Ubuntu publishes).
"""

import gzip
import io
import os
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from images.errors import BASE_IMAGE_HOW, BaseUnavailable, ImageBuildError
from images.progress import Progress

UBUNTU_ARCHIVE_KEY = "F6ECB3762474EDA9D21B7022871920D1991BC93C"  # Ubuntu Archive Automatic Signing Key (2018)
PACKAGE = "ubuntu-keyring"
MEMBER = "./etc/apt/trusted.gpg.d/ubuntu-keyring-2018-archive.gpg"  # that key alone (the other files hold more)
ARCH = "amd64"  # the runtimes are x86-64 (manylinux x86_64 wheels); archive.ubuntu.com serves amd64
CACHE = Path(__file__).resolve().parents[1] / ".stratus-build" / "keyrings"
TIMEOUT_S = 30.0


def ubuntu_keyring(mirror: str, suite: str, say: Progress, cache: Path = CACHE) -> Path:
    """A keyring file holding exactly the pinned key: the cached one (checked again), else fetched from
    `mirror`. BaseUnavailable when the mirror cannot be read (checked even with a cached keyring, so that an
    unreachable archive is told apart from a failing debootstrap); ImageBuildError when its key is not the pin."""
    _get(mirror, f"dists/{suite}/Release", limit=1)
    path = cache / f"ubuntu-archive-{UBUNTU_ARCHIVE_KEY[-16:]}.gpg"
    if path.exists():
        check_keyring(path)
        return path
    say(f"fetching the Ubuntu archive key ({PACKAGE}) from {mirror}")
    deb = _get(mirror, _keyring_filename(mirror, suite))
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=cache, suffix=".gpg", delete=False) as part:
        part.write(_member(deb, MEMBER))
    try:
        check_keyring(Path(part.name))
        os.replace(part.name, path)
    finally:
        Path(part.name).unlink(missing_ok=True)
    say(f"  the keyring holds the pinned key {UBUNTU_ARCHIVE_KEY}; cached in {path}")
    return path


def check_keyring(keyring: Path) -> None:
    """Refuse a keyring unless its only key is the pinned one."""
    found = primary_fingerprints(keyring)
    if found != [UBUNTU_ARCHIVE_KEY]:
        raise ImageBuildError(
            f"{keyring} holds {', '.join(found) or 'no key'}, not exactly the pinned Ubuntu archive key "
            f"{UBUNTU_ARCHIVE_KEY}: refused, nothing is built from that archive."
        )


def primary_fingerprints(keyring: Path) -> list[str]:
    """The fingerprints of the primary keys in a keyring file, as gpg reads it (nothing is imported)."""
    with tempfile.TemporaryDirectory(prefix="stratus-gpg-") as home:
        argv = ["gpg", "--homedir", home, "--batch", "--with-colons", "--show-keys", str(keyring)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True)
        except FileNotFoundError:
            raise ImageBuildError("gpg is needed to check the Ubuntu archive key: `apt-get install gpg`.") from None
    if done.returncode != 0:
        raise ImageBuildError(f"gpg cannot read {keyring}: {done.stderr.strip()[-500:]}")
    records = [line.split(":") for line in done.stdout.splitlines()]
    return [fpr[9] for pub, fpr in zip(records, records[1:], strict=False) if pub[0] == "pub" and fpr[0] == "fpr"]


def _keyring_filename(mirror: str, suite: str) -> str:
    """Where the suite's ubuntu-keyring .deb is in the pool (mirrors need not list directories)."""
    index = gzip.decompress(_get(mirror, f"dists/{suite}/main/binary-{ARCH}/Packages.gz")).decode()
    for stanza in index.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
        if fields.get("Package") == PACKAGE and "Filename" in fields:
            return fields["Filename"]
    raise ImageBuildError(f"{mirror} lists no {PACKAGE} package in {suite}/main")


def _member(deb: bytes, name: str) -> bytes:
    with tempfile.NamedTemporaryFile(suffix=".deb") as file:
        file.write(deb)
        file.flush()
        done = subprocess.run(["dpkg-deb", "--fsys-tarfile", file.name], capture_output=True)
    if done.returncode != 0:
        raise ImageBuildError(f"dpkg-deb cannot read the {PACKAGE} package: {done.stderr.decode()[-500:]}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as tar:
        try:
            member = tar.extractfile(name)
        except KeyError:
            member = None
        if member is None:
            raise ImageBuildError(f"the {PACKAGE} package has no {name}")
        return member.read()


def _get(mirror: str, path: str, limit: int = -1) -> bytes:
    url = f"{mirror.rstrip('/')}/{path}"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:
            body: bytes = answer.read(limit)
            return body
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BaseUnavailable(
            f"Cannot read the Ubuntu archive at {mirror} ({url}: {reason}), so no local Ubuntu base can be made "
            f"here: pass `--mirror URL` with a reachable Ubuntu mirror (`stratus image build --kind KIND --mirror "
            f"URL`), or give a present image whose python3 is the kind's version ({BASE_IMAGE_HOW})."
        ) from exc
