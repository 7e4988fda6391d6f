"""Benchmark: the seeds' concurrency test on a warm web action, next to plain uvicorn running the same app.

Not part of the test run. Deploys examples/fastapi_app (zipped with its dependencies, tests/web_zips.py) as
a raw-HTTP web action on `stratus standalone`, warms it with one unmeasured burst, then sends ROUNDS rounds
of N concurrent `GET /items/1` (all N in flight at once, one connection each) to
- the web action: gateway -> Redis -> controller -> invoker -> container -> the app, and back;
- the same app on plain uvicorn (one process, loopback), started from the same dependencies.
Prints min / p50 / max latency and failures (non-200 or transport errors) per round and overall.

    python tests/bench/bench_web.py [--requests 301] [--rounds 3] [--concurrency 100]
"""

import argparse
import asyncio
import base64
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from standalone.embedded import free_port  # noqa: E402
from tests.standalone_process import start_standalone, stop  # noqa: E402
from tests.web_zips import action_zip, dependencies  # noqa: E402

EXAMPLE = ROOT / "examples" / "fastapi_app"
EXPECTED = {"id": 1, "name": "pen", "price": 1.5}
UVICORN = """
import importlib.util, sys, uvicorn
spec = importlib.util.spec_from_file_location("example_app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
uvicorn.run(module.app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


@dataclass
class Round:
    latencies_ms: list[float]
    failures: Counter[str]
    wall_s: float


async def one(client: httpx.AsyncClient, url: str) -> float | str:
    """The latency in ms, or why the request failed."""
    started = time.perf_counter()
    try:
        answer = await client.get(url)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200 or answer.json() != EXPECTED:
        body = answer.json() if answer.headers.get("content-type") == "application/json" else answer.text
        return f"{answer.status_code} {body.get('error', body) if isinstance(body, dict) else body}"[:160]
    return elapsed


async def burst(url: str, n: int) -> Round:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=120, trust_env=False) as client:
        started = time.perf_counter()
        results = await asyncio.gather(*(one(client, url) for _ in range(n)))
        wall_s = time.perf_counter() - started
    failures = Counter(r for r in results if isinstance(r, str))
    return Round([r for r in results if isinstance(r, float)], failures, wall_s)


def deploy(base_url: str, key: str, concurrency: int) -> str:
    uuid, _, secret = key.partition(":")
    body = {
        "exec": {"kind": "python:3.11", "code": base64.b64encode(action_zip(EXAMPLE)).decode(), "main": "app"},
        "annotations": [{"key": "web-export", "value": True}, {"key": "raw-http", "value": True}],
        "limits": {"concurrency": concurrency, "memory": 256},
    }
    with httpx.Client(base_url=base_url, auth=(uuid, secret), trust_env=False, timeout=120) as client:
        client.put("/api/v1/namespaces/_/actions/fastapi-bench?overwrite=true", json=body).raise_for_status()
    return f"{base_url}/api/v1/web/guest/default/fastapi-bench/items/1"


def start_uvicorn() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(dependencies(EXAMPLE / "requirements.txt"))}
    process = subprocess.Popen([sys.executable, "-c", UVICORN, str(EXAMPLE / "__main__.py"), str(port)], env=env)
    url = f"http://127.0.0.1:{port}/items/1"
    for _ in range(200):
        try:
            httpx.get(url, trust_env=False).raise_for_status()
            return process, url
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("uvicorn did not come up")


def measure(url: str, n: int, rounds: int) -> list[Round]:
    asyncio.run(burst(url, n))  # warm-up: containers (or uvicorn's imports) ready for every round after
    return [asyncio.run(burst(url, n)) for _ in range(rounds)]


def row(label: str, measured: Round) -> str:
    ms = measured.latencies_ms or [float("nan")]
    return (
        f"{label:<34}{min(ms):>9.1f}{statistics.median(ms):>9.1f}{max(ms):>9.1f}"
        f"{measured.failures.total():>10}{measured.wall_s:>9.2f}"
    )


def report(name: str, rounds: list[Round]) -> None:
    for i, measured in enumerate(rounds, 1):
        print(row(f"{name}, round {i}", measured))
    merged = Round([x for r in rounds for x in r.latencies_ms], sum((r.failures for r in rounds), Counter()), 0.0)
    print(row(f"{name}, all rounds", merged)[:-9])
    for reason, count in merged.failures.most_common(5):
        print(f"    {count} x {reason}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=301)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=100, help="the action's limits.concurrency")
    parser.add_argument("--data-dir", help="keep the platform's data and standalone.log here")
    args = parser.parse_args()
    direct_process, direct_url = start_uvicorn()
    try:
        direct = measure(direct_url, args.requests, args.rounds)
    finally:
        direct_process.terminate()
        direct_process.wait(30)
    with tempfile.TemporaryDirectory(prefix="stratus-bench-web-") as tmp:
        env = {"STRATUS_IDLE_TTL_S": "600", "STRATUS_USER_MEMORY_MB": "4096"}
        process, key, port = start_standalone(Path(args.data_dir or tmp), env)
        try:
            web = measure(deploy(f"http://127.0.0.1:{port}", key, args.concurrency), args.requests, args.rounds)
        finally:
            stop(process)
    print(
        f"\nStratus web benchmark  {time.strftime('%Y-%m-%d %H:%M:%S')}  python {platform.python_version()}  "
        f"cpus {os.cpu_count()}  {args.requests} concurrent GET /items/1 per round, "
        f"action concurrency {args.concurrency}"
    )
    print(f"{'latency (ms)':<34}{'min':>9}{'p50':>9}{'max':>9}{'failures':>10}{'wall s':>9}")
    report("web action via Stratus", web)
    report("plain uvicorn, same app", direct)


if __name__ == "__main__":
    main()
