"""Host tools an image build needs, installed when missing: debootstrap, from Debian's packages.

`stratus standalone` on a fresh machine must give a working platform by itself, so a missing
debootstrap is installed with apt-get when this process is root (showing apt's progress), and
otherwise named with the command that installs it.
"""

import os
import shutil
import subprocess

from images.errors import BASE_IMAGE_HOW, ImageBuildError
from images.progress import Progress

SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin")  # apt's places
APT_PROGRESS = ("Get:", "Unpacking", "Setting up", "E:")
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def installed(name: str) -> str | None:
    """`name` on PATH, else in the system directories a package installs into (root's PATH has sbin,
    a user's often has not)."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))


def system_path() -> str:
    """PATH with the system directories added: debootstrap runs chroot, mount and dpkg from them."""
    given = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(p for p in dict.fromkeys([*given, *SBIN]) if p)


def ensure_debootstrap(say: Progress) -> str:
    """The path of debootstrap, installed through apt-get first when it is not on PATH."""
    found = shutil.which("debootstrap")
    if found:
        return found
    how = f"install it (`apt-get install debootstrap` as root), or give an image that is present ({BASE_IMAGE_HOW})"
    apt = installed("apt-get")
    if apt is None:
        raise ImageBuildError(f"debootstrap is missing and this machine has no apt-get: {how}.")
    if os.geteuid() != 0:
        raise ImageBuildError(
            "debootstrap is missing, and installing it (and running it) needs root: run "
            "`sudo apt-get install debootstrap` and start once as root, or give an image that is present as the "
            f"base ({BASE_IMAGE_HOW})."
        )
    say("debootstrap is missing: installing it with apt-get")
    if not _apt(apt, ["install", "-y", "--no-install-recommends", "debootstrap"], say):
        say("apt-get install failed; updating the package lists and trying again")
        if not (
            _apt(apt, ["update"], say) and _apt(apt, ["install", "-y", "--no-install-recommends", "debootstrap"], say)
        ):
            raise ImageBuildError(f"apt-get could not install debootstrap (see the lines above): {how}.")
    found = installed("debootstrap")
    if found is None:
        raise ImageBuildError(f"apt-get installed debootstrap but it is not to be found: {how}.")
    say(f"installed {found}")
    return found


def _apt(apt: str, args: list[str], say: Progress) -> bool:
    argv = [apt, "-o", "DPkg::Lock::Timeout=300", *args]  # another apt run (unattended upgrades) may hold the lock
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **APT_ENV}
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(APT_PROGRESS) or "newest version" in line:
            say("  " + line.strip())
    return process.wait() == 0
