"""A simulated cluster in virtual time: the real controller placement and invoker pool, no Docker, no Redis.

What is real: `controller.service.Controller._place` (its `core.placer.Placer`, the placement policies,
the bookings), `core.invokers.Registry`, `invoker.runner.Runner` and `invoker.pool.ContainerPool`. What is
simulated: the container driver and the runtime proxy (each create, /init and /run is a sleep of a
configured length), the slot ledger (`SimLedger`, the Lua PLACE/END book-keeping of core.ledger in
memory, behind the same `books`/`place` interface) and the streams (a dispatch is a task on the invoker).

Time is virtual: `VirtualLoop` is an asyncio loop whose clock jumps to the next timer when nothing is
ready, so an hour of cluster runs in seconds and a run is deterministic for a seed.

Load: `callers_per_invoker` x invokers blocking callers, each invoking an action drawn from a Zipf
popularity over `actions` actions (run times log-uniform in `run_ms`), plus bursts: every `burst_every_s`
one of a few bursty actions gets `burst_per_invoker` x invokers invocations at once.
"""

import asyncio
import math
import random
import selectors
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from controller.service import Controller
from core.bus import Delivery
from core.config import ControllerSettings, InvokerSettings
from core.ids import ActivationId, InvokerId
from core.ledger import Booking, Books, Reservation
from core.messages import Heartbeat, Invocation
from core.models import Action, Exec, Limits
from core.placement import Policy
from invoker.driver import ContainerHandle, ContainerSpec
from invoker.health import warm_pools
from invoker.pool import ContainerPool, Eviction
from invoker.proxy_client import ProxyAnswer
from invoker.runner import Runner

DISPATCH_S = 0.002  # a controller's batch: one Redis round trip


class _Instant(selectors.SelectSelector):
    """Never blocks: a wait for `timeout` moves the loop's virtual clock instead."""

    loop: "VirtualLoop"

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if not ready:
            if timeout is None:
                raise RuntimeError("the simulation stalled: nothing is scheduled")
            self.loop.now += timeout
        return ready


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        selector = _Instant()
        super().__init__(selector)
        selector.loop = self
        self.now = 0.0

    def time(self) -> float:
        return self.now


@dataclass(frozen=True)
class Costs:
    create_s: float = 0.5  # start a container
    init_s: float = 0.3  # its /init
    remove_s: float = 0.05  # remove an evicted one (on the activation's path, as in the runner)


@dataclass(frozen=True)
class Workload:
    actions: int = 200
    zipf_s: float = 1.0
    run_ms: tuple[float, float] = (100.0, 1000.0)  # log-uniform
    memory_mb: int = 256
    callers_per_invoker: int = 8
    bursty: int = 3  # actions that also come in bursts
    burst_every_s: float = 5.0
    burst_per_invoker: int = 4


@dataclass(frozen=True)
class Scenario:
    policy: Policy
    invokers: int
    user_memory_mb: int = 2048
    warmup_s: float = 20.0
    measure_s: float = 60.0
    seed: int = 1
    eviction: Eviction = "gdsf"
    costs: Costs = Costs()
    workload: Workload = Workload()


@dataclass
class Result:
    scenario: Scenario
    completed: int = 0
    starts: Counter[str] = field(default_factory=Counter)
    waits_ms: list[float] = field(default_factory=list)  # accepted -> /run starts
    per_invoker: Counter[str] = field(default_factory=Counter)  # activations run
    booked: Counter[str] = field(default_factory=Counter)  # booked memory / capacity, summed over samples

    @property
    def throughput(self) -> float:
        return self.completed / self.scenario.measure_s

    @property
    def cold_rate(self) -> float:
        return self.starts["cold"] / max(self.completed, 1)

    @property
    def p99_wait_ms(self) -> float:
        waits = sorted(self.waits_ms)
        return waits[min(len(waits) - 1, math.ceil(0.99 * len(waits)) - 1)] if waits else 0.0

    @property
    def imbalance(self) -> float:
        """The busiest invoker's load over the mean load (load: booked memory / capacity, sampled each second)."""
        loads = [self.booked[f"sim{i:02d}"] for i in range(self.scenario.invokers)]
        return max(loads) / max(sum(loads) / len(loads), 1e-9)


