"""Benchmark: the gateway's HTTP protocol (one write per response) against uvicorn's httptools, one run.

Not part of the test run. Serves a tiny ASGI app (a JSON head and body, as the invoke route answers)
with each protocol in turn, in a process of its own, and drives it with 32 closed-loop aiohttp clients;
prints requests/s and the CPU per request of the server and of the client. Rounds alternate, as this
VM's speed drifts between runs.

    python tests/bench/bench_http_writes.py [--rounds 3] [--seconds 6]
"""

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from standalone.embedded import free_port
from tests.bench.bench_throughput import closed_loop, cpu_s

SERVER = """
import sys, uvicorn
from gateway.http_protocol import JoinedWritesProtocol

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"11")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})

http = JoinedWritesProtocol if sys.argv[2] == "joined" else "httptools"
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), http=http, log_level="warning", access_log=False)
"""


async def drive(port: int, seconds: float, clients: int = 32) -> int:
    """Requests answered 200 by `clients` closed-loop clients in `seconds`."""

    async def call(session: aiohttp.ClientSession) -> bool:
        async with session.get(f"http://127.0.0.1:{port}/") as response:
            await response.read()
            return response.status == 200

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        window = await closed_loop(call, clients, seconds, session)
    return len(window.latencies_ms)


def measure(variant: str, seconds: float) -> tuple[float, float, float]:
    port = free_port()
    root = str(Path(__file__).resolve().parents[2])
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), variant], cwd=root)
    try:
        time.sleep(1.5)
        asyncio.run(drive(port, 1))  # warm-up
        server_before, client_before = cpu_s(server.pid), time.process_time()
        done = asyncio.run(drive(port, seconds))
        server_s, client_s = cpu_s(server.pid) - server_before, time.process_time() - client_before
    finally:
        server.terminate()
        server.wait()
    return done / seconds, server_s * 1e6 / done, client_s * 1e6 / done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    print(f"{'protocol':<28}{'req/s':>9}{'server µs/req':>15}{'client µs/req':>15}")
    for _ in range(args.rounds):
        for variant, label in (("plain", "uvicorn httptools"), ("joined", "JoinedWritesProtocol")):
            rate, server_us, client_us = measure(variant, args.seconds)
            print(f"{label:<28}{rate:9.0f}{server_us:15.1f}{client_us:15.1f}", flush=True)


if __name__ == "__main__":
    main()
