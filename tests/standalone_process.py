"""Starting `stratus standalone` as a subprocess, for e2e tests and benchmarks."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from stratus.embedded import free_port


class StartFailed(RuntimeError):
    pass


def start_standalone(
    data_dir: Path, env: dict[str, str], timeout_s: float = 600
) -> tuple[subprocess.Popen[str], str, int]:
    port = free_port()
    env = {**os.environ, **env, "STRATUS_PORT": str(port), "STRATUS_DATA_DIR": str(data_dir)}
    log = (data_dir / "standalone.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "stratus.cli", "standalone", "--log-level", "INFO"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    key = ""
    for line in process.stdout:
        if match := re.match(r"STRATUS_KEY=(\S+)", line):
            key = match.group(1)
            break
        if time.monotonic() > deadline:
            break
    if not key:
        process.kill()
        raise StartFailed(f"stratus standalone did not come up:\n{(data_dir / 'standalone.log').read_text()[-4000:]}")
    return process, key, port


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
