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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from stratus import limits as L
from stratus.errors import StratusError

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
    pids_limit: int = 64
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
    async def ensure_network(self, name: str) -> None:
        """A bridge network on which containers cannot reach each other. Idempotent."""

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


class DockerDriver:
    def __init__(self, client: docker.DockerClient) -> None:
        self._client = client

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
        def ensure() -> None:
            if not self._client.networks.list(names=[name]):
                self._client.networks.create(
                    name,
                    driver="bridge",
                    labels={"org.stratus.managed": "true"},
                    options={"com.docker.network.bridge.enable_icc": "false"},
                )

        await self._call(f"creating network {name}", ensure)

    async def network_info(self, name: str) -> FunctionNetwork:
        def inspect() -> FunctionNetwork:
            attrs = self._client.networks.get(name).attrs
            bridge = (attrs.get("Options") or {}).get("com.docker.network.bridge.name") or f"br-{attrs['Id'][:12]}"
            [config] = attrs["IPAM"]["Config"]
            return FunctionNetwork(bridge, str(config["Gateway"]), len(attrs.get("Containers") or {}))

        return await self._call(f"inspecting network {name}", inspect)

    async def start(self, spec: ContainerSpec) -> ContainerHandle:
        container = await self._call(f"starting container {spec.name}", self._run, spec)
        try:
            ip = container.attrs["NetworkSettings"]["Networks"][spec.network]["IPAddress"]
        except (KeyError, TypeError) as exc:
            await self.remove(container.id)
            raise ContainerError(f"container {spec.name} has no address on {spec.network}") from exc
        return ContainerHandle(container.id, spec.name, f"http://{ip}:{PROXY_PORT}", spec.memory_mb)

    def _run(self, spec: ContainerSpec) -> Any:
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