class SimLedger:
    """core.ledger's slot books (the PLACE/END Lua), in memory; a placed Dispatch starts on its invoker."""

    def __init__(self, cluster: "SimCluster") -> None:
        self._cluster = cluster
        self._mem: Counter[str] = Counter()
        self._n: dict[str, Counter[str]] = {}
        self._held: dict[str, Reservation] = {}

    async def books(self, invoker_ids: list[str]) -> list[Books]:
        return [Books(self._mem[i], dict(self._n.get(i, {}))) for i in invoker_ids]

    async def place(self, bookings: list[Booking]) -> list[bool]:
        held = [self._book(b) for b in bookings]
        for booking, ok in zip(bookings, held, strict=True):
            if ok:
                self._cluster.start(booking.reservation)
        return held

    def _book(self, b: Booking) -> bool:
        r = b.reservation
        self.release(r.activation_id)
        n = self._n.setdefault(r.invoker_id, Counter())
        extra = r.memory_mb if n[r.action_key] % r.concurrency == 0 else 0
        if not b.force and extra and self._mem[r.invoker_id] + extra > b.capacity_mb:
            return False
        self._mem[r.invoker_id] += extra
        n[r.action_key] += 1
        self._held[r.activation_id] = r
        return True

    def release(self, activation_id: str) -> None:
        r = self._held.pop(activation_id, None)
        if r is None:
            return
        n = self._n[r.invoker_id]
        n[r.action_key] -= 1
        if n[r.action_key] % r.concurrency == 0:
            self._mem[r.invoker_id] -= r.memory_mb
        if n[r.action_key] <= 0:
            del n[r.action_key]


class SimDriver:
    def __init__(self, costs: Costs) -> None:
        self._costs = costs
        self._ids = 0

    async def start(self, spec: ContainerSpec) -> ContainerHandle:
        await asyncio.sleep(self._costs.create_s)
        self._ids += 1
        return ContainerHandle(f"c{self._ids}", spec.name, f"sim://c{self._ids}", spec.memory_mb)

    async def remove(self, container_id: str) -> None:
        await asyncio.sleep(self._costs.remove_s)

    async def running(self, container_id: str) -> bool:
        return True

    async def oom_killed(self, container_id: str) -> bool:
        return False


class SimProxy:
    def __init__(self, cluster: "SimCluster") -> None:
        self._cluster = cluster

    async def init(self, address: str, value: dict[str, Any], timeout_s: float, alive: Any) -> ProxyAnswer:
        await asyncio.sleep(self._cluster.scenario.costs.init_s)
        return ProxyAnswer(200, {"ok": True}, '{"ok": true}')

    async def run(self, address: str, payload: dict[str, Any], timeout_s: float, max_bytes: int) -> ProxyAnswer:
        self._cluster.running(payload["activation_id"])
        await asyncio.sleep(self._cluster.run_s[payload["action_name"][1:]])
        return ProxyAnswer(200, {}, "{}")

    async def forget(self, address: str) -> None:
        return None


@dataclass
class _Call:
    invocation: Invocation
    submitted: float
    done: asyncio.Future[None]
    ran: float = 0.0


