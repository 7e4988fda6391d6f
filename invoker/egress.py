"""Egress policy of the function network: iptables rules on its bridge, installed by the invoker.

A container on a Docker bridge reaches every service the host binds to 0.0.0.0 (through the bridge's gateway
address, docker0's, the LAN's) and whatever the host routes to, the cloud metadata address 169.254.169.254
included (reference/isolation.md). Two chains per bridge close that, written in one `iptables-restore --noflush`
(atomic, so invokers sharing a network can install at once):
- `STRATUS-I-<bridge>`, jumped to from INPUT for packets from the bridge (the host as a destination, on any
  of its addresses): replies to connections the host opened (the invoker's /init and /run) and the allow-list
  pass, everything else is dropped.
- `STRATUS-F-<bridge>`, jumped to from DOCKER-USER (routed packets): link-local 169.254.0.0/16 and anything
  DNATed to a port published on the host are dropped unless allowed; the internet stays reachable.

Allow-list entries (STRATUS_EGRESS_ALLOW, a JSON list): `ADDRESS[/BITS][:PORT]`, where ADDRESS may be
`gateway`, the function network's gateway address (the host as functions see it); no port means every port
and protocol, a port means TCP to that port. Example: `["gateway:8125", "169.254.170.2:80"]` on a bridge
`br-1a2b` whose gateway is 172.20.0.1 gives, in the input chain, `-d 172.20.0.1/32 -p tcp --dport 8125 -j RETURN`
before the final DROP, and in the forward chain `-d 169.254.170.2/32 -p tcp --dport 80 -j RETURN` before the
link-local DROP.

Caveats: IPv4 only (function networks are created without IPv6); a host that is not root, or has no iptables,
cannot install the rules: `egress_guard` says whether that stops the invoker (`required`), is logged (`auto`),
or is not tried (`off`). Rules stay when an invoker dies (failing closed); the last invoker leaving a network
removes them.
"""

import asyncio
import ipaddress
import logging
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.errors import StratusError
from invoker.driver import FunctionNetwork

log = logging.getLogger(__name__)

LINK_LOCAL = "169.254.0.0/16"
REPLIES = ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "RETURN"]


class EgressError(StratusError):
    pass


@dataclass(frozen=True)
class Allowed:
    network: str  # CIDR
    port: int | None  # None: every port and protocol


def parse_allowed(entry: str, gateway: str) -> Allowed:
    """`gateway:8080` -> Allowed("172.20.0.1/32", 8080); ValueError for anything else than ADDRESS[/BITS][:PORT]."""
    address, _, port = entry.strip().rpartition(":") if ":" in entry else (entry.strip(), "", "")
    address = gateway if address == "gateway" else address
    try:
        network = str(ipaddress.IPv4Network(address, strict=False))
    except ValueError as exc:
        raise ValueError(f"egress allow-list entry {entry!r}: not ADDRESS[/BITS][:PORT]") from exc
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"egress allow-list entry {entry!r}: bad port")
    return Allowed(network, int(port) if port else None)


def chain_names(bridge: str) -> tuple[str, str]:
    return f"STRATUS-I-{bridge}"[:28], f"STRATUS-F-{bridge}"[:28]  # iptables allows 28 characters


def restore_script(bridge: str, allowed: Sequence[Allowed]) -> str:
    """The two chains, flushed and filled, as `iptables-restore --noflush` input."""
    inbound, routed = chain_names(bridge)
    passes = [_pass(a) for a in allowed]
    lines = ["*filter", f":{inbound} - [0:0]", f":{routed} - [0:0]"]
    lines += [f"-A {inbound} {' '.join(REPLIES)}"] + [f"-A {inbound} {p}" for p in passes] + [f"-A {inbound} -j DROP"]
    lines += [f"-A {routed} {' '.join(REPLIES)}"] + [f"-A {routed} {p}" for p in passes]
    lines += [f"-A {routed} -d {LINK_LOCAL} -j DROP", f"-A {routed} -m conntrack --ctstate DNAT -j DROP", "COMMIT", ""]
    return "\n".join(lines)


