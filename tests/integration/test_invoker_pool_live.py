"""The container pool on real containers: start types, queueing, shared containers, pausing, faults, limits."""

import asyncio
import time

import docker
import pytest

from core.config import StemCells
from core.limits import CONCURRENCY, RESULT_MAX_BYTES
from invoker.runner import action_tag
from tests.invoker_harness import Harness, eventually, notes, running_harness

pytestmark = pytest.mark.docker

ECHO = "def main(a):\n    return {'n': a.get('n')}\n"


async def test_three_start_types_are_annotated(engine: docker.DockerClient) -> None:
    cells = [StemCells(kind="python:3.11", count=1, memory_mb=256)]
    async with running_harness(engine, stem_cells=cells) as harness:
        await harness.runner.refill_stem_cells()
        [cell] = harness.containers()
        assert cell.labels["org.stratus.stem-cell"] == "python:3.11"
        action = harness.action(ECHO)
        prewarm, warm = await harness.run(action, {"n": 1}), await harness.run(action, {"n": 2})
        cold = await harness.run(harness.action(ECHO, memory=128), {"n": 3})  # the one stem cell is taken
        assert [notes(r)["startType"] for r in (prewarm, warm, cold)] == ["prewarm", "warm", "cold"]
        assert "initTime" in notes(prewarm) and "initTime" not in notes(warm) and "initTime" in notes(cold)
        assert [r.response.result for r in (prewarm, warm, cold)] == [{"n": 1}, {"n": 2}, {"n": 3}]
        assert len(harness.containers(action)) == 0  # the stem cell carries no action label ...
        assert engine.containers.get(cell.id).name.endswith(f"_{action_tag(action.fqn)}")  # ... but its name
        assert harness.pool.refill_wanted.is_set()
        await harness.runner.refill_stem_cells()
        assert harness.pool.states()["prewarm"] == 1  # replaced


LIMIT = "def main(a):\n    return {'mb': int(open('/sys/fs/cgroup/memory/memory.limit_in_bytes').read()) // 2**20}\n"


@pytest.mark.parametrize("memory_mb", [128, 512])
async def test_a_stem_cell_of_another_size_is_taken_over_with_the_actions_limits(
    engine: docker.DockerClient, memory_mb: int
) -> None:
    cells = [StemCells(kind="python:3.11", count=1, memory_mb=256)]
    async with running_harness(engine, user_memory_mb=1024, stem_cells=cells) as harness:
        await harness.runner.refill_stem_cells()
        [cell] = harness.containers()
        record = await harness.run(harness.action(LIMIT, memory=memory_mb))
        assert notes(record)["startType"] == "prewarm" and record.response.result == {"mb": memory_mb}
        host = engine.containers.get(cell.id).attrs["HostConfig"]
        assert host["Memory"] == host["MemorySwap"] == memory_mb * 2**20
        assert host["CpuShares"] == 1024 * memory_mb // 1024
        assert harness.pool.total_memory_mb == memory_mb


async def test_a_stem_cell_is_never_shared_across_namespaces(engine: docker.DockerClient) -> None:
    cells = [StemCells(kind="python:3.11", count=1, memory_mb=256)]
    async with running_harness(engine, stem_cells=cells) as harness:
        await harness.runner.refill_stem_cells()
        action = harness.action(ECHO)
        mine = await harness.run(action, namespace="ns")
        theirs = await harness.run(action, namespace="other")
        assert notes(mine)["startType"] == "prewarm" and notes(theirs)["startType"] == "cold"


async def test_a_full_pool_queues_the_activation_until_capacity_frees(engine: docker.DockerClient) -> None:
    async with running_harness(engine, user_memory_mb=256) as harness:
        slow = harness.action("import time\ndef main(a):\n    time.sleep(1.5)\n    return {'slow': True}\n")
        quick = harness.action(ECHO)
        first = asyncio.create_task(harness.run(slow))
        await eventually(lambda: harness.pool.states()["busy"])
        second = asyncio.create_task(harness.run(quick, {"n": 5}))
        await eventually(lambda: harness.pool.waiting)
        slow_record, quick_record = await asyncio.gather(first, second)
        assert slow_record.response.result == {"slow": True} and quick_record.response.result == {"n": 5}
        assert quick_record.start >= slow_record.end  # it ran only once the busy container was evicted
        assert notes(quick_record)["startType"] == "cold" and harness.containers(slow) == []


async def test_concurrent_activations_share_one_container_and_keep_their_own_logs(
    engine: docker.DockerClient,
) -> None:
    code = (
        "import time\n"
        "def main(a):\n"
        "    for i in range(5):\n"
        "        print('from', a['who'], i)\n"
        "        time.sleep(0.05)\n"
        "    return {'who': a['who']}\n"
    )
    async with running_harness(engine) as harness:
        action = harness.action(code, concurrency=4)
        records = await asyncio.gather(*(harness.run(action, {"who": f"caller{n}"}) for n in range(4)))
        assert len(harness.containers(action)) == 1
        starts = sorted(notes(r)["startType"] for r in records)
        assert starts == ["cold", "warm", "warm", "warm"]  # three joined the container being started
        for n, record in enumerate(records):
            assert record.response.result == {"who": f"caller{n}"}
            assert [line.split("stdout: ")[1] for line in record.logs] == [f"from caller{n} {i}" for i in range(5)]
        assert max(r.start for r in records) < min(r.end for r in records)  # they really overlapped


