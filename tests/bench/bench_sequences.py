"""Benchmark: what a sequence adds over its components, and how fast a trigger fires its rules.

Not part of the test run. Starts `stratus standalone` (embedded defaults, or the services named by
STRATUS_REDIS_URL / STRATUS_MONGO_URL / STRATUS_ENTITIES_URL) in a temporary data directory, then, warm,
one request at a time, interleaved: a blocking invoke of a no-op, of a sequence of 1 no-op and of a
sequence of 3 no-ops (p50/p90/max each); then the latency of firing a trigger with 3 active rules (POST
-> 202) and the time until the 3 rule activations' records exist.

    python tests/bench/bench_sequences.py [--n 100]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.standalone_process import start_standalone, stop

NOOP = "def main(args):\n    return {'ok': True}\n"


def summary(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"p50 {statistics.median(ordered):7.1f} ms  p90 {p90:7.1f} ms  max {ordered[-1]:7.1f} ms"


def timed_invoke(client: httpx.Client, name: str) -> float:
    started = time.perf_counter()
    client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={}).raise_for_status()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        process, key, port = start_standalone(Path(data_dir), {})
        try:
            uuid, _, secret = key.partition(":")
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=(uuid, secret), timeout=120) as client:
                run(client, args.n)
        finally:
            stop(process)


def run(client: httpx.Client, n: int) -> None:
    put = client.put
    put("/api/v1/namespaces/_/actions/noop", json={"exec": {"kind": "python:3.11", "code": NOOP}}).raise_for_status()
    for name, parts in (("seq1", ["noop"]), ("seq3", ["noop"] * 3)):
        body = {"exec": {"kind": "sequence", "components": parts}}
        put(f"/api/v1/namespaces/_/actions/{name}", json=body).raise_for_status()
    samples: dict[str, list[float]] = {"noop": [], "seq1": [], "seq3": []}
    for name in samples:
        timed_invoke(client, name)  # warm
    for _ in range(n):
        for name, found in samples.items():
            found.append(timed_invoke(client, name))
    for name, found in samples.items():
        print(f"blocking {name:5}: {summary(found)}")
    fire_rules(client, n)


def wait_record(client: httpx.Client, activation_id: str) -> httpx.Response:
    while (record := client.get(f"/api/v1/namespaces/_/activations/{activation_id}")).status_code != 200:
        time.sleep(0.01)
    return record


def fire_rules(client: httpx.Client, n: int) -> None:
    put = client.put
    put("/api/v1/namespaces/_/triggers/bench", json={}).raise_for_status()
    for i in range(3):
        put(f"/api/v1/namespaces/_/rules/bench{i}", json={"trigger": "bench", "action": "noop"}).raise_for_status()
    fire_ms, done_ms = [], []
    for _ in range(max(10, n // 5)):
        started = time.perf_counter()
        fired = client.post("/api/v1/namespaces/_/triggers/bench", json={})
        fire_ms.append((time.perf_counter() - started) * 1000)
        record = wait_record(client, fired.json()["activationId"])
        for line in record.json()["logs"]:
            wait_record(client, json.loads(line)["activationId"])
        done_ms.append((time.perf_counter() - started) * 1000)
    print(f"trigger fire (3 rules) -> 202: {summary(fire_ms)}")
    print(f"fire -> 3 rule records stored: {summary(done_ms)}")


if __name__ == "__main__":
    main()
