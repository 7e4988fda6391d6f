"""Benchmark: warm blocking-invoke latency, cold start, and the platform's overhead over a direct /run.

Not part of the test run. Starts `stratus standalone` (embedded defaults, or the services named by
STRATUS_REDIS_URL / STRATUS_MONGO_URL / STRATUS_ENTITIES_URL) in a temporary data directory, then:
- warm: N blocking invocations of a no-op, interleaved one-for-one with direct `/run` calls on the
  same warm container (closed loop, one request at a time), reporting p50/p90/p99/max of both and
  the difference and ratio of their percentiles;
- cold: M invocations each after an update of the action (a new revision gets a new container).

    python tests/bench/bench_invoke.py [--warm 400] [--cold 15]
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import docker
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.standalone_process import start_standalone, stop

NOOP = "def main(args):\n    return {'ok': True}\n"


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": statistics.median(ordered), "p90": pick(0.90), "p99": pick(0.99), "max": ordered[-1]}


def put_noop(client: httpx.Client, name: str, version_marker: int = 0) -> None:
    code = NOOP + f"# revision {version_marker}\n"
    body = {"exec": {"kind": "python:3.11", "code": code}, "limits": {"memory": 128}}
    client.put(f"/api/v1/namespaces/_/actions/{name}?overwrite=true", json=body).raise_for_status()


def invoke(client: httpx.Client, name: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={})
    elapsed = (time.perf_counter() - started) * 1000
    answer.raise_for_status()
    record: dict[str, Any] = answer.json()
    return elapsed, record


def container_address(name: str) -> str:
    engine = docker.from_env()
    try:
        [container] = engine.containers.list(filters={"label": [f"org.stratus.action=guest/{name}"]})
        networks = container.attrs["NetworkSettings"]["Networks"]
        ip = next(n["IPAddress"] for n in networks.values() if n["IPAddress"])
        return f"http://{ip}:8080"
    finally:
        engine.close()


def direct_run(direct: httpx.Client) -> float:
    body = {
        "value": {},
        "activation_id": "0" * 32,
        "namespace": "guest",
        "action_name": "/guest/x",
        "action_version": "0.0.1",
        "transaction_id": "bench",
        "deadline": str(int(time.time() * 1000) + 60_000),
    }
    started = time.perf_counter()
    direct.post("/run", json=body, headers={"X-Stratus-Envelope": "1"}).raise_for_status()
    return (time.perf_counter() - started) * 1000


def annotation(record: dict[str, Any], key: str) -> Any:
    return next((a["value"] for a in record["annotations"] if a["key"] == key), None)


def bench_warm(client: httpx.Client, n: int) -> tuple[list[float], list[float], list[float], list[float]]:
    put_noop(client, "bench-warm")
    for _ in range(50):  # warm-up: the first call is cold
        invoke(client, "bench-warm")
    platform_ms: list[float] = []
    direct_ms: list[float] = []
    wait_ms: list[float] = []  # accepted by the gateway -> /run starts: the scheduling path
    run_ms: list[float] = []  # the record's duration: /run as the invoker saw it
    with httpx.Client(base_url=container_address("bench-warm"), trust_env=False) as direct:
        for _ in range(20):
            direct_run(direct)
        for _ in range(n):
            elapsed, record = invoke(client, "bench-warm")
            if annotation(record, "initTime") is None:  # only warm samples
                platform_ms.append(elapsed)
                wait_ms.append(float(annotation(record, "waitTime")))
                run_ms.append(float(record["duration"]))
            direct_ms.append(direct_run(direct))
    return platform_ms, direct_ms, wait_ms, run_ms


def bench_cold(client: httpx.Client, n: int) -> tuple[list[float], list[float], list[float]]:
    total, init, wait = [], [], []
    for i in range(n):
        put_noop(client, "bench-cold", i + 1)
        elapsed, record = invoke(client, "bench-cold")
        if annotation(record, "initTime") is None:
            continue
        total.append(elapsed)
        init.append(float(annotation(record, "initTime")))
        wait.append(float(annotation(record, "waitTime")))
    return total, init, wait


def row(label: str, stats: dict[str, float]) -> str:
    return f"{label:<44}" + "".join(f"{stats[k]:>10.2f}" for k in ("p50", "p90", "p99", "max"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm", type=int, default=400)
    parser.add_argument("--cold", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
        # no stem cells: the direct baseline finds the action's container by its label, which a taken-over
        # stem cell (labelled when it was created, before it had an action) lacks; cold starts are cold
        env = {"STRATUS_IDLE_TTL_S": "600", "STRATUS_USER_MEMORY_MB": "4096", "STRATUS_STEM_CELLS": "[]"}
        process, key, port = start_standalone(Path(tmp), env)
        uuid, _, secret = key.partition(":")
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", auth=(uuid, secret), trust_env=False, timeout=120
            ) as client:
                platform_ms, direct_ms, warm_wait_ms, warm_run_ms = bench_warm(client, args.warm)
                cold_ms, init_ms, wait_ms = bench_cold(client, args.cold)
        finally:
            stop(process)
    engine = docker.from_env()
    print(
        f"\nStratus invoke benchmark  {time.strftime('%Y-%m-%d %H:%M:%S')}  python {platform.python_version()}  "
        f"kernel {platform.release()}  docker {engine.version()['Version']}  cpus {os.cpu_count()}"
    )
    engine.close()
    print(f"{'latency (ms)':<44}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}")
    warm, direct = percentiles(platform_ms), percentiles(direct_ms)
    print(row(f"warm blocking invoke via API (n={len(platform_ms)})", warm))
    print(row(f"direct /run, same container (n={len(direct_ms)})", direct))
    print(row("added by the platform (difference)", {k: warm[k] - direct[k] for k in warm}))
    print(f"{'ratio platform / direct':<44}" + "".join(f"{warm[k] / direct[k]:>10.1f}" for k in warm))
    print(row("  warm waitTime (accepted -> /run starts)", percentiles(warm_wait_ms)))
    print(row("  warm duration (/run seen by the invoker)", percentiles(warm_run_ms)))
    if cold_ms:
        print(row(f"cold blocking invoke via API (n={len(cold_ms)})", percentiles(cold_ms)))
        print(row("  of which waitTime (container create+start)", percentiles(wait_ms)))
        print(row("  of which initTime (/init)", percentiles(init_ms)))
        print(f"{'ratio cold / warm (p50)':<44}{statistics.median(cold_ms) / warm['p50']:>10.1f}")


if __name__ == "__main__":
    main()