def jumps(bridge: str, forward: str = "DOCKER-USER") -> list[tuple[str, list[str]]]:
    """(parent chain, rule) of the jumps into the bridge's chains. `forward`: DOCKER-USER, where Docker wants
    its users' rules; FORWARD when this iptables does not show Docker's chains (another backend)."""
    inbound, routed = chain_names(bridge)
    return [("INPUT", ["-i", bridge, "-j", inbound]), (forward, ["-i", bridge, "-j", routed])]


def _pass(allowed: Allowed) -> str:
    port = f" -p tcp --dport {allowed.port}" if allowed.port is not None else ""
    return f"-d {allowed.network}{port} -j RETURN"


Runner = Callable[[list[str], str | None], subprocess.CompletedProcess[str]]


def run_command(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=30, check=False)


class EgressGuard:
    """Installs and removes the rules of one function network; `mode` as the setting `egress_guard`."""

    def __init__(self, allow: Sequence[str], mode: str = "auto", run: Runner = run_command) -> None:
        self._allow = tuple(allow)
        self._mode = mode
        self._run = run
        self.installed: str | None = None  # the bridge, once its rules are in

    async def install(self, network: FunctionNetwork) -> None:
        if self._mode == "off":
            log.warning("egress guard off: functions reach the host's services and 169.254.169.254")
            return
        try:
            allowed = [parse_allowed(entry, network.gateway) for entry in self._allow]
            await asyncio.to_thread(self._install, network.bridge, allowed)
        except (EgressError, ValueError, OSError, subprocess.SubprocessError) as exc:
            if self._mode == "required" or isinstance(exc, ValueError):
                raise EgressError(f"cannot install the egress rules of {network.bridge}: {exc}") from exc
            log.warning(
                "egress rules of %s not installed (%s): functions reach the host's services", network.bridge, exc
            )
            return
        self.installed = network.bridge
        log.info("egress rules installed on %s (allowed: %s)", network.bridge, ", ".join(self._allow) or "nothing")

    def _install(self, bridge: str, allowed: Sequence[Allowed]) -> None:
        if shutil.which("iptables") is None or shutil.which("iptables-restore") is None:
            raise EgressError("iptables is not installed")
        self._check(["iptables-restore", "-w", "--noflush"], restore_script(bridge, allowed))
        for parent, rule in jumps(bridge, self._forward_chain()):
            if self._run(["iptables", "-w", "-C", parent, *rule], None).returncode != 0:
                self._check(["iptables", "-w", "-I", parent, "1", *rule])

    async def remove(self, network: FunctionNetwork) -> None:
        """Take the rules out when no container is left on the network (another invoker may still use it)."""
        if self.installed is None:
            return
        if network.containers:
            log.info("egress rules of %s stay: %d containers still on it", network.bridge, network.containers)
            return
        await asyncio.to_thread(self._remove, network.bridge)
        self.installed = None

    def _forward_chain(self) -> str:
        return "DOCKER-USER" if self._run(["iptables", "-w", "-S", "DOCKER-USER"], None).returncode == 0 else "FORWARD"

    def _remove(self, bridge: str) -> None:
        for parent, rule in jumps(bridge, self._forward_chain()):
            while self._run(["iptables", "-w", "-D", parent, *rule], None).returncode == 0:
                pass
        for chain in chain_names(bridge):
            self._run(["iptables", "-w", "-F", chain], None)
            self._run(["iptables", "-w", "-X", chain], None)

    def _check(self, argv: list[str], stdin: str | None = None) -> None:
        done = self._run(argv, stdin)
        if done.returncode != 0:
            raise EgressError(f"{' '.join(argv[:3])} failed: {done.stderr.strip()[:500]}")
