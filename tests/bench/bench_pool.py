"""Benchmark: how an activation gets its container — cold, prewarmed, warm, resumed from pause — side by
side with a bare `docker run` of the same image, all in one run and interleaved.

Not part of the test run. Drives the invoker's Runner directly (no gateway, no bus), on the real Docker
engine and the runtime image, for a no-op function of 256 MB:
- sleep: create + start of the same image running `sleep`, through the invoker's own driver (the same
  hardening, mounts and network): the engine's share of a cold start, which the goal is stated against
  (cold ≤ sleep + 100 ms, p50);
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
from functools import partial
from pathlib import Path

import aiohttp
import docker

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core import kinds
from core.config import StemCells
from core.models import Action
from invoker.driver import ContainerSpec
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
            kinds.DEFAULT.image(harness.settings.runtime_repository),
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
            # closed by the server before the container goes: see remove_all
            async with session.get(f"http://{ip}:8080/ping", headers={"Connection": "close"}) as response:
                if response.status == 200:
                    break
        except aiohttp.ClientError:
            await asyncio.sleep(0.002)
    return (time.perf_counter() - started) * 1000


async def sleep_start(harness: Harness) -> float:
    """create + start (and the driver's inspect for the address) of the runtime image running `sleep`."""
    spec = ContainerSpec(
        image=kinds.DEFAULT.image(harness.settings.runtime_repository),
        name=f"stratus_{harness.invoker_id}_sleep_{time.monotonic_ns()}",
        network=harness.settings.network,
        memory_mb=MEMORY,
        cpu_shares=256,
        labels={"org.stratus.invoker": harness.invoker_id},
        command=["sleep", "600"],
    )
    started = time.perf_counter()
    handle = await harness.driver.start(spec)
    took = (time.perf_counter() - started) * 1000
    await harness.driver.remove(handle.container_id)
    return took


def cpu_ns(container: docker.models.containers.Container) -> int:
    return int(container.stats(stream=False)["cpu_stats"]["cpu_usage"]["total_usage"])


async def idle_cpu_ms_per_minute(harness: Harness, action: Action, seconds: float = 10.0) -> float:
    """CPU the warm, idle, running container of `action` burns: what pausing it would save."""
    [container] = harness.containers(action)
    before = await asyncio.to_thread(cpu_ns, container)
    await asyncio.sleep(seconds)
    after = await asyncio.to_thread(cpu_ns, container)
    return (after - before) / 1e6 * 60 / seconds


async def remove_all(harness: Harness) -> None:
    """As the invoker removes its containers: connections closed first (Runner.remove), then the rest.

    A connection left open to a removed container makes the host send to its address after it is gone,
    which leaves the host's ARP entry for that address unresolved; Docker 20.10 gives the next container
    the same address (and MAC), and its first connect then waits for the next ARP retry, a second later.
    """
    await harness.runner.remove(harness.pool.drain())
    for container in harness.containers():
        container.remove(force=True)


async def bench(samples: int, warm_n: int) -> dict[str, list[float]]:
    engine = docker.from_env()
    cells = [StemCells(kind="python:3.11", count=1, memory_mb=MEMORY)]
    harness = Harness(engine, user_memory_mb=4096, stem_cells=cells)
    await harness.driver.ensure_network(harness.settings.network)
    results: dict[str, list[float]] = {
        "sleep": [],
        "bare": [],
        "cold": [],
        "prewarm": [],
        "prewarm_resized": [],
        "warm": [],
        "resume": [],
        "idle_cpu": [],
    }
    async with aiohttp.ClientSession() as session:
        try:
            await harness.run(harness.action(NOOP, memory=MEMORY))  # warm-up: image in page cache, first start
            await remove_all(harness)
            for _ in range(samples):  # interleaved: sleep, bare, cold, prewarm (same size, another size)
                results["sleep"].append(await sleep_start(harness))
                results["bare"].append(await bare_docker_run(engine, harness, session))
                await remove_all(harness)
                results["cold"].append(await timed(lambda: harness.run(harness.action(NOOP, memory=MEMORY))))
                await remove_all(harness)
                await harness.runner.refill_stem_cells()  # off the clock
                results["prewarm"].append(await timed(lambda: harness.run(harness.action(NOOP, memory=MEMORY))))
                await remove_all(harness)
                await harness.runner.refill_stem_cells()  # off the clock; taken over at half its size
                resized = harness.action(NOOP, memory=MEMORY // 2)
                results["prewarm_resized"].append(await timed(partial(harness.run, resized)))
                await remove_all(harness)
            action = harness.action(NOOP, memory=MEMORY)
            await harness.run(action)
            results["idle_cpu"].append(await idle_cpu_ms_per_minute(harness, action))
            for n in range(warm_n):
                results["warm"].append(await timed(lambda: harness.run(action)))
                if n % max(1, warm_n // samples) == 0:  # a pause/resume sample every so often
                    await harness.runner.pause_idle(time.monotonic() + 3600, grace_s=1)
                    results["resume"].append(await timed(lambda: harness.run(action)))
        finally:
            await remove_all(harness)
            await harness.proxy.aclose()
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
        "sleep": "create + start of the image running sleep",
        "bare": "bare docker run + first /ping 200",
        "cold": "cold start",
        "prewarm": "prewarmed start (stem cell)",
        "prewarm_resized": f"prewarmed start, {MEMORY // 2} MB (cell resized)",
        "warm": "warm start",
        "resume": "warm start on a paused container",
    }
    for name, label in labels.items():
        s = stats[name]
        print(f"{label:<44}{len(results[name]):>5}{s['p50']:>10.2f}{s['p90']:>10.2f}{s['p99']:>10.2f}{s['max']:>10.2f}")
    print(f"{'unpause cost (resume - warm, p50)':<44}{'':>5}{stats['resume']['p50'] - stats['warm']['p50']:>10.2f}")
    print(f"{'ratio cold / bare docker run (p50)':<44}{'':>5}{stats['cold']['p50'] / stats['bare']['p50']:>10.2f}")
    over_sleep = stats["cold"]["p50"] - stats["sleep"]["p50"]
    print(f"{'cold - create+start of sleep (p50; goal 100)':<44}{'':>5}{over_sleep:>10.2f}")
    resize = stats["prewarm_resized"]["p50"] - stats["prewarm"]["p50"]
    print(f"{'resize on take-over (prewarm delta, p50)':<44}{'':>5}{resize:>10.2f}")
    print(f"{'CPU of an idle running container (ms/min)':<44}{'':>5}{idle_cpu:>10.2f}")
    print(f"{'ratio prewarm / cold (p50)':<44}{'':>5}{stats['prewarm']['p50'] / stats['cold']['p50']:>10.2f}")


if __name__ == "__main__":
    main()
