"""The egress policy against real containers, iptables and a link-local service (invoker/egress.py).

Each probe runs twice from a function: before the invoker's rules are in (the positive control: the door is
open, so the probe would see it) and after. The link-local service stands in for a cloud's metadata address:
169.254.77.77:80 served from a network namespace of its own, routed from the host like 169.254.169.254 is on a
cloud VM (the real address is left alone: this host may have one)."""

import asyncio
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from uuid import uuid4

import docker
import pytest

from invoker.egress import EgressGuard, chain_names
from tests.integration.test_isolation import PROBE
from tests.invoker_harness import Harness, running_harness

pytestmark = pytest.mark.docker

LINK_LOCAL = "169.254.77.77"


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


@pytest.fixture
def link_local_service() -> Iterator[str]:
    if shutil.which("ip") is None or shutil.which("iptables") is None:
        pytest.skip("needs ip and iptables (root)")
    tag = uuid4().hex[:6]
    namespace, outside, inside = f"stratus-md-{tag}", f"smdh{tag}", f"smdn{tag}"
    sh("ip", "netns", "add", namespace)
    server = None
    try:
        sh("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        sh("ip", "link", "set", inside, "netns", namespace)
        sh("ip", "addr", "add", "169.254.77.1", "peer", LINK_LOCAL, "dev", outside)
        sh("ip", "link", "set", outside, "up")
        in_ns = ("ip", "netns", "exec", namespace)
        sh(*in_ns, "ip", "addr", "add", LINK_LOCAL, "peer", "169.254.77.1", "dev", inside)
        sh(*in_ns, "ip", "link", "set", inside, "up")
        sh(*in_ns, "ip", "route", "add", "default", "via", "169.254.77.1")
        server = subprocess.Popen(
            [*in_ns, sys.executable, "-m", "http.server", "80", "--bind", LINK_LOCAL],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        up_to_s = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((LINK_LOCAL, 80), timeout=0.5).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < up_to_s, "the link-local service did not start"
                time.sleep(0.1)
        yield f"{LINK_LOCAL}:80"
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        subprocess.run(["ip", "link", "del", outside], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


@pytest.fixture
def listeners() -> Iterator[tuple[int, int]]:
    """Two host services on every address: one the allow-list will let functions reach, one it will not."""
    servers = [socket.create_server(("0.0.0.0", 0)) for _ in range(2)]
    try:
        yield servers[0].getsockname()[1], servers[1].getsockname()[1]
    finally:
        for server in servers:
            server.close()


@pytest.fixture
async def own_network(engine: docker.DockerClient) -> AsyncIterator[Harness]:
    """A harness on a network of its own: the rules must not touch other tests' networks."""
    name = f"stratus-egress-{uuid4().hex[:6]}"
    async with running_harness(engine, network=name) as found:
        yield found
    engine.networks.get(name).remove()


async def probe(harness: Harness, targets: list[list[object]]) -> dict[str, str]:
    record = await harness.run(harness.action(PROBE), {"targets": targets})
    assert record.response.status == "success", record.response
    return dict(record.response.result)


def rules(bridge: str) -> str:
    return subprocess.run(["iptables", "-S"], capture_output=True, text=True, check=True).stdout


async def test_functions_reach_neither_the_host_nor_link_local_addresses_unless_allowed(
    own_network: Harness, link_local_service: str, listeners: tuple[int, int]
) -> None:
    harness = own_network
    network = await harness.driver.network_info(harness.settings.network)
    allowed_port, closed_port = listeners
    host, port = link_local_service.split(":")
    targets = [
        [network.gateway, allowed_port],
        [network.gateway, closed_port],
        ["172.17.0.1", closed_port],
        [host, port],
    ]
    before = await probe(harness, targets)
    assert set(before.values()) == {"connected"}, before  # the controls: every door is open without the rules
    guard = EgressGuard([f"gateway:{allowed_port}"], "required")
    await guard.install(network)
    try:
        assert chain_names(network.bridge)[0] in rules(network.bridge)
        after = await probe(harness, targets)
        again = await probe(harness, targets)  # the invoker still reaches its (warm) container: replies pass
    finally:
        await guard.remove(await harness.driver.network_info(harness.settings.network))
        for container in harness.containers():
            container.remove(force=True)
        await guard.remove(await harness.driver.network_info(harness.settings.network))
    assert after[f"{network.gateway}:{allowed_port}"] == "connected"  # the allow-list's control
    blocked = {k: v for k, v in after.items() if not k.endswith(f":{allowed_port}")}
    assert blocked and all(outcome == "timeout" for outcome in blocked.values()), after
    assert again == after
    assert chain_names(network.bridge)[0] not in rules(network.bridge)  # the last one out removed them


async def test_the_invoker_installs_the_rules_and_the_last_one_out_removes_them(
    own_network: Harness, listeners: tuple[int, int]
) -> None:
    harness = own_network
    network = await harness.driver.network_info(harness.settings.network)
    first, second = EgressGuard([], "required"), EgressGuard([], "required")
    await asyncio.gather(first.install(network), second.install(network))  # two invokers at once: atomic
    try:
        listing = rules(network.bridge)
        inbound, routed = chain_names(network.bridge)
        assert listing.count(f"-A INPUT -i {network.bridge} -j {inbound}") >= 1
        assert (
            listing.count(f"-A {inbound} -j DROP") == 1 and listing.count(f"-A {routed} -d 169.254.0.0/16 -j DROP") == 1
        )
        result = await probe(harness, [[network.gateway, listeners[0]]])
        assert result == {f"{network.gateway}:{listeners[0]}": "timeout"}
        await first.remove(await harness.driver.network_info(harness.settings.network))  # a container is still on it
        assert inbound in rules(network.bridge)
    finally:
        for container in harness.containers():
            container.remove(force=True)
        await second.remove(await harness.driver.network_info(harness.settings.network))
    assert chain_names(network.bridge)[0] not in rules(network.bridge)
