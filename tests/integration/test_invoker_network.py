"""The functions' network on a real engine: invokers starting together end up sharing exactly one."""

import asyncio
from uuid import uuid4

import docker
import pytest

from invoker.driver import DockerDriver

pytestmark = pytest.mark.docker


def named(engine: docker.DockerClient, name: str) -> list[str]:
    return [n.id for n in engine.networks.list(names=[name]) if n.name == name]


async def test_invokers_starting_together_leave_one_network(engine: docker.DockerClient) -> None:
    name = f"stratus-test-net-{uuid4().hex[:8]}"
    try:
        drivers = [DockerDriver(docker.from_env()) for _ in range(4)]
        await asyncio.gather(*(d.ensure_network(name) for d in drivers))
        assert len(named(engine, name)) == 1
    finally:
        for network_id in named(engine, name):
            engine.networks.get(network_id).remove()


async def test_a_duplicate_left_by_an_older_engine_is_removed_and_the_oldest_kept(engine: docker.DockerClient) -> None:
    name = f"stratus-test-net-{uuid4().hex[:8]}"
    try:
        first = engine.networks.create(name, driver="bridge", check_duplicate=False)
        try:
            engine.networks.create(name, driver="bridge", check_duplicate=False)
        except docker.errors.APIError:
            pytest.skip("this engine refuses duplicate network names itself")
        assert len(named(engine, name)) == 2
        await DockerDriver(docker.from_env()).ensure_network(name)
        assert named(engine, name) == [first.id]
    finally:
        for network_id in named(engine, name):
            engine.networks.get(network_id).remove()
