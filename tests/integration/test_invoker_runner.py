"""The invoker's runner against real containers: start types, limits, failures, cleanup."""

import docker
import pytest

from core import kinds
from core.errors import StoreUnavailable
from core.models import Exec
from invoker.runner import Runner
from tests.invoker_harness import Harness, notes, running_harness

pytestmark = pytest.mark.docker


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
    assert record.duration >= 1000
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


async def test_a_missing_runtime_image_is_a_whisk_internal_error_naming_it(harness: Harness) -> None:
    harness.settings = harness.settings.model_copy(update={"runtime_repository": "stratus/no-such-image"})
    harness.runner = Runner(harness.driver, harness.pool, harness.proxy, harness.load, harness.settings)
    record = await harness.run(harness.action("def main(a):\n    return {}\n"))
    assert record.response.status == "whisk internal error"
    assert f"stratus/no-such-image:{kinds.DEFAULT.version}" in record.response.result["error"]
    assert harness.pool.container_count == 0


async def test_a_missing_blackbox_image_is_a_developer_error_saying_it_is_never_pulled(harness: Harness) -> None:
    action = harness.action("def main(a):\n    return {}\n")
    action = action.model_copy(update={"exec": Exec(kind="blackbox", image="stratus-test/absent:1", code=None)})
    harness.actions[(action.namespace, action.name)] = action
    record = await harness.run(action)
    assert record.response.status == "action developer error"
    assert (
        "stratus-test/absent:1" in record.response.result["error"] and "never pulled" in record.response.result["error"]
    )
    assert harness.pool.container_count == 0


async def test_an_entity_store_failure_at_a_cold_start_is_recorded_and_frees_the_memory(harness: Harness) -> None:
    async def store_down(namespace: str, name: str) -> None:
        raise StoreUnavailable("could not read the action: connection refused")

    harness.runner = Runner(harness.driver, harness.pool, harness.proxy, store_down, harness.settings)
    record = await harness.run(harness.action("def main(a):\n    return {}\n"))
    assert record.response.status == "whisk internal error"
    assert harness.pool.container_count == 0 and harness.pool.total_memory_mb == 0  # no placeholder left behind


async def test_eviction_under_memory_pressure_removes_the_idle_container(engine: docker.DockerClient) -> None:
    async with running_harness(engine, user_memory_mb=256) as harness:
        first, second = (harness.action("def main(a):\n    return {}\n") for _ in range(2))
        await harness.run(first)
        assert len(harness.containers(first)) == 1
        await harness.run(second)
        assert harness.containers(first) == [] and len(harness.containers(second)) == 1
