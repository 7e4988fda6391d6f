"""Starting `stratus standalone` as a subprocess, for e2e tests and benchmarks."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from standalone.embedded import free_port


class StartFailed(RuntimeError):
    pass


def start_standalone(
    data_dir: Path, env: dict[str, str], timeout_s: float = 600
) -> tuple[subprocess.Popen[str], str, int]:
    process, printed, port = start_standalone_printing(data_dir, env, timeout_s)
    return process, printed["STRATUS_KEY"], port


def start_standalone_printing(
    data_dir: Path, env: dict[str, str], timeout_s: float = 600, log_level: str = "INFO"
) -> tuple[subprocess.Popen[str], dict[str, str], int]:
    """Like start_standalone, with every `STRATUS_X=value` line it printed (API URL, key, store URLs)."""
    port = free_port()
    env = {**os.environ, **env, "STRATUS_PORT": str(port), "STRATUS_DATA_DIR": str(data_dir)}
    log = (data_dir / "standalone.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "standalone", "standalone", "--log-level", log_level],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    printed: dict[str, str] = {}
    for line in process.stdout:
        if match := re.match(r"(STRATUS_[A-Z_]+)=(\S+)", line):
            printed[match.group(1)] = match.group(2)
            if match.group(1) == "STRATUS_KEY":
                break
        if time.monotonic() > deadline:
            break
    if "STRATUS_KEY" not in printed:
        process.kill()
        raise StartFailed(f"stratus standalone did not come up:\n{(data_dir / 'standalone.log').read_text()[-4000:]}")
    return process, printed, port


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
