"""The invoker's runner against real containers: start types, limits, failures, cleanup."""

import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import docker
import pytest

from invoker.driver import DockerDriver
from invoker.pool import ContainerPool
from invoker.proxy_client import ProxyClient
from invoker.runner import Runner
from invoker.service import MANAGED_LABEL
from stratus.config import DEFAULT_RUNTIME_IMAGE, InvokerSettings
from stratus.ids import new_activation_id
from stratus.images import ensure_runtime_image
from stratus.messages import Invocation
from stratus.models import Action, Activation, Exec, Limits

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def engine() -> docker.DockerClient:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    ensure_runtime_image(client, base_image="python:3.11-slim", tag=DEFAULT_RUNTIME_IMAGE)
    return client


class Harness:
    def __init__(self, engine: docker.DockerClient, user_memory_mb: int = 1024) -> None:
        self.invoker_id = f"t{uuid4().hex[:8]}"
        self.settings = InvokerSettings(
            invoker_id=self.invoker_id,
            redis_url="-",
            mongo_url="-",
            entities_url="-",
            user_memory_mb=user_memory_mb,
            network="stratus-test-functions",
        )
        self.engine = engine
        self.driver = DockerDriver(docker.from_env())
        self.pool = ContainerPool(user_memory_mb)
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
        invocation = Invocation(
            activation_id=new_activation_id(),
            namespace=namespace,
            subject=namespace,
            action=action.without_code(),
            params=params or {},
            accepted_ms=int(time.time() * 1000),
        )
        return await self.runner.run(invocation)

    def containers(self, action: Action | None = None) -> list[Any]:
        labels = [f"{MANAGED_LABEL}={self.invoker_id}"]
        if action is not None:
            labels.append(f"org.stratus.action={action.fqn}")
        return self.engine.containers.list(all=True, filters={"label": labels})


@pytest.fixture
async def harness(engine: docker.DockerClient) -> AsyncIterator[Harness]:
    found = Harness(engine)
    await found.driver.ensure_network(found.settings.network)
    try:
        yield found
    finally:
        await found.proxy.aclose()
        for container in found.containers():
            container.remove(force=True)
        found.driver.close()


def notes(record: Activation) -> dict[str, Any]:
    return {a.key: a.value for a in record.annotations}


async def test_cold_then_warm_in_one_container(harness: Harness) -> None:
    action = harness.action("def main(a):\n    print('hi', a['n'])\n    return {'n': a['n']}\n")
    cold = await harness.run(action, {"n": 1})
    warm = await harness.run(action, {"n": 2})
    assert cold.response.result == {"n": 1} and warm.response.result == {"n": 2}
    assert "initTime" in notes(cold) and "initTime" not in notes(warm)
    assert warm.logs[0].endswith("stdout: hi 2")
    assert len(harness.containers(action)) == 1


async def test_each_invoking_namespace_gets_its_own_container(harness: Harness) -> None:
    action = harness.action("def main(a):\n    return {}\n")
    await harness.run(action, namespace="ns")
    other = await harness.run(action, namespace="someone-else")
    assert "initTime" in notes(other)
    assert len(harness.containers(action)) == 2


async def test_container_is_hardened(harness: Harness) -> None:
    code = (
        "import os\ndef main(a):\n"
        "    try:\n        open('/etc/x', 'w')\n        wrote = True\n"
        "    except OSError:\n        wrote = False\n"
        "    open('/tmp/ok', 'w').write('x')\n"
        "    return {'uid': os.getuid(), 'wrote_outside_tmp': wrote}\n"
    )
    record = await harness.run(harness.action(code, memory=128))
    assert record.response.result == {"uid": 65534, "wrote_outside_tmp": False}
    [container] = harness.containers()
    host = container.attrs["HostConfig"]
    assert host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"] and "no-new-privileges" in host["SecurityOpt"]
    assert host["Memory"] == 128 * 1024 * 1024 and host["MemorySwap"] == host["Memory"]


async def test_memory_limit_is_reported_and_the_container_destroyed(harness: Harness) -> None:
    code = (
        "def main(a):\n    blocks = [bytearray(16 * 1024 * 1024) for _ in range(40)]\n    return {'n': len(blocks)}\n"
    )
    action = harness.action(code, memory=128)
    record = await harness.run(action)
    assert record.response.status == "action developer error"
    assert "memory" in record.response.result["error"]
    assert harness.containers(action) == []


async def test_timeout_destroys_the_container(harness: Harness) -> None:
    action = harness.action("import time\ndef main(a):\n    time.sleep(10)\n    return {}\n", timeout=1000)
    record = await harness.run(action)
    assert record.response.status == "action developer error" and notes(record)["timeout"] is True
    assert 1000 <= record.duration < 5000
    assert harness.containers(action) == []


async def test_init_failure_keeps_its_logs_and_destroys_the_container(harness: Harness) -> None:
    action = harness.action("print('loading')\nraise ImportError('missing thing')\n")
    record = await harness.run(action)
    assert record.response.status == "action developer error"
    assert "missing thing" in record.response.result["error"]
    assert any(line.endswith("stdout: loading") for line in record.logs)
    assert harness.containers(action) == []


async def test_deleted_action_is_an_application_error(harness: Harness) -> None:
    action = harness.action("def main(a):\n    return {}\n")
    del harness.actions[(action.namespace, action.name)]
    record = await harness.run(action)
    assert record.response.status == "application error" and harness.containers(action) == []


async def test_engine_failure_is_a_whisk_internal_error(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"runtime_image": "stratus/no-such-image:0"})
    harness.runner = Runner(harness.driver, harness.pool, harness.proxy, harness.load, harness.settings)
    record = await harness.run(harness.action("def main(a):\n    return {}\n"))
    assert record.response.status == "whisk internal error"
    assert harness.pool.container_count == 0


async def test_eviction_under_memory_pressure_removes_the_idle_container(engine: docker.DockerClient) -> None:
    harness = Harness(engine, user_memory_mb=256)
    await harness.driver.ensure_network(harness.settings.network)
    try:
        first, second = (harness.action("def main(a):\n    return {}\n") for _ in range(2))
        await harness.run(first)
        assert len(harness.containers(first)) == 1
        await harness.run(second)
        assert harness.containers(first) == [] and len(harness.containers(second)) == 1
    finally:
        await harness.proxy.aclose()
        for container in harness.containers():
            container.remove(force=True)
