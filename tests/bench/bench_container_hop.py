"""Benchmark: the invoker -> container hop, the platform's per-activation floor, with two HTTP clients.

Not part of the test run. Starts one runtime container (a no-op action, /init done), then sends N
/run requests through the invoker's own client (invoker.http1, via ProxyClient) and through aiohttp
(what ProxyClient used before), interleaved in rounds, at concurrency 1 and 16. Prints requests/s,
p50/p99 latency and the client's own CPU per request (process time: what the invoker pays).

    python tests/bench/bench_container_hop.py [--n 3000] [--rounds 3]
"""

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from invoker.proxy_client import ProxyClient
from tests.invoker_harness import Harness, running_harness

NOOP = "def main(args):\n    return {'ok': True}\n"
PAYLOAD = {
    "value": {},
    "namespace": "ns",
    "action_name": "/ns/noop",
    "action_version": "0.0.1",
    "activation_id": "0" * 32,
    "transaction_id": "0" * 32,
    "deadline": "9999999999999",
}

Send = Callable[[], Awaitable[None]]


async def measure(send: Send, n: int, concurrency: int) -> tuple[float, float, float, float]:
    """(requests/s, p50 ms, p99 ms, client CPU µs per request)."""
    latencies: list[float] = []
    per_task = n // concurrency

    async def worker() -> None:
        for _ in range(per_task):
            started = time.perf_counter()
            await send()
            latencies.append((time.perf_counter() - started) * 1000)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    ordered = sorted(latencies)
    return len(ordered) / wall, statistics.median(ordered), ordered[int(0.99 * len(ordered))], cpu / len(ordered) * 1e6


async def main(n: int, rounds: int) -> None:
    import docker

    engine = docker.from_env()
    async with running_harness(engine) as harness:
        address = await warm_container(harness)
        proxy = ProxyClient()
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=False)
        headers = {"X-Stratus-Envelope": "1", "Content-Type": "application/json"}

        async def ours() -> None:
            answer = await proxy.run(address, PAYLOAD, 10, 1 << 20)
            assert answer.status == 200

        async def theirs() -> None:
            async with session.post(address + "/run", json=PAYLOAD, headers=headers) as response:
                await response.read()
                assert response.status == 200

        clients = {"invoker.http1": ours, "aiohttp": theirs}
        results: dict[tuple[str, int], list[tuple[float, float, float, float]]] = {}
        for send in clients.values():
            await measure(send, 300, 4)  # warm-up: connections open
        for _ in range(rounds):
            for concurrency in (1, 16):
                for name, send in clients.items():
                    results.setdefault((name, concurrency), []).append(await measure(send, n, concurrency))
        await session.close()
        await proxy.aclose()
    engine.close()
    print(f"\ninvoker -> container hop, {n} POST /run per round, {rounds} rounds, median of rounds")
    print(f"{'client':<16}{'conc':>5}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}")
    for (name, concurrency), rows in results.items():
        medians = [statistics.median(column) for column in zip(*rows, strict=True)]
        print(f"{name:<16}{concurrency:>5}{medians[0]:9.0f}{medians[1]:9.2f}{medians[2]:9.2f}{medians[3]:12.0f}")


async def warm_container(harness: Harness) -> str:
    action = harness.action(NOOP, memory=128, concurrency=100)
    await harness.run(action)
    [container] = harness.containers(action)
    container.reload()
    ip = next(n["IPAddress"] for n in container.attrs["NetworkSettings"]["Networks"].values() if n["IPAddress"])
    return f"http://{ip}:8080"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
