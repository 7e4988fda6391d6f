"""One activation in a container: acquire (warm or cold), /init if cold, /run, limits, the record.

`Runner.run` never raises for a failing function or a failing engine: every outcome becomes an
activation record with the status OpenWhisk would give. Only cancellation propagates.
"""

import asyncio
import itertools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from invoker import outcome
from invoker.driver import ContainerDriver, ContainerError, ContainerSpec
from invoker.pool import ContainerPool, PooledContainer, PoolTimeout
from invoker.proxy_client import ProxyAnswer, ProxyClient, ProxyGone, ProxyTimeout
from stratus.config import InvokerSettings
from stratus.logs_format import log_line
from stratus.messages import Invocation
from stratus.models import Action, Activation, ActivationResponse, KeyValue
from stratus.params import init_env

log = logging.getLogger(__name__)

LoadAction = Callable[[str, str], Awaitable[Action | None]]
QUEUE_WAIT_S = 60.0  # how long an activation may wait for pool capacity, beyond its own time limit
_UNSAFE = re.compile(r"[^a-zA-Z0-9_.-]")


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

    async def run(self, invocation: Invocation) -> Activation:
        action = invocation.action
        timing = Timing(accepted_ms=invocation.accepted_ms)
        key = (invocation.namespace, action.fqn, action.revision)
        deadline = time.monotonic() + action.limits.timeout / 1000 + QUEUE_WAIT_S
        try:
            container, start, victims = await self._pool.acquire(
                key, action.limits.memory, action.limits.concurrency, deadline
            )
        except PoolTimeout as exc:
            return self._record(invocation, timing, outcome.not_provisioned(str(exc)))
        await self.remove(victims)
        response: ActivationResponse | None = None
        if start == "cold":
            response = await self._cold_start(container, invocation, timing)
        if response is None:
            response = await self._run(container, invocation, timing)
        keep = outcome.keeps_container(response) and container.ready
        await self._pool.release(container, destroy=not keep)
        if not keep and container.handle is not None:
            await self.remove([container])
        return self._record(invocation, timing, response)

    async def _cold_start(
        self, container: PooledContainer, invocation: Invocation, timing: Timing
    ) -> ActivationResponse | None:
        """Create, start and /init a container; a response here means the activation ends now."""
        stored = await self._load_action(invocation.action.namespace, invocation.action.name)
        if stored is None or stored.exec.code is None:
            return outcome.action_missing()
        try:
            handle = await self._driver.start(self._spec(invocation))
        except ContainerError as exc:
            log.error("activation %s: %s", invocation.activation_id, exc)
            return outcome.not_provisioned("the container could not be started")
        self._pool.started(container, handle)
        timing.init_start_ms = now_ms()
        limit_ms = invocation.action.limits.timeout
        try:
            answer = await self._proxy.init(handle.address, self._init_value(stored, invocation), limit_ms / 1000)
        except ProxyTimeout:
            timing.timed_out = True
            return self._after_init(timing, outcome.timed_out(limit_ms, during_init=True))
        except ProxyGone:
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

    async def _run(self, container: PooledContainer, invocation: Invocation, timing: Timing) -> ActivationResponse:
        assert container.handle is not None
        limit_ms = invocation.action.limits.timeout
        timing.run_start_ms = now_ms()
        payload = self._run_payload(invocation, timing.run_start_ms + limit_ms)
        try:
            answer: ProxyAnswer = await self._proxy.run(container.handle.address, payload, limit_ms / 1000)
        except ProxyTimeout:
            timing.timed_out = True
            response = outcome.timed_out(limit_ms, during_init=False)
        except ProxyGone:
            oom = await self._oom(container.handle.container_id)
            response = outcome.died(during_init=False, oom=oom, memory_mb=invocation.action.limits.memory)
        else:
            timing.logs.extend(answer.logs)
            response = outcome.from_run(answer)
        timing.end_ms = now_ms()
        return response

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
        if timing.init_ms is not None:
            annotations.append(KeyValue(key="initTime", value=timing.init_ms))
        return Activation(
            activation_id=invocation.activation_id,
            namespace=invocation.namespace,
            name=action.name,
            version=action.version,
            subject=invocation.subject,
            start=start,
            end=end,
            duration=end - start,
            response=response,
            logs=logs,
            annotations=annotations,
        )

    def _spec(self, invocation: Invocation) -> ContainerSpec:
        action, settings = invocation.action, self._settings
        raw_name = f"stratus_{settings.invoker_id}_{next(self._counter)}_{invocation.namespace}_{action.name}"
        return ContainerSpec(
            image=settings.runtime_image,
            name=_UNSAFE.sub("", raw_name)[:200],
            network=settings.network,
            memory_mb=action.limits.memory,
            cpu_shares=max(2, 1024 * action.limits.memory // settings.user_memory_mb),
            labels={
                "org.stratus.managed": "true",
                "org.stratus.invoker": settings.invoker_id,
                "org.stratus.namespace": invocation.namespace,
                "org.stratus.action": action.fqn,
            },
            env={"__OW_API_HOST": settings.api_host} if settings.api_host else {},
        )

    @staticmethod
    def _init_value(action: Action, invocation: Invocation) -> dict[str, Any]:
        return {
            "name": action.name,
            "main": action.exec.entry_point,
            "binary": action.exec.binary,
            "code": action.exec.code,
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

    async def _oom(self, container_id: str) -> bool:
        await asyncio.sleep(0.05)  # the engine records the kill a moment after the connection drops
        try:
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