class SimCluster:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.loop = asyncio.get_running_loop()
        self.rng = random.Random(scenario.seed)
        work = scenario.workload
        self.actions = [self._action(a) for a in range(work.actions)]
        low, high = (math.log(ms / 1000) for ms in work.run_ms)
        self.run_s = {a.fqn: math.exp(self.rng.uniform(low, high)) for a in self.actions}
        weights = [1 / (rank + 1) ** work.zipf_s for rank in range(work.actions)]
        self.popular = self.rng.sample(self.actions, len(self.actions))  # rank -> action, shuffled
        self.cumulative = [sum(weights[: r + 1]) for r in range(len(weights))]
        self.bursty = self.rng.sample(self.actions, work.bursty)
        self.ledger = SimLedger(self)
        settings = ControllerSettings.model_construct(controller_id="sim", placement=scenario.policy)
        self.controller = Controller(settings, None, None, self.ledger)  # type: ignore[arg-type]
        self.controller.placer.rng = random.Random(scenario.seed)
        self.invokers = {f"sim{i:02d}": self._invoker(f"sim{i:02d}") for i in range(scenario.invokers)}
        self.calls: dict[str, _Call] = {}
        self.queue: list[tuple[Delivery, Invocation]] = []
        self.arrived = asyncio.Event()
        self.result = Result(scenario)
        self._ids = 0

    def _action(self, a: int) -> Action:
        limits = Limits(memory=self.scenario.workload.memory_mb)
        code = "def main(args):\n    return args\n"
        return Action(namespace="sim", name=f"a{a:03d}", exec=Exec(kind="python:3.11", code=code), limits=limits)

    def _invoker(self, name: str) -> tuple[ContainerPool, Runner]:
        s = self.scenario
        pool = ContainerPool(s.user_memory_mb, (), clock=self.loop.time, eviction=s.eviction)
        settings = InvokerSettings.model_construct(invoker_id=name, user_memory_mb=s.user_memory_mb, network="sim")
        by_name = {a.name: a for a in self.actions}

        async def load(namespace: str, action: str) -> Action | None:
            return by_name.get(action)

        return pool, Runner(SimDriver(s.costs), pool, SimProxy(self), load, settings)  # type: ignore[arg-type]

    def heartbeats(self) -> list[Heartbeat]:
        sent = int(time.time() * 1000)
        return [
            Heartbeat(
                invoker_id=InvokerId(name),
                sent_ms=sent,
                user_memory_mb=pool.user_memory_mb,
                busy_memory_mb=pool.busy_memory_mb,
                containers=pool.container_count,
                warm=warm_pools(pool.containers),
                run_ms=pool.run_times(),
                cold_ms=None if pool.cold_ms is None else round(pool.cold_ms),
            )
            for name, (pool, _) in self.invokers.items()
        ]

    # --- the controller and the invokers
    def submit(self, action: Action) -> asyncio.Future[None]:
        self._ids += 1
        aid = ActivationId(f"{self._ids:032x}")
        invocation = Invocation(
            activation_id=aid, namespace="sim", subject="sim", action=action, params={}, accepted_ms=0
        )
        call = _Call(invocation, self.loop.time(), self.loop.create_future())
        self.calls[aid] = call
        self.queue.append((Delivery("sim", "sim", aid, {}), invocation))
        self.arrived.set()
        return call.done

    async def controller_loop(self) -> None:
        while True:
            await self.arrived.wait()
            self.arrived.clear()
            await asyncio.sleep(DISPATCH_S)
            batch, self.queue = self.queue[:256], self.queue[256:]
            self.queue = await self.controller._place(batch) + self.queue
            if self.queue:
                self.arrived.set()

    def start(self, reservation: Reservation) -> None:
        self.loop.create_task(self._activation(reservation))

    async def _activation(self, reservation: Reservation) -> None:
        call = self.calls[reservation.activation_id]
        _, runner = self.invokers[reservation.invoker_id]
        activation = await runner.run(call.invocation)
        self.ledger.release(reservation.activation_id)
        now = self.loop.time()
        s = self.scenario
        if s.warmup_s <= now < s.warmup_s + s.measure_s:
            start = next((a.value for a in activation.annotations if a.key == "startType"), "none")
            self.result.completed += 1
            self.result.starts[str(start)] += 1
            self.result.waits_ms.append((call.ran - call.submitted) * 1000)
            self.result.per_invoker[reservation.invoker_id] += 1
        del self.calls[reservation.activation_id]
        call.done.set_result(None)

    def running(self, activation_id: str) -> None:
        call = self.calls.get(activation_id)
        if call is not None:
            call.ran = self.loop.time()

    # --- the load
    def pick(self) -> Action:
        rank = min(self._bisect(self.rng.random() * self.cumulative[-1]), len(self.popular) - 1)
        return self.popular[rank]

    def _bisect(self, x: float) -> int:
        lo, hi = 0, len(self.cumulative)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cumulative[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return lo

    async def caller(self) -> None:
        while True:
            await self.submit(self.pick())

    async def bursts(self) -> None:
        work = self.scenario.workload
        while True:
            await asyncio.sleep(work.burst_every_s)
            action = self.rng.choice(self.bursty)
            for _ in range(work.burst_per_invoker * self.scenario.invokers):
                self.submit(action)

    async def heartbeat_loop(self) -> None:
        s = self.scenario
        while True:
            self.controller.registry.update(self.heartbeats())
            if s.warmup_s <= self.loop.time() < s.warmup_s + s.measure_s:
                for name, books in zip(self.invokers, await self.ledger.books(list(self.invokers)), strict=True):
                    self.result.booked[name] += min(books.memory_mb, s.user_memory_mb) / s.user_memory_mb
            await asyncio.sleep(1.0)

    async def run(self) -> Result:
        s = self.scenario
        tasks = [self.loop.create_task(self.heartbeat_loop()), self.loop.create_task(self.controller_loop())]
        await asyncio.sleep(0)
        callers = s.workload.callers_per_invoker * s.invokers
        tasks += [self.loop.create_task(self.caller()) for _ in range(callers)]
        if s.workload.bursty and s.workload.burst_per_invoker:
            tasks.append(self.loop.create_task(self.bursts()))
        await asyncio.sleep(s.warmup_s + s.measure_s)
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await asyncio.gather(*others, return_exceptions=True)
        return self.result


def simulate(scenario: Scenario) -> Result:
    """One run in a fresh virtual-time loop."""
    loop = VirtualLoop()
    try:
        return loop.run_until_complete(_main(scenario))
    finally:
        loop.close()


async def _main(scenario: Scenario) -> Result:
    return await SimCluster(scenario).run()
