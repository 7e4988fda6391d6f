"""Benchmark: how an activation gets its container — cold, prewarmed, warm, resumed from pause — side by
side with a bare `docker run` of the same image, all in one run and interleaved.

Not part of the test run. Drives the invoker's Runner directly (no gateway, no bus), on the real Docker
engine and the runtime image, for a no-op function of 256 MB:
- bare: `docker run -d` of the runtime image on the function network (no hardening options), then
  GET /ping until it answers: the floor a cold start stands on;
- cold: a new action (no stem cell of its size), the whole Runner.run;
- prewarm: a new action taking a started stem cell (refilled, off the clock, before each sample);
- warm: the same action again;
- resume: the same action after its container was paused.

    python tests/bench/bench_pool.py [--samples 20] [--warm 200]
"""

import argparse
import asyncio
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import docker

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stratus.config import StemCells
from stratus.models import Action
from tests.invoker_harness import Harness

NOOP = "def main(args):\n    return {'ok': True}\n"
MEMORY = 256


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": statistics.median(ordered), "p90": pick(0.90), "p99": pick(0.99), "max": ordered[-1]}


async def timed(work: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await work()
    return (time.perf_counter() - started) * 1000


async def bare_docker_run(engine: docker.DockerClient, harness: Harness, session: aiohttp.ClientSession) -> float:
    """create + start + first HTTP 200, as a user would with `docker run` and curl."""
    started = time.perf_counter()

    def run() -> str:
        container = engine.containers.run(
            harness.settings.runtime_image,
            detach=True,
            network=harness.settings.network,
            mem_limit=f"{MEMORY}m",
            labels={"org.stratus.invoker": harness.invoker_id},
        )
        container.reload()
        return str(container.attrs["NetworkSettings"]["Networks"][harness.settings.network]["IPAddress"])

    ip = await asyncio.to_thread(run)
    while True:
        try:
            async with session.get(f"http://{ip}:8080/ping") as response:
                if response.status == 200:
                    break
        except aiohttp.ClientError:
            await asyncio.sleep(0.002)
    return (time.perf_counter() - started) * 1000


def cpu_ns(container: docker.models.containers.Container) -> int:
    return int(container.stats(stream=False)["cpu_stats"]["cpu_usage"]["total_usage"])


async def idle_cpu_ms_per_minute(harness: Harness, action: Action, seconds: float = 10.0) -> float:
    """CPU the warm, idle, running container of `action` burns: what pausing it would save."""
    [container] = harness.containers(action)
    before = await asyncio.to_thread(cpu_ns, container)
    await asyncio.sleep(seconds)
    after = await asyncio.to_thread(cpu_ns, container)
    return (after - before) / 1e6 * 60 / seconds


def remove_all(harness: Harness) -> None:
    for container in harness.containers():
        container.remove(force=True)


async def bench(samples: int, warm_n: int) -> dict[str, list[float]]:
    engine = docker.from_env()
    cells = [StemCells(kind="python:3.11", count=1, memory_mb=MEMORY)]
    harness = Harness(engine, user_memory_mb=4096, stem_cells=cells)
    await harness.driver.ensure_network(harness.settings.network)
    results: dict[str, list[float]] = {"bare": [], "cold": [], "prewarm": [], "warm": [], "resume": [], "idle_cpu": []}
    async with aiohttp.ClientSession() as session:
        try:
            await harness.run(harness.action(NOOP, memory=MEMORY))  # warm-up: image in page cache, first start
            remove_all(harness)
            harness.pool.drain()
            for _ in range(samples):  # interleaved: bare, cold, prewarm
                results["bare"].append(await bare_docker_run(engine, harness, session))
                remove_all(harness)
                harness.pool.drain()
                results["cold"].append(await timed(lambda: harness.run(harness.action(NOOP, memory=MEMORY))))
                remove_all(harness)
                harness.pool.drain()
                await harness.runner.refill_stem_cells()  # off the clock
                results["prewarm"].append(await timed(lambda: harness.run(harness.action(NOOP, memory=MEMORY))))
                remove_all(harness)
                harness.pool.drain()
            action = harness.action(NOOP, memory=MEMORY)
            await harness.run(action)
            results["idle_cpu"].append(await idle_cpu_ms_per_minute(harness, action))
            for n in range(warm_n):
                results["warm"].append(await timed(lambda: harness.run(action)))
                if n % max(1, warm_n // samples) == 0:  # a pause/resume sample every so often
                    await harness.runner.pause_idle(time.monotonic() + 3600, grace_s=1)
                    results["resume"].append(await timed(lambda: harness.run(action)))
        finally:
            await harness.proxy.aclose()
            remove_all(harness)
            harness.driver.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20, help="cold / prewarm / bare / resume samples")
    parser.add_argument("--warm", type=int, default=200, help="warm samples")
    args = parser.parse_args()
    engine = docker.from_env()
    version = engine.version()["Version"]
    cgroup = engine.info().get("CgroupVersion", "?")
    print(
        f"\nStratus container start benchmark  {time.strftime('%Y-%m-%d %H:%M:%S')}  python {platform.python_version()}"
        f"  kernel {platform.release()}  docker {version}  cgroup v{cgroup}  bridge network  {MEMORY} MB no-op"
    )
    results = asyncio.run(bench(args.samples, args.warm))
    idle_cpu = results.pop("idle_cpu")[0]
    stats = {name: percentiles(samples) for name, samples in results.items()}
    print(f"{'start (ms, Runner.run end to end)':<44}{'n':>5}{'p50':>10}{'p90':>10}{'p99':>10}{'max':>10}")
    labels = {
        "bare": "bare docker run + first /ping 200",
        "cold": "cold start",
        "prewarm": "prewarmed start (stem cell)",
        "warm": "warm start",
        "resume": "warm start on a paused container",
    }
    for name, label in labels.items():
        s = stats[name]
        print(f"{label:<44}{len(results[name]):>5}{s['p50']:>10.2f}{s['p90']:>10.2f}{s['p99']:>10.2f}{s['max']:>10.2f}")
    print(f"{'unpause cost (resume - warm, p50)':<44}{'':>5}{stats['resume']['p50'] - stats['warm']['p50']:>10.2f}")
    print(f"{'ratio cold / bare docker run (p50)':<44}{'':>5}{stats['cold']['p50'] / stats['bare']['p50']:>10.2f}")
    print(f"{'CPU of an idle running container (ms/min)':<44}{'':>5}{idle_cpu:>10.2f}")
    print(f"{'ratio prewarm / cold (p50)':<44}{'':>5}{stats['prewarm']['p50'] / stats['cold']['p50']:>10.2f}")


if __name__ == "__main__":
    main()
