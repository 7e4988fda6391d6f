"""Benchmark: warm throughput of `stratus standalone` beside a direct call of the same container, one run.

Not part of the test run. Starts `stratus standalone` on its embedded defaults in a temporary data
directory (log level WARNING, as users run it), or with `--compose` the compose stack (offline images,
one invoker, log level WARNING too; CPU by service, and by the docker-proxy processes of its published
ports; the load generator calls the gateway container's address, or with `--published-port` its port
on 127.0.0.1) and the standalone beside it: both up at once, their rounds alternating (compose's paths,
then the standalone's, round after round), so that the machine's drift falls on both alike; a line per
path compares the two, and each reports what its processes spent while the other was measured. Each
deploys a no-op action with concurrency 100 and one with concurrency 1, warms them, then runs closed-loop
rounds of C clients (aiohttp, one event loop):
- direct: `POST /run` straight into the concurrency-100 action's warm container (the bare baseline);
- c=100:  blocking `result=true` invocations of the concurrency-100 action through the API;
- c=1:    the same for the concurrency-1 action (one container per activation in flight).
Rounds are interleaved (direct, c=100, c=1, direct, ...). It prints invocations/s, p50, p99, failures,
Redis commands per activation (`INFO commandstats` before and after) and the platform/direct ratio.

With `--soak SECONDS` it then drives the c=100 action (compose's, with `--compose`) for that long and
prints, every 30 s, the rate, p50/p99 of the window, Redis memory, the records written to the activation
store so far, one probe write's latency, and the direct path's rate in 3 s after each window (with the
ratio: the machine's speed drifts over ten minutes).

    python tests/bench/bench_throughput.py [--clients 32] [--seconds 10] [--rounds 3] [--soak 600]
        [--compose [--published-port]]
"""

import argparse
import asyncio
import base64
import os
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import docker
import redis
from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.compose_stack import compose_stack
from tests.standalone_process import start_standalone_printing, stop

NOOP = "def main(args):\n    return {'ok': True}\n"
MEMORY_MB = 128
USER_MEMORY_MB = 8192  # room for one container per client of the concurrency-1 action


