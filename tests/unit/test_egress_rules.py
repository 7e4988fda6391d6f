"""The egress policy's rules (invoker/egress.py), built without iptables; EgressGuard against a recording runner."""

import subprocess

import pytest

from invoker.driver import FunctionNetwork
from invoker.egress import Allowed, EgressError, EgressGuard, chain_names, parse_allowed, restore_script


def test_allow_list_entries() -> None:
    assert parse_allowed("gateway:8080", "172.20.0.1") == Allowed("172.20.0.1/32", 8080)
    assert parse_allowed("gateway", "172.20.0.1") == Allowed("172.20.0.1/32", None)
    assert parse_allowed("10.1.2.3/16:443", "x") == Allowed("10.1.0.0/16", 443)
    assert parse_allowed("169.254.170.2", "x") == Allowed("169.254.170.2/32", None)
    for bad in ("example.com", "10.0.0.1:http", "10.0.0.1:70000", "gateway:0", ""):
        with pytest.raises(ValueError):
            parse_allowed(bad, "172.20.0.1")


def test_the_host_is_closed_but_replies_and_the_allow_list_pass_and_link_local_is_dropped() -> None:
    inbound, routed = chain_names("br-1a2b3c4d5e6f")
    script = restore_script("br-1a2b3c4d5e6f", [Allowed("172.20.0.1/32", 8125)]).splitlines()
    ours = [line for line in script if line.startswith(f"-A {inbound} ")]
    assert ours == [
        f"-A {inbound} -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN",
        f"-A {inbound} -d 172.20.0.1/32 -p tcp --dport 8125 -j RETURN",
        f"-A {inbound} -j DROP",  # last: everything else from the bridge to the host
    ]
    routed_rules = [line for line in script if line.startswith(f"-A {routed} ")]
    assert routed_rules[-2:] == [
        f"-A {routed} -d 169.254.0.0/16 -j DROP",
        f"-A {routed} -m conntrack --ctstate DNAT -j DROP",
    ]
    assert script[0] == "*filter" and f":{inbound} - [0:0]" in script and "COMMIT" in script
    assert all(len(name) <= 28 for name in chain_names("br-" + "f" * 40))


class Recorder:
    def __init__(self, fail: frozenset[str] = frozenset()) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        self.calls.append(argv)
        code = 1 if any(flag in argv for flag in self.fail) else 0
        return subprocess.CompletedProcess(argv, code, "", "no" if code else "")


NETWORK = FunctionNetwork("br-1a2b3c4d5e6f", "172.20.0.1", 0)


async def test_install_adds_each_jump_once_and_remove_waits_for_the_last_container(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/sbin/{name}")
    run = Recorder(fail=frozenset({"-C"}))  # the jumps are not there yet; Docker's DOCKER-USER is
    guard = EgressGuard(["gateway:8080"], "required", run)
    await guard.install(NETWORK)
    assert [c[3] for c in run.calls if "-I" in c] == ["INPUT", "DOCKER-USER"]
    await guard.remove(FunctionNetwork(NETWORK.bridge, NETWORK.gateway, 2))  # another invoker's containers
    assert not [c for c in run.calls if "-X" in c] and guard.installed == NETWORK.bridge
    done = Recorder(fail=frozenset({"-D"}))
    guard._run = done
    await guard.remove(NETWORK)
    assert [c[-1] for c in done.calls if "-X" in c] == list(chain_names(NETWORK.bridge))


async def test_without_iptables_required_stops_and_auto_carries_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(EgressError, match="iptables"):
        await EgressGuard([], "required", Recorder()).install(NETWORK)
    auto = EgressGuard([], "auto", Recorder())
    await auto.install(NETWORK)
    assert auto.installed is None
    with pytest.raises(EgressError, match="nope"):  # a wrong allow-list is a configuration error, whatever the mode
        await EgressGuard(["nope"], "auto", Recorder()).install(NETWORK)


async def test_without_dockers_chain_the_routed_rules_hang_off_forward(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/sbin/{name}")
    run = Recorder(fail=frozenset({"-C", "-S"}))  # an iptables backend other than Docker's: no DOCKER-USER
    await EgressGuard([], "required", run).install(NETWORK)
    assert [c[3] for c in run.calls if "-I" in c] == ["INPUT", "FORWARD"]
