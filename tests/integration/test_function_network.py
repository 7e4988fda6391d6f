"""The function network: the last invoker that stops removes it (nothing left behind by `docker compose
down`), and an invoker whose network was removed under it creates it again. Real engine, networks of the
test's own."""

from collections.abc import Iterator
from uuid import uuid4

import docker
import pytest

from tests.invoker_harness import notes, running_harness

pytestmark = pytest.mark.docker


@pytest.fixture
def network(engine: docker.DockerClient) -> Iterator[str]:
    name = f"stratus-test-net-{uuid4().hex[:8]}"
    yield name
    for found in engine.networks.list(names=[name]):
        for container in engine.containers.list(all=True, filters={"network": name}):
            container.remove(force=True)
        found.remove()


def exists(engine: docker.DockerClient, name: str) -> bool:
    return bool(engine.networks.list(names=[name]))


async def test_a_network_in_use_is_kept_and_an_unused_one_removed(engine: docker.DockerClient, network: str) -> None:
    async with running_harness(engine, network=network) as harness:
        await harness.driver.ensure_network(network)
        record = await harness.run(harness.action("def main(a):\n    return {}\n"))
        assert record.response.status == "success"
        assert not await harness.driver.remove_network_if_unused(network)  # its container is attached
        assert exists(engine, network)
        await harness.runner.remove(harness.pool.drain())
        assert await harness.driver.remove_network_if_unused(network)
        assert not exists(engine, network)


async def test_a_container_start_recreates_a_network_removed_meanwhile(
    engine: docker.DockerClient, network: str
) -> None:
    async with running_harness(engine, network=network) as harness:
        await harness.driver.ensure_network(network)
        assert await harness.driver.remove_network_if_unused(network)  # another invoker's stop, say
        record = await harness.run(harness.action("def main(a):\n    return {'ok': True}\n"))
        assert record.response.result == {"ok": True} and notes(record)["startType"] == "cold"
        assert exists(engine, network)
