"""A deleted or rewritten action's containers go at once, not at the idle timeout: real containers, real Redis."""

import asyncio
import time

import docker
import pytest

from core.bus import RedisStreamBus
from core.messages import ACTION_CHANGES, ActionChanged
from tests.invoker_harness import Harness, eventually, running_harness

pytestmark = pytest.mark.docker

ECHO = "def main(a):\n    return {'n': a.get('n')}\n"
SLOW = "import time\ndef main(a):\n    time.sleep(a.get('s', 0))\n    return {'slept': a.get('s', 0)}\n"


async def retire(harness: Harness, change: ActionChanged) -> None:
    await harness.runner.remove(await harness.pool.retire(change.fqn, change.revision))


async def test_a_deleted_actions_idle_and_paused_containers_are_removed_at_once(engine: docker.DockerClient) -> None:
    async with running_harness(engine) as harness:
        action, other = harness.action(ECHO), harness.action(ECHO)
        await asyncio.gather(harness.run(action), harness.run(action, namespace="elsewhere"), harness.run(other))
        [paused] = [c for c in harness.pool.containers if c.key and c.key[1] == action.fqn][:1]
        await harness.runner.pause_idle(time.monotonic() + 60, 1)  # every idle one, this one included
        assert paused.paused and len(harness.containers(action)) == 2
        await retire(harness, ActionChanged(fqn=action.fqn))
        assert harness.containers(action) == [] and len(harness.containers(other)) == 1
        assert all(c.key and c.key[1] == other.fqn for c in harness.pool.containers)


async def test_a_busy_container_of_a_deleted_action_finishes_its_run_then_goes(engine: docker.DockerClient) -> None:
    async with running_harness(engine) as harness:
        action = harness.action(SLOW)
        running = asyncio.create_task(harness.run(action, {"s": 1.5}))
        await eventually(lambda: harness.pool.states()["busy"])
        await retire(harness, ActionChanged(fqn=action.fqn))
        assert len(harness.containers(action)) == 1  # still running its activation
        record = await running
        assert record.response.result == {"slept": 1.5}
        assert harness.containers(action) == [] and harness.pool.containers == []


async def test_a_rewritten_action_keeps_the_current_revisions_containers(engine: docker.DockerClient) -> None:
    async with running_harness(engine) as harness:
        old = harness.action(ECHO)
        new = old.model_copy(update={"updated": old.updated + 1})  # the same action, written again
        harness.actions[(new.namespace, new.name)] = new
        await asyncio.gather(harness.run(old), harness.run(new))
        assert len(harness.containers(old)) == 2
        await retire(harness, ActionChanged(fqn=new.fqn, revision=new.revision))
        [kept] = harness.pool.containers
        assert kept.key and kept.key[2] == new.revision and len(harness.containers(new)) == 1


async def test_changes_announced_on_redis_reach_a_listener(redis_url: str) -> None:
    bus = RedisStreamBus.from_url(redis_url)
    heard: list[ActionChanged] = []

    async def listen() -> None:
        async for raw in bus.listen(ACTION_CHANGES):
            heard.append(ActionChanged.model_validate_json(raw))

    listening = asyncio.create_task(listen())
    try:
        change = ActionChanged(fqn="ns/gone")
        for _ in range(100):  # until the listener subscribed: announcements are kept for nobody
            if (await bus._redis.pubsub_numsub(ACTION_CHANGES))[0][1] >= 1:
                break
            await asyncio.sleep(0.05)
        await bus.announce(ACTION_CHANGES, change.model_dump_json())
        await eventually(lambda: heard)
        assert heard == [change]
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await bus.close()