async def test_activations_sharing_a_failed_init_all_get_its_error(harness: Harness) -> None:
    action = harness.action("raise RuntimeError('broken at import')\n", concurrency=3)
    records = await asyncio.gather(*(harness.run(action) for _ in range(3)))
    assert {r.response.status for r in records} == {"action developer error"}
    assert all("broken at import" in r.response.result["error"] for r in records)
    assert harness.containers(action) == [] and harness.pool.container_count == 0


async def test_an_idle_container_is_paused_and_resumed_on_reuse(harness: Harness) -> None:
    action = harness.action(ECHO)
    await harness.run(action, {"n": 1})
    [container] = harness.containers(action)
    await harness.runner.pause_idle(time.monotonic() + 11, grace_s=10)
    container.reload()
    assert container.status == "paused" and harness.pool.states() == {"paused": 1}
    again = await harness.run(action, {"n": 2})
    container.reload()
    assert again.response.result == {"n": 2} and notes(again)["startType"] == "warm"
    assert container.status == "running" and len(harness.containers(action)) == 1


async def test_a_container_dying_while_it_starts_is_noticed_before_the_time_limit(
    harness: Harness, engine: docker.DockerClient
) -> None:
    action = harness.action(ECHO)  # 60 s time limit: a dead container must not make the activation wait for it
    starting = asyncio.create_task(harness.run(action))
    await eventually(lambda: [c for c in harness.pool.containers if c.handle and not c.ready])  # started, no /init yet
    [container] = harness.pool.containers
    assert container.handle is not None
    engine.api.kill(container.handle.container_id)  # its proxy takes ~100 ms more to listen
    record = await starting
    assert record.response.status == "action developer error", record.response
    assert "exited unexpectedly during initialization" in record.response.result["error"]
    assert record.duration < action.limits.timeout and notes(record)["timeout"] is False


async def test_a_container_dying_mid_run_is_a_developer_error_and_is_replaced(
    harness: Harness, engine: docker.DockerClient
) -> None:
    action = harness.action("import time\ndef main(a):\n    time.sleep(a.get('sleep', 0))\n    return {}\n")
    running = asyncio.create_task(harness.run(action, {"sleep": 5}))
    await eventually(lambda: any(c.ready and c.active for c in harness.pool.containers))  # /init done: in /run
    [victim] = harness.containers(action)
    victim.kill()
    record = await running
    assert record.response.status == "action developer error"
    assert "exited unexpectedly without producing a valid response" in record.response.result["error"]
    after = await harness.run(action)
    assert after.response.status == "success" and notes(after)["startType"] == "cold"
    assert [c.id for c in harness.containers(action)] != [victim.id]


async def test_logs_over_the_limit_are_truncated_with_a_marker(harness: Harness) -> None:
    code = "def main(a):\n    for i in range(3000):\n        print('x' * 500)\n    return {}\n"
    record = await harness.run(harness.action(code, logs=1))
    assert record.response.status == "success"
    assert "truncated" in record.logs[-1] and len(record.logs) < 3000
    assert sum(len(line) for line in record.logs) <= 1024 * 1024


async def test_a_result_over_the_limit_is_an_application_error_with_a_prefix(harness: Harness) -> None:
    record = await harness.run(harness.action("def main(a):\n    return {'big': 'y' * (2 * 1024 * 1024)}\n"))
    assert record.response.status == "application error"
    message = record.response.result["error"]
    assert f"> {RESULT_MAX_BYTES}" in message and '{"big":"yyy' in message and len(message) < 4096


async def test_cpu_shares_follow_the_memory_limit(harness: Harness) -> None:
    await harness.run(harness.action(ECHO, memory=512))
    [container] = harness.containers()
    assert container.attrs["HostConfig"]["CpuShares"] == 1024 * 512 // harness.settings.user_memory_mb


async def test_an_action_serves_its_full_concurrency_in_one_container(engine: docker.DockerClient) -> None:
    """Every concurrent activation holds a connection, served on a thread of the proxy: all fit the pids limit."""
    full = CONCURRENCY.maximum
    code = "import time\ndef main(a):\n    time.sleep(1)\n    return {'n': a['n']}\n"
    async with running_harness(engine, user_memory_mb=1024) as harness:
        action = harness.action(code, concurrency=full)
        records = await asyncio.gather(*(harness.run(action, {"n": n}) for n in range(full)))
        assert [r.response.result for r in records] == [{"n": n} for n in range(full)]
        assert len(harness.containers(action)) == 1
