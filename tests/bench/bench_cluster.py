"""Benchmark: cluster throughput with 1 and with 3 invokers, and the scheduling latency the controller adds.

Not part of the test run.
- scheduling: a real controller on real Redis (STRATUS_REDIS_URL, its database 11 is flushed; and
  STRATUS_MONGO_URL, where it sets the records' retention) with 3 invokers played by heartbeats;
  N invocations one at a time, timing publish -> Dispatch on the invoker's stream (what the controller
  adds to every activation: a batch read, the books, the choice and the atomic booking + Dispatch).
- throughput: the compose stack (offline images), C concurrent blocking callers of actions that sleep
  S seconds in 128 MB, user memory 1024 MB per invoker; completed activations per second with 1
  invoker, then scaled to 3, and the ratio.

    python tests/bench/bench_cluster.py [--only scheduling|throughput] [--n 500] [--calls 120]
"""

import argparse
import asyncio
import os
import platform
import statistics
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

from controller.service import Controller
from core.backends import open_core
from core.config import ControllerSettings
from core.ids import InvokerId, new_activation_id
from core.messages import INVOCATIONS, Heartbeat, Invocation, invoker_stream
from core.models import Action, Exec, Limits
from tests.compose_stack import Stack, compose_stack

SLEEPY = "import time\n\ndef main(args):\n    time.sleep(args.get('sleep', 0.5))\n    return {'ok': True}\n"


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return f"p50 {statistics.median(ordered):7.3f}  p90 {pick(0.9):7.3f}  p99 {pick(0.99):7.3f}  max {ordered[-1]:7.3f}"


def invocation(n: int) -> Invocation:
    action = Action(namespace="bench", name=f"a{n % 20}", exec=Exec(kind="python:3.11"), limits=Limits(memory=128))
    return Invocation(
        activation_id=new_activation_id(),
        namespace="bench",
        subject="bench",
        action=action,
        params={},
        accepted_ms=int(time.time() * 1000),
    )


async def scheduling(n: int) -> None:
    urls = [os.environ.get(f"STRATUS_{name}_URL", "") for name in ("REDIS", "MONGO")]
    if not all(urls):
        sys.exit("scheduling needs the test services (source $STRATUS_SERVICES_DIR/env after tests/services.sh start)")
    redis_url = urls[0].rsplit("/", 1)[0] + "/11"
    urls.append(f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='stratus-bench-')}/entities.db")  # not read here
    async with open_core(redis_url, urls[1], "stratus_bench_cluster", urls[2]) as core:
        bus = core.bus
        await bus._redis.flushdb()
        ids = [InvokerId(f"bench-{i}") for i in range(3)]

        async def beats() -> None:
            while True:
                for invoker_id in ids:
                    beat = Heartbeat(
                        invoker_id=invoker_id,
                        sent_ms=int(time.time() * 1000),
                        user_memory_mb=1 << 20,
                        busy_memory_mb=0,
                        containers=0,
                    )
                    await bus.put_heartbeat(beat)
                await asyncio.sleep(0.5)

        beating = asyncio.create_task(beats())
        await asyncio.sleep(0.1)
        settings = ControllerSettings(
            controller_id="bench-controller", redis_url=redis_url, mongo_url=urls[1], entities_url=urls[2]
        )
        controller = Controller(settings, bus, core.activations, core.ledger, core.entities)
        stop = asyncio.Event()
        running = asyncio.create_task(controller.run(stop))
        await asyncio.sleep(0.5)
        last = {invoker_id: "$" for invoker_id in ids}
        end_to_end: list[float] = []
        for i in range(n):
            one = invocation(i)
            started = time.perf_counter()
            await bus.publish(INVOCATIONS, one.to_fields())
            streams = {invoker_stream(invoker_id): last[invoker_id] for invoker_id in ids}
            reply = await bus._redis.xread(streams, count=1, block=5000)  # type: ignore[arg-type]
            end_to_end.append((time.perf_counter() - started) * 1000)
            for stream, entries in reply:
                last[InvokerId(stream.decode().rsplit(":", 1)[1])] = entries[-1][0].decode()
            await core.ledger.release(one.activation_id)
        stop.set()
        await running
        beating.cancel()
        await bus._redis.flushdb()
    print(f"\nScheduling on real Redis ({n} invocations, one at a time, 3 invokers), ms:")
    print(f"  publish -> Dispatch on the invoker's stream  {percentiles(end_to_end)}")


