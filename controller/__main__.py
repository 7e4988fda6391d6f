"""`python -m controller`: schedules invocations onto invokers."""

import asyncio
import socket

from prometheus_client import start_http_server

from controller.service import Controller
from core.backends import open_core
from core.config import ControllerSettings
from core.lifecycle import run_until_signal, setup_logging


def advertised(addr: str, port: int) -> str:
    """host:port others reach /metrics at: this host's address when bound to every interface."""
    host = socket.gethostbyname(socket.gethostname()) if addr in ("0.0.0.0", "") else addr
    return f"{host}:{port}"


async def serve(stop: asyncio.Event) -> None:
    settings = ControllerSettings()
    setup_logging(settings.log_level)
    server, _ = start_http_server(settings.metrics_port, settings.metrics_addr)  # placement, queue, load, records
    try:
        async with open_core(settings.redis_url, settings.mongo_url, settings.mongo_db, settings.entities_url) as core:
            controller = Controller(settings, core.bus, core.activations, core.ledger, core.entities)
            controller.metrics_address = advertised(settings.metrics_addr, server.server_port)
            await controller.run(stop)
    finally:
        server.shutdown()


if __name__ == "__main__":
    run_until_signal(serve)
