"""`python -m invoker`: runs activations in containers on this node."""

import asyncio

from prometheus_client import start_http_server

from core.backends import open_core
from core.config import InvokerSettings
from core.lifecycle import run_until_signal, setup_logging
from invoker.wiring import open_invoker


async def serve(stop: asyncio.Event) -> None:
    settings = InvokerSettings()
    setup_logging(settings.log_level)
    server, _ = start_http_server(settings.metrics_port, settings.metrics_addr)  # the pool, starts, durations
    try:
        async with open_core(settings.redis_url, settings.mongo_url, settings.mongo_db, settings.entities_url) as core:
            async with open_invoker(settings, core) as invoker:
                invoker.metrics_address = f"{settings.metrics_addr}:{server.server_port}"
                await invoker.run(stop)
    finally:
        server.shutdown()


if __name__ == "__main__":
    run_until_signal(serve)
