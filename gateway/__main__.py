"""`python -m gateway`: the API server, wired to MySQL, MongoDB and Redis from STRATUS_* settings."""

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from core.backends import open_core
from core.config import GatewaySettings
from core.lifecycle import quiet_gc, setup_logging
from gateway.app import create_app
from gateway.deps import Backends, backends_from_core
from gateway.http_protocol import JoinedWritesProtocol


def main() -> None:
    settings = GatewaySettings()
    setup_logging(settings.log_level)

    @asynccontextmanager
    async def open_backends() -> AsyncIterator[Backends]:
        async with open_core(settings.redis_url, settings.mongo_url, settings.mongo_db, settings.entities_url) as core:
            yield backends_from_core(settings, core)

    app = create_app(open_backends)
    quiet_gc()
    if settings.listen_fd is None:
        uvicorn.run(app, host=settings.host, port=settings.port, access_log=False, http=JoinedWritesProtocol)
        return
    # A worker of `stratus standalone`, sharing its TCP socket. Not uvicorn's `fd=`: that takes any fd for a
    # UNIX socket, so accepted TCP connections kept Nagle's algorithm on (+40 ms per blocking call).
    sock = socket.socket(fileno=settings.listen_fd)
    config = uvicorn.Config(app, access_log=False, log_level=settings.log_level.lower(), http=JoinedWritesProtocol)
    uvicorn.Server(config).run(sockets=[sock])  # on uvloop, as uvicorn.run


if __name__ == "__main__":
    main()
