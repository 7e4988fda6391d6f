"""Steady traffic with an account of every request, and a side channel that counts every run.

Each function calls the side channel (an HTTP server of the test's, reached from the function network
through its gateway address) with its activation id before it sleeps: a run the platform started twice
shows up as two calls, whatever its records say.
"""

import asyncio
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

RUNNER = """
import os, time, urllib.request

def main(args):
    urllib.request.urlopen("http://%s/ran/" + os.environ["__OW_ACTIVATION_ID"], timeout=10).read()
    time.sleep(args.get("sleep", 0))
    return {"slept": args.get("sleep", 0)}
"""


class RunCounter:
    """Counts GET /ran/<activation id>."""

    def __init__(self, host: str) -> None:
        self.runs: Counter[str] = Counter()
        lock = threading.Lock()
        runs = self.runs

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    runs[self.path.rsplit("/", 1)[-1]] += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self.address = f"{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Outcome:
    sent_s: float
    blocking: bool
    phase: str
    latency_s: float = 0.0
    activation_id: str | None = None  # accepted: the platform owes it one record
    status: int | None = None  # None: no HTTP answer (connection refused or dropped)


@dataclass
class Traffic:
    api: str
    key: str
    actions: list[str]
    rate: float  # requests per second
    phase: str = "start"
    outcomes: list[Outcome] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        uuid, _, secret = self.key.partition(":")
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
        async with httpx.AsyncClient(base_url=self.api, auth=(uuid, secret), timeout=120, limits=limits) as client:
            tasks: set[asyncio.Task[None]] = set()
            rng = random.Random(7)
            started = time.monotonic()
            n = 0
            while not stop.is_set():
                n += 1
                task = asyncio.create_task(self._one(client, rng))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                await asyncio.sleep(max(0.0, started + n / self.rate - time.monotonic()))
            if tasks:
                await asyncio.gather(*tasks)

    async def _one(self, client: httpx.AsyncClient, rng: random.Random) -> None:
        blocking = rng.random() < 0.4
        sleep = rng.choice([0, 0, 0.1, 0.5, 2.0])
        outcome = Outcome(time.monotonic(), blocking, self.phase)
        self.outcomes.append(outcome)
        url = f"/api/v1/namespaces/_/actions/{rng.choice(self.actions)}" + ("?blocking=true" if blocking else "")
        try:
            answer = await client.post(url, json={"sleep": sleep})
        except httpx.HTTPError:
            outcome.latency_s = time.monotonic() - outcome.sent_s
            return
        outcome.latency_s = time.monotonic() - outcome.sent_s
        outcome.status = answer.status_code
        outcome.activation_id = answer.headers.get("x-openwhisk-activation-id")  # only on accepted ones