def dispatches(stack: Stack) -> dict[str, int]:
    """Dispatches ever sent to each invoker (entries added to its stream: acked entries are deleted)."""
    raw = redis.Redis.from_url(stack.redis_url)
    try:
        added = {}
        for row in stack.admin("invokers"):
            stream = f"stratus:invoker:{row['invoker']}"
            added[row["invoker"]] = int(raw.xinfo_stream(stream)["entries-added"]) if raw.exists(stream) else 0
        return added
    finally:
        raw.close()


def start_type(answer: httpx.Response) -> str:
    try:
        annotations = answer.json().get("annotations", [])
    except ValueError:
        return "none"
    return next((str(a["value"]) for a in annotations if a.get("key") == "startType"), "none")


def throughput(stack: Stack, client: httpx.Client, names: list[str], calls: int, callers: int, sleep_s: float) -> float:
    def one(n: int) -> tuple[int, str]:
        answer = client.post(f"/actions/{names[n % len(names)]}", params={"blocking": "true"}, json={"sleep": sleep_s})
        return answer.status_code, start_type(answer)

    with ThreadPoolExecutor(callers) as pool:
        warmup = Counter(kind for _, kind in pool.map(one, range(callers * 3)))  # containers started
        before = dispatches(stack)
        started = time.perf_counter()
        answers = list(pool.map(one, range(calls)))
        elapsed = time.perf_counter() - started
    after = dispatches(stack)
    codes, starts = Counter(code for code, _ in answers), Counter(kind for _, kind in answers)
    print(f"  activations per invoker: {sorted(after[i] - before.get(i, 0) for i in after)}")
    print(f"  start types: warm-up {dict(warmup)}, measured {dict(starts)}")
    if set(codes) != {200}:
        print(f"  (not all 200: {dict(codes)})")
    return calls / elapsed


def cluster(calls: int, callers: int, sleep_s: float) -> None:
    from tests.e2e.test_compose_cluster import guest_client

    # no stem cells: the 1024 MB hold 8 containers of 128 MB, warm for the 3 actions (no eviction churn)
    settings = {"STRATUS_USER_MEMORY_MB": "1024", "STRATUS_HEARTBEAT_TTL_S": "3", "STRATUS_STEM_CELLS": "[]"}
    with compose_stack(invokers=1, **settings) as stack:
        client = guest_client(stack)
        action = {"exec": {"kind": "python:3.11", "code": SLEEPY}, "limits": {"timeout": 30000, "memory": 128}}
        names = [f"bench-{uuid4().hex[:6]}" for _ in range(3)]
        for name in names:
            client.put(f"/actions/{name}", json=action).raise_for_status()
        stack.wait_healthy_invokers(1)
        one = throughput(stack, client, names, calls, callers, sleep_s)
        stack.scale_invokers(3)
        stack.wait_healthy_invokers(3)
        three = throughput(stack, client, names, calls, callers, sleep_s)
    print(f"\nThroughput, compose stack, {callers} blocking callers, 3 actions sleeping {sleep_s} s in 128 MB,")
    print(f"1024 MB per invoker (8 slots), {calls} calls per run ({platform.node()}, {os.cpu_count()} cores):")
    print(f"  1 invoker   {one:7.2f} activations/s")
    print(f"  3 invokers  {three:7.2f} activations/s")
    print(f"  ratio       {three / one:7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["scheduling", "throughput"])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--calls", type=int, default=120)
    parser.add_argument("--callers", type=int, default=24)
    parser.add_argument("--sleep", type=float, default=0.5)
    args = parser.parse_args()
    if args.only in (None, "scheduling"):
        asyncio.run(scheduling(args.n))
    if args.only in (None, "throughput"):
        cluster(args.calls, args.callers, args.sleep)


if __name__ == "__main__":
    main()
