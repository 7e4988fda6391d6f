"""Benchmark: what the SDK and the CLI add over a bare HTTP call, per warm blocking invocation.

Not part of the test run. Starts `stratus standalone` (embedded defaults) in a temporary data directory,
deploys a no-op, then interleaves one-for-one (closed loop, one request at a time):
- http: httpx POST ?blocking=true&result=true on one kept-alive connection (the floor);
- client: `Client.invoke(..., blocking=True, result=True)`;
- remote: a `@client.function` call (the blocking record, unwrapped);
and finally times whole `stratus action invoke -r` processes (interpreter start and imports included).

    python tests/bench/bench_sdk.py [--warm 200] [--cli 10]
"""

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stratus.client import Client
from tests.standalone_process import start_standalone, stop

NOOP = "def main(args):\n    return {'ok': True}\n"
REMOTE = "def noop():\n    return True\n"


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": statistics.median(ordered), "p90": pick(0.90), "p99": pick(0.99), "max": ordered[-1]}


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--cli", type=int, default=10)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stratus-bench-sdk-") as tmp:
        process, key, port = start_standalone(Path(tmp), {})
        try:
            run(f"http://127.0.0.1:{port}", key, Path(tmp), options.warm, options.cli)
        finally:
            stop(process)


def run(url: str, key: str, tmp: Path, warm: int, cli_runs: int) -> None:
    (tmp / "bench_remote.py").write_text(REMOTE)
    sys.path.insert(0, str(tmp))
    remote_module = importlib.import_module("bench_remote")
    uuid, _, secret = key.partition(":")
    env = {"STRATUS_APIHOST": url, "STRATUS_AUTH": key, "STRATUS_CONFIG_FILE": str(tmp / "config.json")}
    os.environ.update(env)
    with httpx.Client(base_url=url, auth=(uuid, secret), timeout=90) as http, Client() as client:
        client.put_action("noop", {"exec": {"kind": "python:3.11", "code": NOOP}})
        remote = client.function(name="remote-noop")(remote_module.noop)
        invoke_url = "/api/v1/namespaces/_/actions/noop?blocking=true&result=true"
        kinds: dict[str, Callable[[], Any]] = {
            "http": lambda: http.post(invoke_url, json={}).raise_for_status(),
            "client": lambda: client.invoke("noop", {}, blocking=True, result=True),
            "remote": remote,
        }
        for call in kinds.values():  # warm every path (containers, connections)
            for _ in range(3):
                call()
        samples: dict[str, list[float]] = {k: [] for k in kinds}
        for _ in range(warm):
            for kind, call in kinds.items():
                samples[kind].append(timed(call))
    command = [sys.executable, "-m", "stratus.cli", "action", "invoke", "noop", "-r"]
    samples["cli process"] = [
        timed(lambda: subprocess.run(command, env=os.environ | env, check=True, capture_output=True))
        for _ in range(cli_runs)
    ]
    print(f"warm blocking invocations of a no-op, n={warm} each (cli: n={cli_runs} processes), ms")
    print(f"{'path':<12}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'p50 over http':>15}")
    floor = percentiles(samples["http"])["p50"]
    for kind, values in samples.items():
        p = percentiles(values)
        print(f"{kind:<12}{p['p50']:8.2f}{p['p90']:8.2f}{p['p99']:8.2f}{p['max']:8.2f}{p['p50'] - floor:15.2f}")


if __name__ == "__main__":
    main()
