"""One activation in a container: acquire (warm or cold), /init if cold, /run, limits, the record.

`Runner.run` never raises for a failing function or a failing engine: every outcome becomes an
activation record with the status OpenWhisk would give. Only cancellation propagates.
"""

import asyncio
import hashlib
import itertools
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from core import kinds
from core.config import InvokerSettings
from core.logs_format import log_line
from core.messages import Invocation
from core.models import Action, Activation, ActivationResponse, KeyValue
from core.params import init_env
from invoker import metrics, outcome
from invoker.driver import ContainerDriver, ContainerError, ContainerHandle, ContainerSpec, ImageMissing
from invoker.pool import ContainerPool, PooledContainer, PoolTimeout, StartType
from invoker.proxy_client import ProxyAnswer, ProxyClient, ProxyGone, ProxyTimeout, ProxyTooLarge
from invoker.takeover import cpu_shares, take_over

log = logging.getLogger(__name__)

LoadAction = Callable[[str, str], Awaitable[Action | None]]
STEM_CELL_READY_S = 30.0
OOM_WAIT_STEPS = 20  # of 50 ms
QUEUE_WAIT_S = 60.0  # how long an activation may wait for pool capacity, beyond its own time limit
_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")


def action_tag(fqn: str) -> str:
    """What a container's name says of its action: a hash, so `docker ps` does not list the tenants' names
    (`stratus_<invoker>_<n>_<tag>`); the invoker finds its containers by its labels."""
    return hashlib.sha256(fqn.encode()).hexdigest()[:12]


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Timing:
    """What the record's start, duration, waitTime and initTime are made of (epoch ms)."""

    accepted_ms: int
    init_start_ms: int | None = None
    init_ms: int | None = None
    run_start_ms: int | None = None
    end_ms: int = 0
    logs: list[str] = field(default_factory=list)
    timed_out: bool = False
    start_type: StartType | None = None  # None: no container was obtained