@dataclass
class Window:
    latencies_ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / max(self.ended - self.started, 1e-9)

    def fail(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1


def pct(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


Call = Callable[[aiohttp.ClientSession], Awaitable[bool]]


async def closed_loop(call: Call, clients: int, seconds: float, session: aiohttp.ClientSession) -> Window:
    window = Window(started=time.perf_counter())
    deadline = window.started + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                ok = await call(session)
            except (aiohttp.ClientError, TimeoutError) as exc:
                window.fail(type(exc).__name__)
                continue
            if ok:
                window.latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                window.fail("status")

    await asyncio.gather(*(client() for _ in range(clients)))
    window.ended = time.perf_counter()
    return window


def invoke_call(api: str, name: str, auth: dict[str, str]) -> Call:
    url = f"{api}/api/v1/namespaces/_/actions/{name}?blocking=true&result=true"

    async def call(session: aiohttp.ClientSession) -> bool:
        async with session.post(url, json={}, headers=auth) as response:
            await response.read()
            return response.status == 200

    return call


def direct_call(address: str) -> Call:
    body = {
        "value": {},
        "activation_id": "0" * 32,
        "namespace": "guest",
        "action_name": "/guest/bench",
        "action_version": "0.0.1",
        "transaction_id": "bench",
        "deadline": str(int(time.time() * 1000) + 3_600_000),
    }
    headers = {"X-Stratus-Envelope": "1"}

    async def call(session: aiohttp.ClientSession) -> bool:
        async with session.post(f"{address}/run", json=body, headers=headers) as response:
            await response.read()
            return response.status == 200

    return call


async def put_action(session: aiohttp.ClientSession, api: str, auth: dict[str, str], name: str, conc: int) -> None:
    body = {"exec": {"kind": "python:3.11", "code": NOOP}, "limits": {"memory": MEMORY_MB, "concurrency": conc}}
    url = f"{api}/api/v1/namespaces/_/actions/{name}?overwrite=true"
    async with session.put(url, json=body, headers=auth) as response:
        response.raise_for_status()


def container_address(name: str) -> str:
    engine = docker.from_env()
    try:
        containers = engine.containers.list(filters={"label": [f"org.stratus.action=guest/{name}"]})
        networks = containers[0].attrs["NetworkSettings"]["Networks"]
        ip = next(n["IPAddress"] for n in networks.values() if n["IPAddress"])
        return f"http://{ip}:8080"
    finally:
        engine.close()


def process_tree(root: int) -> dict[int, str]:
    """pid -> name of `root` and its descendants (the standalone, its embedded servers, its workers)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        parents[int(stat.parent.name)], names[int(stat.parent.name)] = int(fields[1]), part_name(argv)
    tree, frontier = {root: names.get(root, "?")}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree[pid] = names[pid]
                frontier.append(pid)
    return tree


def part_name(argv: list[bytes]) -> str:
    line = b" ".join(argv).decode(errors="replace")
    for marker, name in (("secantus", "activation store (SecantusDB)"), ("redis-server", "redis")):
        if marker in line:
            return name
    if "-m gateway" in line:
        return "API workers"
    if "-m controller" in line:
        return "controller"
    return "invoker (standalone)" if "-m standalone" in line or "stratus" in line else line[:40]


def cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(container: Any) -> float:
    stats = container.stats(stream=False, one_shot=True)  # one sample, without waiting a second for a second
    return float(stats["cpu_stats"]["cpu_usage"]["total_usage"]) / 1e9


def container_cpu_s(name: str) -> float:
    engine = docker.from_env()
    try:
        containers = engine.containers.list(filters={"label": [f"org.stratus.action=guest/{name}"]})
        return sum(cpu_of(c) for c in containers)
    finally:
        engine.close()


Parts = Callable[[], dict[str, float]]  # CPU seconds used so far by each part of the platform


def standalone_parts(root: int) -> Parts:
    def parts() -> dict[str, float]:
        used: dict[str, float] = {}
        for pid, name in process_tree(root).items():
            used[name] = used.get(name, 0.0) + cpu_s(pid)
        return used

    return parts


def compose_parts(project: str, published_ports: list[str]) -> Parts:
    """By compose service, and the docker-proxy processes that relay the stack's published ports (the
    invokers, in the host's network, reach MongoDB and MariaDB through them, as the load generator reaches
    the gateway)."""
    engine = docker.from_env()
    services = {
        c.id: c.labels["com.docker.compose.service"]
        for c in engine.containers.list(filters={"label": f"com.docker.compose.project={project}"})
    }
    containers = {cid: engine.containers.get(cid) for cid in services}
    proxies = []
    for proc in Path("/proc").glob("[0-9]*"):
        argv = (proc / "cmdline").read_bytes().split(b"\0") if (proc / "cmdline").exists() else []
        if argv and argv[0].endswith(b"docker-proxy") and any(port.encode() in argv for port in published_ports):
            proxies.append(int(proc.name))

    def parts() -> dict[str, float]:
        used: dict[str, float] = {"docker-proxy (published ports)": sum(cpu_s(pid) for pid in proxies)}
        for cid, service in services.items():
            used[service] = used.get(service, 0.0) + cpu_of(containers[cid])
        return used

    return parts


class CpuMeter:
    """CPU seconds each part of the platform spends: robust on a busy machine, unlike a rate."""

    def __init__(self, parts: Parts, action: str) -> None:
        self._parts, self._action = parts, action

    def sample(self) -> dict[str, float]:
        used = self._parts()
        used["container"] = container_cpu_s(self._action)
        used["load generator"] = time.process_time()
        return used


def command_calls(client: redis.Redis) -> dict[str, int]:
    stats: dict[str, Any] = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info"}


async def recorder_batches(session: aiohttp.ClientSession, metrics: str) -> tuple[float, float]:
    """(records, batches) the recorders wrote so far, from the /metrics that holds the controller's: the API's
    in the standalone, the controller's own in compose."""
    async with session.get(metrics) as response:
        text = await response.text()
    found = {"_sum": 0.0, "_count": 0.0}
    for line in text.splitlines():
        for suffix in found:
            if line.startswith(f"stratus_recorder_batch_records{suffix} "):
                found[suffix] = float(line.split()[-1])
    return found["_sum"], found["_count"]


def redis_calls(client: redis.Redis) -> int:
    return sum(command_calls(client).values())


@dataclass
class Result:
    label: str
    windows: list[Window] = field(default_factory=list)
    redis_calls: int = 0

    def row(self, direct_rate: float | None) -> str:
        lat = [x for w in self.windows for x in w.latencies_ms]
        n = len(lat)
        seconds = sum(w.ended - w.started for w in self.windows)
        rate = n / seconds if seconds else 0.0
        failures = sum(sum(w.failures.values()) for w in self.windows)
        per = f"{self.redis_calls / n:8.1f}" if n and self.redis_calls else f"{'-':>8}"
        ratio = f"{rate / direct_rate:7.2f}x" if direct_rate else f"{'':>8}"
        return f"{self.label:<34}{rate:9.0f}{pct(lat, 0.5):9.1f}{pct(lat, 0.99):9.1f}{failures:9d}{per}{ratio}"

    @property
    def rate(self) -> float:
        n = sum(len(w.latencies_ms) for w in self.windows)
        return n / max(sum(w.ended - w.started for w in self.windows), 1e-9)


@dataclass
class Target:
    """One platform under test: where to call it, its parts' CPU, its Redis, its recorders' /metrics."""

    name: str  # "" when it runs alone; "compose" / "standalone" when the two alternate
    api: str
    auth: dict[str, str]
    urls: dict[str, str]
    parts: Parts
    metrics: str
    c100: Call | None = None  # the concurrency-100 action's call, for the breakdown and the soak
    calls: dict[str, Call] = field(default_factory=dict)
    results: dict[str, Result] = field(default_factory=dict)
    idle_cpu_s: float = 0.0  # its processes' CPU while the other target was being measured
    idle_s: float = 0.0

    def action(self, concurrency: int) -> str:
        """Each target's actions have names of their own: the direct path finds its container by name."""
        return f"{self.name}-noop-c{concurrency}" if self.name else f"noop-c{concurrency}"


async def prepare(target: Target, args: argparse.Namespace, session: aiohttp.ClientSession) -> None:
    paths = args.paths.split(",")
    await put_action(session, target.api, target.auth, target.action(100), 100)
    await put_action(session, target.api, target.auth, target.action(1), 1)
    c100 = invoke_call(target.api, target.action(100), target.auth)
    c1 = invoke_call(target.api, target.action(1), target.auth)
    print(f"warming up {target.name or 'Stratus'} ...", flush=True)
    await closed_loop(c100, args.clients, 3, session)
    if "c1" in paths:  # a container for every client of the concurrency-1 action
        await closed_loop(c1, args.clients, 8, session)
    direct = direct_call(container_address(target.action(100)))
    await closed_loop(direct, args.clients, 2, session)
    target.c100 = c100
    target.calls = {k: v for k, v in {"direct": direct, "c100": c100, "c1": c1}.items() if k in paths}
    labels = {
        "direct": "direct POST /run (same container)",
        "c100": "Stratus, concurrency 100",
        "c1": "Stratus, concurrency 1",
    }
    target.results = {k: Result(labels[k]) for k in target.calls}


async def measure(targets: list[Target], args: argparse.Namespace) -> None:
    """Every target's paths in turn, round after round (direct, c=100, c=1, then the next target's), so that
    the machine's drift falls on all of them alike; then each one's report and breakdown."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        for target in targets:
            await prepare(target, args, session)
        counters = [redis.Redis.from_url(t.urls["STRATUS_REDIS_URL"]) for t in targets]
        written_before = [await recorder_batches(session, t.metrics) for t in targets]
        for n in range(args.rounds):
            for target, counter in zip(targets, counters, strict=True):
                await one_round(n, target, [t for t in targets if t is not target], counter, args, session)
        for target, counter, before in zip(targets, counters, written_before, strict=True):
            await summarize(target, counter, before, args, session)
        if args.soak and targets[0].c100:
            await soak(
                targets[0].c100,
                targets[0].calls.get("direct"),
                args,
                session,
                counters[0],
                targets[0].urls,
                targets[0].metrics,
            )
        for counter in counters:
            counter.close()


async def one_round(
    n: int,
    target: Target,
    others: list[Target],
    counter: redis.Redis,
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
) -> None:
    """The target's paths once each; what the other targets' processes spend meanwhile is their idle cost."""
    idle_before, started = [sum(other.parts().values()) for other in others], time.perf_counter()
    for key, call in target.calls.items():
        before = redis_calls(counter)
        window = await closed_loop(call, args.clients, args.seconds, session)
        target.results[key].windows.append(window)
        target.results[key].redis_calls += redis_calls(counter) - before if key != "direct" else 0
        print(f"  round {n + 1} {target.name} {key:<7} {window.rate:8.0f}/s  failures {window.failures}", flush=True)
    for other, cpu in zip(others, idle_before, strict=True):
        other.idle_cpu_s += sum(other.parts().values()) - cpu
        other.idle_s += time.perf_counter() - started


async def summarize(
    target: Target,
    counter: redis.Redis,
    written_before: tuple[float, float],
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
) -> None:
    if target.name:
        print(f"\n=== {target.name}")
    report(target.results, args)
    written_after = await recorder_batches(session, target.metrics)
    records, batches = (after - before for after, before in zip(written_after, written_before, strict=True))
    print(f"Records written to the activation store per batch (recorder): {records / max(batches, 1):.1f}")
    if target.idle_s:
        share = 100 * target.idle_cpu_s / target.idle_s
        print(f"While the other platform was measured, this one's processes used {share:.1f} % of one core (idle)")
    assert target.c100 is not None
    meter = CpuMeter(target.parts, target.action(100))
    await breakdown(target.c100, target.calls.get("direct"), args, session, counter, meter)


async def breakdown(
    call: Call,
    direct: Call | None,
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
    counter: redis.Redis,
    meter: CpuMeter,
) -> None:
    """Where one activation's cost goes: Redis commands (inside scripts included), round trips, CPU per part.
    With the direct path, also the CPU of one direct call (container and load generator): this VM's speed
    drifts by 15 % or more between runs, and the ratio of the two CPU figures does not."""
    commands, reads, cpu = command_calls(counter), int(counter.info("stats")["total_reads_processed"]), meter.sample()
    window = await closed_loop(call, args.clients, args.seconds, session)
    n = max(len(window.latencies_ms), 1)
    after, reads_after, cpu_after = (
        command_calls(counter),
        int(counter.info("stats")["total_reads_processed"]),
        meter.sample(),
    )
    per = sorted(((after[k] - commands.get(k, 0)) / n, k) for k in after if after[k] != commands.get(k, 0))
    print(f"\nOne more window of the concurrency-100 action: {window.rate:.0f}/s")
    print("Redis commands per activation (inside scripts too): " + ", ".join(f"{k} {v:.2f}" for v, k in reversed(per)))
    print(f"Redis requests read per activation (round trips; a pipeline is one): {(reads_after - reads) / n:.2f}")
    print(
        "CPU per activation (ms): "
        + ", ".join(f"{k} {(cpu_after[k] - cpu.get(k, 0)) * 1000 / n:.3f}" for k in cpu_after)
    )
    total_s = sum(cpu_after[k] - cpu.get(k, 0) for k in cpu_after)
    cores = os.cpu_count() or 1
    print(
        f"  total {total_s * 1000 / n:.3f} ms: all {cores} cores would serve ≈ {cores * n / max(total_s, 1e-9):.0f}/s"
    )
    platform_s = sum(cpu_after[k] - cpu.get(k, 0) for k in cpu_after if k not in ("container", "load generator"))
    print(f"  the platform's own processes {platform_s * 1000 / n:.3f} ms (no container, no load generator)")
    if direct is None:
        return
    before = meter.sample()
    window = await closed_loop(direct, args.clients, args.seconds, session)
    after = meter.sample()
    calls = max(len(window.latencies_ms), 1)
    direct_s = sum(after[k] - before[k] for k in ("container", "load generator"))
    print(
        f"One more direct window: {window.rate:.0f}/s, {direct_s * 1000 / calls:.3f} ms CPU per call "
        f"(container and load generator); a Stratus activation costs {total_s / n / (direct_s / calls):.1f} of them"
    )


def report(results: dict[str, Result], args: argparse.Namespace) -> None:
    engine = docker.from_env()
    version = engine.version()["Version"]
    engine.close()
    print(
        f"\nStratus throughput  {time.strftime('%Y-%m-%d %H:%M:%S')}  python {platform.python_version()}  "
        f"kernel {platform.release()}  docker {version}  cpus {os.cpu_count()}"
    )
    print(f"{args.clients} closed-loop clients, warm no-op ({MEMORY_MB} MB), {args.rounds} x {args.seconds:.0f} s each")
    print(f"{'path':<34}{'inv/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>9}{'redis/a':>8}{'ratio':>8}")
    direct_rate = results["direct"].rate if "direct" in results else None
    for key, result in results.items():
        print(result.row(None if key == "direct" else direct_rate))


DIRECT_PROBE_S = 3.0


async def soak(
    call: Call,
    direct: Call | None,
    args: argparse.Namespace,
    session: aiohttp.ClientSession,
    counter: redis.Redis,
    urls: dict[str, str],
    metrics: str,
) -> None:
    """Windows of 30 s, each followed by a short direct window when there is a direct path: the machine's own
    drift over ten minutes can exceed what the platform loses, and the ratio to direct tells them apart."""
    mongo: MongoClient[dict[str, Any]] = MongoClient(urls["STRATUS_MONGO_URL"])
    probe = mongo["stratus_bench"]["probe"]
    print(f"\nsoak: {args.soak:.0f} s of the concurrency-100 action, a line every 30 s")
    heading = f"{'t (s)':>6}{'inv/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}"
    print(heading + f"{'redis MB':>10}{'written':>10}{'probe ms':>10}{'direct/s':>10}{'ratio':>8}")
    soaked = 0.0  # seconds of the platform's windows: the direct ones do not count, so none is cut short
    first: tuple[float, float] | None = None
    last = (0.0, 0.0)
    while args.soak - soaked > 1.0:
        window = await closed_loop(call, args.clients, min(30.0, args.soak - soaked), session)
        soaked += window.ended - window.started
        memory_mb = int(counter.info("memory")["used_memory"]) / 1e6
        t0 = time.perf_counter()
        await asyncio.to_thread(probe.insert_one, {"t": time.time()})
        probe_ms = (time.perf_counter() - t0) * 1000
        # the records the recorders wrote, from their metrics: counting the store reads every record there
        count, _ = await recorder_batches(session, metrics)
        direct_rate = (await closed_loop(direct, args.clients, DIRECT_PROBE_S, session)).rate if direct else 0.0
        lat = window.latencies_ms
        failures = sum(window.failures.values())
        ratio = f"{window.rate / direct_rate:7.3f}x" if direct_rate else f"{'-':>8}"
        print(
            f"{soaked:6.0f}{window.rate:9.0f}{pct(lat, 0.5):9.1f}{pct(lat, 0.99):9.1f}{failures:8d}"
            f"{memory_mb:10.1f}{count:10.0f}{probe_ms:10.1f}{direct_rate:10.0f}{ratio}",
            flush=True,
        )
        last = (window.rate, window.rate / direct_rate if direct_rate else 0.0)
        first = first or last
    if first:
        print(f"last window / first window: {last[0] / first[0]:.2f}", end="")
        print(f"; of the ratio to direct: {last[1] / first[1]:.2f}" if first[1] else "")
    mongo.close()


SETTINGS = {
    "STRATUS_IDLE_TTL_S": "3600",
    "STRATUS_PAUSE_GRACE_S": "0",
    "STRATUS_USER_MEMORY_MB": str(USER_MEMORY_MB),
    # no stem cells: the direct baseline finds the action's container by its label, which a
    # taken-over stem cell (labelled when it was created, before it had an action) lacks
    "STRATUS_STEM_CELLS": "[]",
}


def basic_auth(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}


@contextmanager
def standalone_target(name: str = "") -> Iterator[Target]:
    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as tmp:
        process, printed, port = start_standalone_printing(Path(tmp), SETTINGS, log_level="WARNING")
        try:
            api = f"http://127.0.0.1:{port}"
            auth = basic_auth(printed["STRATUS_KEY"])
            yield Target(name, api, auth, printed, standalone_parts(process.pid), f"{api}/metrics")
        finally:
            stop(process)


@contextmanager
def compose_target(args: argparse.Namespace) -> Iterator[Target]:
    """The compose stack with the offline override and one invoker, on the same settings."""
    with compose_stack(invokers=1, STRATUS_LOG_LEVEL="WARNING", **SETTINGS) as stack:
        stack.wait_healthy_invokers(1)
        ports = [stack.env[f"STRATUS_{name}_HOST_PORT"] for name in ("REDIS", "MONGO", "MYSQL")]
        ports.append(stack.env["STRATUS_GATEWAY_PORT"])
        urls = {
            "STRATUS_REDIS_URL": stack.redis_url,
            "STRATUS_MONGO_URL": f"mongodb://127.0.0.1:{stack.env['STRATUS_MONGO_HOST_PORT']}/?directConnection=true",
        }
        metrics = next(  # the controller's own /metrics, on its platform-network address (the host reaches it)
            f"http://{t['targets'][0]}/metrics"
            for t in stack.admin("metrics-targets")
            if t["labels"]["component"] == "controller"
        )
        api = stack.url if args.published_port else f"http://{gateway_address(stack.project)}:3233"
        print(f"the load generator calls the compose gateway at {api}", flush=True)
        auth = basic_auth(stack.create_namespace("guest"))
        yield Target("compose", api, auth, urls, compose_parts(stack.project, ports), metrics)


def gateway_address(project: str) -> str:
    """The gateway container's address on the platform network, which the host reaches over the bridge: a
    client on another machine comes in through the kernel's DNAT of the published port, while one on this
    host goes through docker-proxy, a user-space relay of every byte (`--published-port` measures that)."""
    (gateway,) = docker.from_env().containers.list(
        filters={"label": [f"com.docker.compose.project={project}", "com.docker.compose.service=gateway"]}
    )
    (network,) = gateway.attrs["NetworkSettings"]["Networks"].values()
    return str(network["IPAddress"])


def compare(compose: dict[str, Result], standalone: dict[str, Result]) -> None:
    """Issue 10 asks compose for the standalone's figure or better: both from the same alternating rounds."""
    print(f"\n{'compose against the standalone, same rounds':<44}{'compose':>10}{'standalone':>12}{'ratio':>8}")
    for key in (k for k in compose if k in standalone):  # the direct line: each stack's own container of the same image
        ours, theirs = compose[key].rate, standalone[key].rate
        print(f"{compose[key].label + ', inv/s':<44}{ours:10.0f}{theirs:12.0f}{ours / max(theirs, 1e-9):7.2f}x")
        ours, theirs = (
            pct([x for w in r.windows for x in w.latencies_ms], 0.99) for r in (compose[key], standalone[key])
        )
        print(f"{'  p99 ms':<44}{ours:10.1f}{theirs:12.1f}{ours / max(theirs, 1e-9):7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--soak", type=float, default=0.0)
    parser.add_argument("--paths", default="direct,c100,c1", help="which of direct,c100,c1 to run")
    parser.add_argument(
        "--compose",
        action="store_true",
        help="the compose stack (offline images) and the standalone, both up, their rounds alternating",
    )
    parser.add_argument(
        "--published-port",
        action="store_true",
        help="with --compose: call the gateway through its published port on 127.0.0.1 (docker-proxy) instead of "
        "its container's address",
    )
    args = parser.parse_args()
    if not args.compose:
        with standalone_target() as alone:
            asyncio.run(measure([alone], args))
        return
    with compose_target(args) as compose, standalone_target("standalone") as standalone:
        asyncio.run(measure([compose, standalone], args))
    compare(compose.results, standalone.results)


if __name__ == "__main__":
    main()
