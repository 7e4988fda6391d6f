"""Benchmark: 1 -> 3 invokers on a cluster of processes on this host (the chaos test's cluster, real Docker).

The shape of `bench_cluster.py --only throughput` without compose's image builds: 24 blocking callers of 3
actions sleeping 0.5 s in 128 MB, 1024 MB per invoker (8 slots), no stem cells; one controller, 1 invoker,
then 3. Per placement policy (STRATUS_PLACEMENT): activations/s with 1 and with 3 invokers, the ratio, and
the start-type mix of the measured calls.

    PYTHONPATH=$PWD python3 tests/bench/bench_scale_host.py [--policies warm,sharding] [--calls 240]
"""

import argparse
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import uuid4

import httpx
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.messages import INVOKERS_KEY, Heartbeat
from standalone.embedded import free_port
from tests.chaos.cluster import Cluster

SLEEPY = "import time\n\ndef main(args):\n    time.sleep(args.get('sleep', 0.5))\n    return {'ok': True}\n"


class ScaleCluster(Cluster):
    policy: str = "warm"

    def _services(self, env: dict[str, str], api_port: int) -> None:
        env = env | {"STRATUS_PLACEMENT": self.policy, "STRATUS_HEARTBEAT_TTL_S": "3"}
        gateway = env | {"STRATUS_GATEWAY_ID": "gw-i11", "STRATUS_PORT": str(api_port)}
        self._add("gateway", [sys.executable, "-m", "gateway"], gateway, lambda: self._wait_api(60))
        controller = env | {"STRATUS_CONTROLLER_ID": "ctl-i11"}
        self._add("controller", [sys.executable, "-m", "controller"], controller, lambda: None)
        for n in (1, 2, 3):
            invoker = env | {
                "STRATUS_INVOKER_ID": f"inv-i11-{n}",
                "STRATUS_METRICS_PORT": "0",
                "STRATUS_NETWORK": self.network,
                "STRATUS_USER_MEMORY_MB": "1024",
                "STRATUS_STEM_CELLS": "[]",
                "STRATUS_PAUSE_GRACE_S": "0",
            }
            self._add(f"invoker {n}", [sys.executable, "-m", "invoker"], invoker, lambda: None)

    def start_first(self) -> None:
        """Cluster.start, but of the services only the gateway, the controller and the first invoker."""
        self.root.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for name in ("redis", "mongo", "mysql", "api")}
        self.api = f"http://127.0.0.1:{ports['api']}"
        self._stores(ports)
        self.env = {
            "STRATUS_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
            "STRATUS_MONGO_URL": f"mongodb://127.0.0.1:{ports['mongo']}/?directConnection=true",
            "STRATUS_MONGO_DB": "stratus",
            "STRATUS_ENTITIES_URL": f"mysql+aiomysql://root@127.0.0.1:{ports['mysql']}/stratus",
            "STRATUS_LOG_LEVEL": "WARNING",
        }
        self._create_database(ports["mysql"])
        self.key = self._namespace(self.env)
        self._services(self.env, ports["api"])
        self.start_only("gateway", "controller", "invoker 1")

    def start_only(self, *names: str) -> None:
        for name in names:
            self.parts[name].start()

    def wait_healthy(self, n: int, seconds: float = 120) -> None:
        raw = redis.Redis.from_url(self.env["STRATUS_REDIS_URL"])
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                now = time.time() * 1000
                beats = [Heartbeat.model_validate_json(v) for v in raw.hvals(INVOKERS_KEY)]
                if sum(1 for b in beats if now - b.sent_ms < 3000 and not b.failing) >= n:
                    return
                time.sleep(0.5)
        finally:
            raw.close()
        raise RuntimeError(f"{n} invokers did not become healthy")


def start_type(answer: httpx.Response) -> str:
    if answer.status_code != 200:
        return f"http {answer.status_code}"
    annotations = answer.json().get("annotations", [])
    return next((str(a["value"]) for a in annotations if a.get("key") == "startType"), "none")


def run(client: httpx.Client, names: list[str], calls: int, callers: int, sleep_s: float) -> tuple[float, Counter[str]]:
    def one(n: int) -> str:
        body = {"sleep": sleep_s}
        return start_type(client.post(f"/actions/{names[n % len(names)]}", params={"blocking": "true"}, json=body))

    with ThreadPoolExecutor(callers) as pool:
        list(pool.map(one, range(callers * 3)))  # warm-up: containers started
        began = time.perf_counter()
        starts = Counter(pool.map(one, range(calls)))
        elapsed = time.perf_counter() - began
    return calls / elapsed, starts


def bench(policy: str, calls: int, callers: int, sleep_s: float) -> None:
    with tempfile.TemporaryDirectory(prefix="stratus-i11-") as root:
        cluster = ScaleCluster(Path(root), network=f"stratus-i11-{uuid4().hex[:6]}")
        cluster.policy = policy
        try:
            cluster.start_first()
            cluster.wait_healthy(1)
            uuid, _, secret = cluster.key.partition(":")
            client = httpx.Client(base_url=f"{cluster.api}/api/v1/namespaces/_", auth=(uuid, secret), timeout=120)
            action = {"exec": {"kind": "python:3.11", "code": SLEEPY}, "limits": {"timeout": 30000, "memory": 128}}
            names = [f"bench-{uuid4().hex[:6]}" for _ in range(3)]
            for name in names:
                client.put(f"/actions/{name}", json=action).raise_for_status()
            one, one_starts = run(client, names, calls, callers, sleep_s)
            cluster.start_only("invoker 2", "invoker 3")
            cluster.wait_healthy(3)
            three, three_starts = run(client, names, calls, callers, sleep_s)
        finally:
            cluster.stop()
    print(f"| {policy} | {one:.2f} | {dict(one_starts)} | {three:.2f} | {dict(three_starts)} | {three / one:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policies", default="warm,sharding")
    parser.add_argument("--calls", type=int, default=240)
    parser.add_argument("--callers", type=int, default=24)
    parser.add_argument("--sleep", type=float, default=0.5)
    args = parser.parse_args()
    print("| policy | 1 invoker /s | start types | 3 invokers /s | start types | ratio |")
    print("|---|---|---|---|---|---|")
    for policy in args.policies.split(","):
        bench(policy, args.calls, args.callers, args.sleep)


if __name__ == "__main__":
    main()
