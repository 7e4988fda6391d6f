"""docker-compose.yml parses with every compose this machine has (v1.29 `docker-compose`, v2 `docker compose`),
with and without the offline override and the monitoring profile. Nothing is started (see test_compose_cluster)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = [["-f", "docker-compose.yml"], ["-f", "docker-compose.yml", "-f", "deploy/compose.offline.yml"]]


def composes() -> list[list[str]]:
    found = []
    if shutil.which("docker-compose"):
        found.append(["docker-compose"])
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        found.append(["docker", "compose"])
    return found


@pytest.mark.parametrize("files", FILES, ids=["default", "offline"])
def test_compose_files_parse(files: list[str]) -> None:
    tools = composes()
    if not tools:
        pytest.skip("no docker-compose (v1) or docker compose (v2) here")
    for tool in tools:
        for profile in ([], ["--profile", "monitoring"]):
            done = subprocess.run(
                [*tool, *files, *profile, "config", "--services"], cwd=ROOT, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{' '.join(tool)}: {done.stderr}"
            services = set(done.stdout.split())
            assert {"gateway", "controller", "invoker", "redis", "mongo", "mysql"} <= services
            if profile:  # (v1.29 lists every service whatever the profiles; `up` starts only the profile's)
                assert {"prometheus", "grafana"} <= services
