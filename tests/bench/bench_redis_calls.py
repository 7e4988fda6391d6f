"""Benchmark: one Redis round trip as the hot path makes it, against the same bytes on a bare socket, one run.

Not part of the test run. Against a running Redis (STRATUS_REDIS_URL, default a redis-server this script
starts on a free loopback port), one caller sends, one at a time, an EVALSHA of a one-line script (the
shape of the ledger's place and end calls) and a non-blocking XREADGROUP (a consumer's read), through:
- `pipeline`: redis-py's pipeline on the pool (how the ledger and the bus sent them before core.redis_lane);
- `command`: redis-py's single command on the pool;
- `lane`: core.redis_lane.Lane, a held connection;
- `socket`: the packed command written on an asyncio stream, the reply parsed by hiredis (the floor).
Prints p50 / p90 µs and CPU µs per call, and each one's ratio to the socket. Rounds alternate, on uvloop,
as the services run.

    python tests/bench/bench_redis_calls.py [--calls 4000] [--rounds 3]
"""

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlparse

import hiredis
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.bus import redis_client
from core.redis_lane import Lane
from standalone.embedded import free_port

SCRIPT = "return redis.call('HINCRBY', KEYS[1], 'n', 1)"
KEY, STREAM, GROUP = "bench:calls:hash", "bench:calls:stream", "bench"


def resp(*parts: str | int) -> bytes:
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        raw = str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(raw), raw))
    return b"".join(out)


async def timed(call: Callable[[], Awaitable[object]], n: int) -> tuple[float, float, float]:
    for _ in range(n // 10):
        await call()
    took: list[int] = []
    cpu = time.process_time()
    for _ in range(n):
        start = time.perf_counter_ns()
        await call()
        took.append(time.perf_counter_ns() - start)
    cpu_us = (time.process_time() - cpu) / n * 1e6
    took.sort()
    return took[n // 2] / 1000, took[n * 9 // 10] / 1000, cpu_us


async def run(url: str, calls: int, rounds: int) -> None:
    client = redis_client(url)
    loaded = await client.script_load(SCRIPT)
    sha = loaded.decode() if isinstance(loaded, bytes) else str(loaded)
    await client.delete(STREAM)
    await client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    lane = Lane(client)
    where = urlparse(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port or 6379)
    parser = hiredis.Reader()

    async def on_socket(packed: bytes) -> object:
        writer.write(packed)
        while (reply := parser.gets()) is False:
            parser.feed(await reader.read(65536))
        return reply

    async def pipeline_evalsha() -> object:
        async with client.pipeline(transaction=False) as pipe:
            pipe.evalsha(sha, 1, KEY)
            return await pipe.execute()

    evalsha = ("EVALSHA", sha, 1, KEY)
    xread = ("XREADGROUP", "GROUP", GROUP, "c", "COUNT", 16, "STREAMS", STREAM, ">")
    variants: dict[str, dict[str, Callable[[], Awaitable[object]]]] = {
        "EVALSHA": {
            "pipeline": pipeline_evalsha,
            "command": lambda: client.evalsha(sha, 1, KEY),
            "lane": lambda: lane.call([evalsha]),
            "socket": lambda: on_socket(resp(*evalsha)),
        },
        "XREADGROUP (nothing new)": {  # the bus read with a single command
            "command": lambda: client.xreadgroup(GROUP, "c", {STREAM: ">"}, count=16),
            "lane": lambda: lane.call([xread]),
            "socket": lambda: on_socket(resp(*xread)),
        },
    }
    for name, ways in variants.items():
        results: dict[str, list[tuple[float, float, float]]] = {way: [] for way in ways}
        for _ in range(rounds):
            for way, call in ways.items():
                results[way].append(await timed(call, calls))
        print(f"\n{name}, {calls} calls x {rounds} rounds (median round)")
        print(f"{'':10} {'p50 µs':>8} {'p90 µs':>8} {'CPU µs':>8} {'p50 / socket':>13} {'CPU / socket':>13}")
        floor = sorted(results["socket"])[rounds // 2]
        for way, rows in results.items():
            p50, p90, cpu = sorted(rows)[rounds // 2]
            print(f"{way:10} {p50:8.1f} {p90:8.1f} {cpu:8.1f} {p50 / floor[0]:12.2f}x {cpu / floor[2]:12.2f}x")
    writer.close()
    await client.delete(STREAM, KEY)
    await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = os.environ.get("STRATUS_REDIS_URL")
    server = None
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    try:
        if url is None:
            port = free_port()
            binary = shutil.which("redis-server") or "redis-server"
            server = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
                stdout=subprocess.DEVNULL,
            )
            time.sleep(0.5)
            url = f"redis://127.0.0.1:{port}/0"
        uvloop.run(run(url, args.calls, args.rounds))
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