class Runner:
    def __init__(
        self,
        driver: ContainerDriver,
        pool: ContainerPool,
        proxy: ProxyClient,
        load_action: LoadAction,
        settings: InvokerSettings,
    ) -> None:
        self._driver = driver
        self._pool = pool
        self._proxy = proxy
        self._load_action = load_action
        self._settings = settings
        self._counter = itertools.count(1)
        self._background: set[asyncio.Task[None]] = set()
        metrics.POOLS.track(pool, settings.invoker_id)

    async def run(self, invocation: Invocation) -> Activation:
        action = invocation.action
        timing = Timing(accepted_ms=invocation.accepted_ms)
        key = (invocation.namespace, action.fqn, action.revision)
        deadline = self._pool.clock() + action.limits.timeout / 1000 + QUEUE_WAIT_S
        try:
            placement = await self._pool.acquire(
                key, action.exec.kind, action.limits.memory, action.limits.concurrency, deadline
            )
        except PoolTimeout as exc:
            return self._record(invocation, timing, outcome.not_provisioned(str(exc)))
        container, timing.start_type = placement.container, placement.start
        metrics.STARTS.labels(self._settings.invoker_id, placement.start).inc()
        await self.remove(placement.victims)
        clock = self._pool.clock
        try:
            began = clock()
            response = await self._prepare(container, invocation, timing)
            if response is None:
                ran = clock()
                response = await self._run(container, invocation, timing)
                cold_ms = (ran - began) * 1000 if placement.start == "cold" else None
                self._pool.observe(action.fqn, (clock() - ran) * 1000, cold_ms)
        except Exception as exc:  # e.g. the entity store failed a cold start: the container's memory must not leak
            log.exception("activation %s failed in the invoker", invocation.activation_id)
            response = outcome.not_provisioned(f"the invoker failed: {type(exc).__name__}")
        keep = outcome.keeps_container(response) and container.ready and not container.retired
        if await self._pool.release(container, destroy=not keep):
            await self.remove([container])
        return self._record(invocation, timing, response)

    async def _prepare(
        self, container: PooledContainer, invocation: Invocation, timing: Timing
    ) -> ActivationResponse | None:
        """Make the container ready to /run; a response here means the activation ends now."""
        if timing.start_type == "warm":
            assert container.initialized is not None
            failure = await asyncio.shield(container.initialized)  # a sharer may still be initialising it
            return failure if failure is not None else await self._resume(container)
        try:
            failure = await self._initialise(container, invocation, timing)
        except BaseException:
            container.init_finished(outcome.not_provisioned("the invoker stopped while the container started"))
            raise
        container.init_finished(failure)
        return failure

    async def _initialise(
        self, container: PooledContainer, invocation: Invocation, timing: Timing
    ) -> ActivationResponse | None:
        stored = await self._load_action(invocation.action.namespace, invocation.action.name)
        if stored is None or (stored.exec.code is None and stored.exec.image is None):
            return outcome.action_missing()
        if container.handle is None:  # cold
            action = invocation.action
            image = kinds.image_for(action.exec.kind, action.exec.image, self._settings.runtime_repository)
            spec = self._spec(image, action.limits.memory, self._action_labels(invocation), self._name(invocation))
            try:
                with metrics.CONTAINER_CREATE.labels(self._settings.invoker_id).time():
                    handle = await self._driver.start(spec)
            except ImageMissing as exc:
                log.error("activation %s: %s", invocation.activation_id, exc)
                return outcome.image_missing(exc.image, blackbox=action.exec.kind == kinds.BLACKBOX)
            except ContainerError as exc:
                log.error("activation %s: %s", invocation.activation_id, exc)
                return outcome.not_provisioned("the container could not be started")
            self._pool.started(container, handle)
        else:  # a stem cell: give it its action's tag in the background, off the activation's path
            self._spawn(self._rename(container.handle.container_id, self._name(invocation)))
            if failure := await take_over(self._driver, container, self._settings.user_memory_mb):
                return failure
        return await self._init(container, stored, invocation, timing)

    async def _init(
        self, container: PooledContainer, stored: Action, invocation: Invocation, timing: Timing
    ) -> ActivationResponse | None:
        assert container.handle is not None
        handle = container.handle
        timing.init_start_ms = now_ms()
        limit_ms = invocation.action.limits.timeout
        try:
            with metrics.CONTAINER_INIT.labels(self._settings.invoker_id).time():
                answer = await self._proxy.init(
                    handle.address, self._init_value(stored, invocation), limit_ms / 1000, self._alive(handle)
                )
        except ProxyTimeout:
            timing.timed_out = True
            return self._after_init(timing, outcome.timed_out(limit_ms, during_init=True))
        except ProxyGone as exc:
            log.warning("activation %s: /init on %s failed: %s", invocation.activation_id, handle.name, exc)
            oom = await self._oom(handle.container_id)
            died = outcome.died(during_init=True, oom=oom, memory_mb=invocation.action.limits.memory)
            return self._after_init(timing, died)
        timing.logs.extend(answer.logs)
        return self._after_init(timing, None if answer.status == 200 else outcome.from_init(answer))

    def _after_init(self, timing: Timing, response: ActivationResponse | None) -> ActivationResponse | None:
        assert timing.init_start_ms is not None
        timing.end_ms = now_ms()
        timing.init_ms = timing.end_ms - timing.init_start_ms
        return response

    async def _resume(self, container: PooledContainer) -> ActivationResponse | None:
        assert container.handle is not None
        async with container.lock:
            if not container.paused:
                return None
            try:
                with metrics.UNPAUSE.labels(self._settings.invoker_id).time():
                    await self._driver.unpause(container.handle.container_id)
            except ContainerError as exc:
                log.error("%s", exc)
                return outcome.not_provisioned("the paused container could not be resumed")
            container.paused = False
            return None

    async def _run(self, container: PooledContainer, invocation: Invocation, timing: Timing) -> ActivationResponse:
        assert container.handle is not None
        limit_ms = invocation.action.limits.timeout
        timing.run_start_ms = now_ms()
        payload = self._run_payload(invocation, timing.run_start_ms + limit_ms)
        max_bytes = outcome.answer_limit(invocation.action.limits.logs)
        try:
            with metrics.CONTAINER_RUN.labels(self._settings.invoker_id).time():
                answer: ProxyAnswer = await self._proxy.run(
                    container.handle.address, payload, limit_ms / 1000, max_bytes
                )
        except ProxyTooLarge as exc:
            response = outcome.too_large(exc.limit)
        except ProxyTimeout:
            timing.timed_out = True
            response = outcome.timed_out(limit_ms, during_init=False)
        except ProxyGone as exc:
            log.warning("activation %s: /run on %s failed: %s", invocation.activation_id, container.handle.name, exc)
            oom = await self._oom(container.handle.container_id)
            response = outcome.died(during_init=False, oom=oom, memory_mb=invocation.action.limits.memory)
        else:
            timing.logs.extend(answer.logs)
            response = outcome.from_run(answer)
        timing.end_ms = now_ms()
        return response

    async def refill_stem_cells(self) -> None:
        """Start the stem cells the pool is missing, in parallel; failures leave a gap for the next refill."""
        reserved = self._pool.reserve_stem_cells()
        if reserved:
            await asyncio.gather(*(self._start_stem_cell(container) for container in reserved))

    async def _start_stem_cell(self, container: PooledContainer) -> None:
        labels = self._labels() | {"org.stratus.stem-cell": container.kind}
        image = kinds.runtime(container.kind).image(self._settings.runtime_repository)
        spec = self._spec(image, container.memory_mb, labels, self._name())
        try:
            with metrics.CONTAINER_CREATE.labels(self._settings.invoker_id).time():
                handle = await self._driver.start(spec)
        except ContainerError as exc:
            log.error("a %s MB stem cell could not be started: %s", container.memory_mb, exc)
            await self._pool.discard(container)
            return
        try:
            await self._proxy.wait_ready(handle.address, STEM_CELL_READY_S, self._alive(handle))
        except (ProxyTimeout, ProxyGone):
            log.error("stem cell %s did not answer within %s s or exited; removed", handle.name, STEM_CELL_READY_S)
            await self._pool.discard(container)
            container.handle = handle
            await self.remove([container])
            return
        self._pool.started(container, handle)

    async def pause_idle(self, now: float, grace_s: float) -> None:
        """Freeze containers idle for `grace_s`: a frozen function cannot work unbilled between runs."""
        for container in self._pool.to_pause(now, grace_s):
            async with container.lock:
                if not container.idle or container.paused or container.handle is None:
                    continue  # taken while we waited for the lock
                try:
                    await self._driver.pause(container.handle.container_id)
                except ContainerError as exc:
                    log.warning("%s", exc)
                    continue
                container.paused = True

    def _record(self, invocation: Invocation, timing: Timing, response: ActivationResponse) -> Activation:
        action = invocation.action
        end = timing.end_ms or now_ms()
        start = timing.init_start_ms or timing.run_start_ms or end
        logs = outcome.truncate_logs(timing.logs, action.limits.logs)
        if not outcome.keeps_container(response) and response.status == "action developer error" and not logs:
            logs = [log_line("stderr", "The action did not initialize or run as expected; logs may be missing.")]
        annotations = [
            KeyValue(key="limits", value=action.limits.model_dump()),
            KeyValue(key="path", value=action.fqn),
            KeyValue(key="kind", value=action.exec.kind),
            KeyValue(key="timeout", value=timing.timed_out),
            KeyValue(key="waitTime", value=max(0, start - timing.accepted_ms)),
        ]
        if (binding := action.annotation("binding")) is not None:
            annotations.append(KeyValue(key="binding", value=binding))  # run through a package binding
        if invocation.cause is not None:
            annotations.append(KeyValue(key="causedBy", value="sequence"))
        if timing.init_ms is not None:
            annotations.append(KeyValue(key="initTime", value=timing.init_ms))
        if timing.start_type is not None:
            annotations.append(KeyValue(key="startType", value=timing.start_type))
        return invocation.record(response, start=start, end=end, logs=logs, annotations=annotations)

    def _labels(self) -> dict[str, str]:
        return {"org.stratus.managed": "true", "org.stratus.invoker": self._settings.invoker_id}

    def _action_labels(self, invocation: Invocation) -> dict[str, str]:
        return self._labels() | {
            "org.stratus.namespace": invocation.namespace,
            "org.stratus.action": invocation.action.fqn,
        }

    def _name(self, invocation: Invocation | None = None) -> str:
        raw = f"stratus_{self._settings.invoker_id}_{next(self._counter)}"
        if invocation is not None:
            raw += f"_{action_tag(invocation.action.fqn)}"
        return _UNSAFE.sub("", raw)[:200]

    def _spec(self, image: str, memory_mb: int, labels: dict[str, str], name: str) -> ContainerSpec:
        settings = self._settings
        return ContainerSpec(
            image=image,
            name=name,
            network=settings.network,
            memory_mb=memory_mb,
            cpu_shares=cpu_shares(memory_mb, settings.user_memory_mb),
            labels=labels,
            env={"__OW_API_HOST": settings.api_host} if settings.api_host else {},
        )

    async def _rename(self, container_id: str, name: str) -> None:
        try:
            await self._driver.rename(container_id, name)
        except ContainerError as exc:
            log.warning("%s", exc)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @staticmethod
    def _init_value(action: Action, invocation: Invocation) -> dict[str, Any]:
        return {
            "name": action.name,
            "main": action.exec.entry_point,
            "binary": action.exec.binary,
            "code": action.exec.code,
            "handler": action.annotation("handler"),  # a Lambda-style handler, "module.function"
            "env": init_env(action)
            | {
                "__OW_NAMESPACE": invocation.namespace,
                "__OW_ACTION_NAME": f"/{action.fqn}",
                "__OW_ACTION_VERSION": action.version,
            },
        }

    @staticmethod
    def _run_payload(invocation: Invocation, deadline_ms: int) -> dict[str, Any]:
        action = invocation.action
        return {
            "value": invocation.params,
            "namespace": invocation.namespace,
            "action_name": f"/{action.fqn}",
            "action_version": action.version,
            "activation_id": invocation.activation_id,
            "transaction_id": invocation.activation_id,
            "deadline": str(deadline_ms),
        }

    def _alive(self, handle: ContainerHandle) -> Callable[[], Awaitable[bool]]:
        async def alive() -> bool:
            try:
                return await self._driver.running(handle.container_id)
            except ContainerError:
                return True  # the engine did not say it died: keep waiting, within the time limit

        return alive

    async def _oom(self, container_id: str) -> bool:
        """Whether the memory limit killed it. The engine records the kill a moment after the connection
        drops (measured: up to ~100 ms on a busy machine), so wait, briefly, for the container to stop."""
        try:
            for _ in range(OOM_WAIT_STEPS):
                await asyncio.sleep(0.05)
                if not await self._driver.running(container_id):
                    break
            return await self._driver.oom_killed(container_id)
        except ContainerError:
            return False

    async def remove(self, containers: list[PooledContainer]) -> None:
        """Remove containers taken out of the pool, and close the connections to them."""
        for container in containers:
            if container.handle is not None:
                await self._proxy.forget(container.handle.address)
                try:
                    await self._driver.remove(container.handle.container_id)
                except ContainerError as exc:
                    log.warning("%s", exc)
