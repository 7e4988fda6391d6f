"""A real invoker runner for tests: its own pool, network, Docker driver and in-memory actions."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import docker
import pytest

from core import kinds
from core.config import InvokerSettings, StemCells
from core.ids import new_activation_id
from core.messages import Invocation
from core.models import Action, Activation, Exec, Limits
from images import ensure_runtime_image
from invoker.driver import DockerDriver
from invoker.pool import ContainerPool
from invoker.proxy_client import ProxyClient
from invoker.runner import Runner
from invoker.service import MANAGED_LABEL
from tests.conftest import docker_engine, runtime_repository

# A real Invoker installs egress rules on its function network and leaves them while anything else uses
# it; the harness's network must stay without them (test_isolation's positive control reaches the host).
INVOKER_NETWORK = "stratus-test-invoker-functions"


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    client = docker_engine()
    ensure_runtime_image(client, kinds.DEFAULT, repository=runtime_repository())
    return client


class Harness:
    def __init__(
        self,
        engine: docker.DockerClient,
        user_memory_mb: int = 1024,
        stem_cells: Sequence[StemCells] = (),
        network: str = "stratus-test-functions",
    ) -> None:
        self.invoker_id = f"t{uuid4().hex[:8]}"
        self.settings = InvokerSettings(
            invoker_id=self.invoker_id,
            redis_url="-",
            mongo_url="-",
            entities_url="-",
            user_memory_mb=user_memory_mb,
            network=network,
        )
        self.engine = engine
        self.driver = DockerDriver(docker.from_env())
        self.pool = ContainerPool(user_memory_mb, stem_cells)
        self.proxy = ProxyClient()
        self.actions: dict[tuple[str, str], Action] = {}
        self.runner = Runner(self.driver, self.pool, self.proxy, self.load, self.settings)

    async def load(self, namespace: str, name: str) -> Action | None:
        return self.actions.get((namespace, name))

    def action(self, code: str, **limits: int) -> Action:
        action = Action(
            namespace="ns",
            name=f"a{uuid4().hex[:6]}",
            exec=Exec(kind="python:3.11", code=code),
            limits=Limits(**limits),
            updated=int(time.time() * 1000),
        )
        self.actions[(action.namespace, action.name)] = action
        return action

    async def run(self, action: Action, params: dict[str, Any] | None = None, namespace: str = "ns") -> Activation:
        return await self.runner.run(self.invocation(action, params, namespace))

    def invocation(self, action: Action, params: dict[str, Any] | None = None, namespace: str = "ns") -> Invocation:
        return Invocation(
            activation_id=new_activation_id(),
            namespace=namespace,
            subject=namespace,
            action=action.without_code(),
            params=params or {},
            accepted_ms=int(time.time() * 1000),
        )

    def containers(self, action: Action | None = None) -> list[Any]:
        labels = [f"{MANAGED_LABEL}={self.invoker_id}"]
        if action is not None:
            labels.append(f"org.stratus.action={action.fqn}")
        return self.engine.containers.list(all=True, filters={"label": labels})


@asynccontextmanager
async def running_harness(engine: docker.DockerClient, **options: Any) -> AsyncIterator[Harness]:
    """A Harness whose containers are all removed at the end."""
    found = Harness(engine, **options)
    await found.driver.ensure_network(found.settings.network)
    try:
        yield found
    finally:
        await found.proxy.aclose()
        for container in found.containers():
            container.remove(force=True)
        found.driver.close()


@pytest.fixture
async def harness(engine: docker.DockerClient) -> AsyncIterator[Harness]:
    async with running_harness(engine) as found:
        yield found


async def eventually(condition: Callable[[], object], timeout_s: float = 30.0) -> None:
    """Wait until `condition()` is truthy (state changed by tasks running alongside the test)."""
    for _ in range(int(timeout_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"still false after {timeout_s} s")


def notes(record: Activation) -> dict[str, Any]:
    return {a.key: a.value for a in record.annotations}
