"""Containers for functions: the ContainerDriver role, then DockerDriver (the only `docker` import).

The Docker SDK is blocking, so every call runs in a worker thread. Transient engine errors are
retried a few times; what still fails is raised as ContainerError (ImageMissing when the image is not on
this engine: there is no registry to pull from, so it is never pulled).

Every function container is hardened the same way: non-root (FUNCTION_USER), all capabilities dropped,
no new privileges, a read-only root, memory = swap limit, pids and log limits. It has two writable places,
both tmpfs: /tmp (small, noexec) and CODE_DIR, where the runtime unpacks the action's code: exec (so
native libraries shipped in a zip load), writable only by the function user, at most `code_mb`. Both
count against the container's memory limit (tmpfs pages are charged to its memory cgroup), so nothing
written there outgrows what the action was given.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from core import limits as L
from core.errors import StratusError

log = logging.getLogger(__name__)

PROXY_PORT = 8080
FUNCTION_USER = "65534:65534"
CODE_DIR = "/action"  # the runtime image's actionproxy unpacks code here when it is a writable directory
T = TypeVar("T")


class ContainerError(StratusError):
    """The engine could not do what was asked."""


class ImageMissing(ContainerError):
    """The image is not on this engine (images are built on each engine, never pulled)."""

    def __init__(self, image: str) -> None:
        super().__init__(f"the image {image} is not on this Docker engine")
        self.image = image


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    name: str
    network: str
    memory_mb: int
    cpu_shares: int
    labels: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    pids_limit: int = L.CONTAINER_PIDS
    tmp_mb: int = 64
    code_mb: int = L.CODE_UNPACKED_MAX_MB  # the tmpfs at CODE_DIR
    log_max_mb: int = 10
    command: list[str] | None = None  # None: the image's own (the action proxy)


@dataclass(frozen=True)
class FunctionNetwork:
    bridge: str  # the host's interface, br-<id>
    gateway: str  # the bridge's address on the host
    containers: int  # attached now


@dataclass(frozen=True)
class ContainerHandle:
    container_id: str
    name: str
    address: str  # http://<ip>:8080 on the function network
    memory_mb: int = 0  # the engine's memory limit of the container (0: not known)


class ContainerDriver(Protocol):
    prepare_network: Callable[[str], Awaitable[None]]  # what start() calls when the network is gone

    async def ensure_network(self, name: str) -> None:
        """A bridge network on which containers cannot reach each other. Idempotent."""

    async def remove_network_if_unused(self, name: str) -> bool:
        """Remove the network when no container is attached (another invoker may still use it); True if so."""

    async def network_info(self, name: str) -> FunctionNetwork:
        """Its bridge interface, gateway address and how many containers are on it now."""

    async def start(self, spec: ContainerSpec) -> ContainerHandle:
        """Create and start a hardened container; raises ContainerError."""

    async def remove(self, container_id: str) -> None:
        """Force-remove; a container already gone is not an error."""

    async def list_labelled(self, label: str) -> list[str]:
        """Ids of containers (running or not) carrying `label` (`key=value`)."""

    async def oom_killed(self, container_id: str) -> bool:
        """Whether the kernel killed the container's process for exceeding its memory limit."""

    async def running(self, container_id: str) -> bool:
        """Whether the container exists and its process runs (paused counts as running)."""

    async def pause(self, container_id: str) -> None:
        """Freeze every process of the container (cgroup freezer)."""

    async def unpause(self, container_id: str) -> None:
        """Thaw a paused container."""

    async def rename(self, container_id: str, name: str) -> None:
        """Give the container a new name (a stem cell once it serves an action)."""

    async def set_memory(self, container_id: str, memory_mb: int, cpu_shares: int) -> None:
        """Change a running container's memory (= swap) limit and CPU shares (a stem cell taken over)."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.ConnectionError):
        return True
    return (
        isinstance(exc, APIError)
        and exc.status_code is not None
        and exc.status_code >= 500
        and ("Conflict" not in str(exc))
    )


NETWORK_SETTLE_S = 1.0  # creations racing ours are visible by then (seen: within 60 ms)


class NetworkGone(ContainerError):
    """The function network was removed (by the last invoker on the engine to stop) since it was made."""


class DockerDriver:
    def __init__(self, client: docker.DockerClient) -> None:
        self._client = client
        # how a network found gone is made again: the invoker sets its own (network + egress rules)
        self.prepare_network: Callable[[str], Awaitable[None]] = self.ensure_network

    @classmethod
    def from_env(cls) -> "DockerDriver":
        """On the engine DOCKER_HOST names (the local socket by default)."""
        return cls(docker.from_env())

    async def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        @retry(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.1, max=1),
            reraise=True,
        )
        def attempt() -> T:
            return fn(*args, **kwargs)

        try:
            return await asyncio.to_thread(attempt)
        except (DockerException, requests.RequestException) as exc:
            raise ContainerError(f"{what} failed: {exc}") from exc

    async def ensure_network(self, name: str) -> None:
        """Create the functions' network unless it exists; exactly one network of that name remains.

        Engines before API 1.44 let two invokers starting together both create it (the duplicate
        check is best-effort), and a container started on an ambiguous name fails. An invoker that
        created one waits a moment for concurrent creations to become visible, then every invoker
        keeps the oldest of them and removes the others, so all of them settle on the same one.
        """
        await self._call(f"creating network {name}", self._ensure_network, name)

    def _same_name(self, name: str) -> list[Any]:  # the engine's name filter matches substrings
        return [n for n in self._client.networks.list(names=[name]) if n.name == name]

    def _ensure_network(self, name: str) -> None:
        if not self._same_name(name):
            try:
                self._client.networks.create(
                    name,
                    driver="bridge",
                    check_duplicate=True,
                    labels={"org.stratus.managed": "true"},
                    options={"com.docker.network.bridge.enable_icc": "false"},
                )
            except APIError as exc:
                if exc.status_code != 409:  # 409: another invoker created it first
                    raise
            time.sleep(NETWORK_SETTLE_S)
        found = self._same_name(name)
        keep = min(found, key=lambda n: (n.attrs.get("Created", ""), n.id))
        for extra in found:
            if extra.id != keep.id:
                try:
                    extra.remove()
                except NotFound:
                    pass  # another invoker removed it

    async def remove_network_if_unused(self, name: str) -> bool:
        def remove() -> bool:
            try:
                network = self._client.networks.get(name)
                if network.attrs.get("Containers") or self._client.api.containers(all=True, filters={"network": name}):
                    return False
                network.remove()
            except NotFound:
                return False
            except APIError as exc:  # an endpoint attached meanwhile ("has active endpoints")
                log.info("network %s kept: %s", name, exc.explanation)
                return False
            return True

        return await self._call(f"removing network {name}", remove)

    async def network_info(self, name: str) -> FunctionNetwork:
        def inspect() -> FunctionNetwork:
            attrs = self._client.networks.get(name).attrs
            bridge = (attrs.get("Options") or {}).get("com.docker.network.bridge.name") or f"br-{attrs['Id'][:12]}"
            [config] = attrs["IPAM"]["Config"]
            return FunctionNetwork(bridge, str(config["Gateway"]), len(attrs.get("Containers") or {}))

        return await self._call(f"inspecting network {name}", inspect)

    async def start(self, spec: ContainerSpec) -> ContainerHandle:
        try:
            container = await self._call(f"starting container {spec.name}", self._run, spec)
        except NetworkGone:  # made again as the invoker makes it (with its egress rules), then once more
            await self.prepare_network(spec.network)
            container = await self._call(f"starting container {spec.name}", self._run, spec)
        try:
            ip = container.attrs["NetworkSettings"]["Networks"][spec.network]["IPAddress"]
        except (KeyError, TypeError) as exc:
            await self.remove(container.id)
            raise ContainerError(f"container {spec.name} has no address on {spec.network}") from exc
        return ContainerHandle(container.id, spec.name, f"http://{ip}:{PROXY_PORT}", spec.memory_mb)

    def _run(self, spec: ContainerSpec) -> Any:
        try:
            return self._create_and_start(spec)
        except NotFound as exc:  # the last invoker on this engine that stopped removed the network
            if isinstance(exc, ImageNotFound) or "network" not in str(exc.explanation or exc):
                raise
            raise NetworkGone(f"network {spec.network} is gone") from exc

    def _create_and_start(self, spec: ContainerSpec) -> Any:
        try:  # create, not run: run pulls a missing image, and there is no registry to pull from
            container = self._client.containers.create(spec.image, spec.command, **self._options(spec))
        except ImageNotFound as exc:
            raise ImageMissing(spec.image) from exc
        try:
            container.start()
            container.reload()
        except DockerException:
            container.remove(force=True)
            raise
        return container

    @staticmethod
    def _options(spec: ContainerSpec) -> dict[str, Any]:
        uid, gid = FUNCTION_USER.split(":")
        return dict(
            name=spec.name,
            labels=spec.labels,
            environment=spec.env,
            network=spec.network,
            mem_limit=f"{spec.memory_mb}m",
            memswap_limit=f"{spec.memory_mb}m",  # no swap: the limit is the limit
            cpu_shares=spec.cpu_shares,
            pids_limit=spec.pids_limit,
            read_only=True,
            tmpfs={
                "/tmp": f"rw,noexec,nosuid,nodev,size={spec.tmp_mb}m,mode=1777",
                CODE_DIR: f"rw,exec,nosuid,nodev,size={spec.code_mb}m,uid={uid},gid={gid},mode=0700",
            },
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            user=FUNCTION_USER,
            ulimits=[docker.types.Ulimit(name="nofile", soft=1024, hard=1024)],
            log_config=docker.types.LogConfig(type="json-file", config={"max-size": f"{spec.log_max_mb}m"}),
        )

    async def remove(self, container_id: str) -> None:
        def remove() -> None:
            try:
                self._client.api.remove_container(container_id, force=True)
            except NotFound:
                pass

        await self._call(f"removing container {container_id[:12]}", remove)

    async def list_labelled(self, label: str) -> list[str]:
        def listed() -> list[str]:
            return [c["Id"] for c in self._client.api.containers(all=True, filters={"label": label})]

        return await self._call("listing containers", listed)

    async def oom_killed(self, container_id: str) -> bool:
        def inspect() -> bool:
            try:
                state = self._client.api.inspect_container(container_id)["State"]
            except NotFound:
                return False
            return bool(state.get("OOMKilled"))

        return await self._call(f"inspecting container {container_id[:12]}", inspect)

    async def running(self, container_id: str) -> bool:
        def inspect() -> bool:
            try:
                return bool(self._client.api.inspect_container(container_id)["State"]["Running"])
            except NotFound:
                return False

        return await self._call(f"inspecting container {container_id[:12]}", inspect)

    async def pause(self, container_id: str) -> None:
        await self._call(f"pausing container {container_id[:12]}", self._client.api.pause, container_id)

    async def unpause(self, container_id: str) -> None:
        await self._call(f"unpausing container {container_id[:12]}", self._client.api.unpause, container_id)

    async def rename(self, container_id: str, name: str) -> None:
        await self._call(f"renaming container {container_id[:12]}", self._client.api.rename, container_id, name)

    async def set_memory(self, container_id: str, memory_mb: int, cpu_shares: int) -> None:
        await self._call(
            f"updating the limits of container {container_id[:12]}",
            self._client.api.update_container,
            container_id,
            mem_limit=f"{memory_mb}m",
            memswap_limit=f"{memory_mb}m",
            cpu_shares=cpu_shares,
        )

    def close(self) -> None:
        self._client.close()
