"""The Ubuntu archive key debootstrap checks noble's Release with: accepted only when it is exactly the pinned
one, read through gpg from real keys kept beside this test (the archive's 2018 key, the pin, and its 2012
key), and fetched from a mirror on disk (file://), so nothing here needs the network."""

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from images.errors import BaseUnavailable, ImageBuildError
from images.keyring import MEMBER, UBUNTU_ARCHIVE_KEY, check_keyring, primary_fingerprints, ubuntu_keyring
from images.progress import quiet

DATA = Path(__file__).parent / "data"
PINNED = DATA / "ubuntu-archive-2018.asc"
OTHER = DATA / "ubuntu-archive-2012.asc"  # a genuine Ubuntu key, but not the one pinned

pytestmark = pytest.mark.skipif(not (shutil.which("gpg") and shutil.which("dpkg-deb")), reason="needs gpg, dpkg-deb")


def test_the_pinned_key_alone_is_accepted() -> None:
    assert primary_fingerprints(PINNED) == [UBUNTU_ARCHIVE_KEY]
    check_keyring(PINNED)


def test_another_key_is_refused() -> None:
    with pytest.raises(ImageBuildError, match="790BC7277767219C42C86F933B4FE6ACC0B21F32, not exactly the pinned"):
        check_keyring(OTHER)


def test_the_pinned_key_with_another_beside_it_is_refused(tmp_path: Path) -> None:
    both = tmp_path / "both.asc"
    both.write_bytes(PINNED.read_bytes() + OTHER.read_bytes())
    with pytest.raises(ImageBuildError, match="not exactly the pinned"):
        check_keyring(both)


def test_a_file_that_holds_no_key_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageBuildError):
        check_keyring(empty)


def mirror_with_keyring(root: Path, key: Path) -> str:
    """A mirror on disk whose noble/main lists an ubuntu-keyring package holding `key`."""
    package = root / "build"
    (package / "DEBIAN").mkdir(parents=True)
    control = "Package: ubuntu-keyring\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n"
    (package / "DEBIAN" / "control").write_text(control)
    member = package / MEMBER
    member.parent.mkdir(parents=True)
    shutil.copy(key, member)
    deb = root / "pool/main/u/ubuntu-keyring/ubuntu-keyring_1_all.deb"
    deb.parent.mkdir(parents=True)
    subprocess.run(
        ["dpkg-deb", "--build", "--root-owner-group", str(package), str(deb)], check=True, capture_output=True
    )
    index = root / "dists/noble/main/binary-amd64/Packages.gz"
    index.parent.mkdir(parents=True)
    stanzas = (
        "Package: apt\nFilename: pool/main/a/apt/apt_1_amd64.deb\n\n" + control + f"Filename: {deb.relative_to(root)}\n"
    )
    index.write_bytes(gzip.compress(stanzas.encode()))
    (root / "dists/noble/Release").write_text("Codename: noble\n")
    return root.as_uri()


def test_the_key_a_mirror_ships_is_cached_when_it_is_the_pinned_one(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    mirror = mirror_with_keyring(tmp_path / "mirror", PINNED)
    path = ubuntu_keyring(mirror, "noble", quiet, cache)
    assert path.parent == cache and primary_fingerprints(path) == [UBUNTU_ARCHIVE_KEY]
    (tmp_path / "mirror/dists/noble/main/binary-amd64/Packages.gz").unlink()
    assert ubuntu_keyring(mirror, "noble", quiet, cache) == path  # from the cache


def test_another_key_a_mirror_ships_is_refused_and_not_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ImageBuildError, match="not exactly the pinned"):
        ubuntu_keyring(mirror_with_keyring(tmp_path / "mirror", OTHER), "noble", quiet, cache)
    assert list(cache.iterdir()) == []


def test_an_unreachable_mirror_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BaseUnavailable, match=r"Cannot read the Ubuntu archive.*--mirror URL.*--base-image"):
        ubuntu_keyring((tmp_path / "nothing").as_uri(), "noble", quiet, tmp_path / "cache")
