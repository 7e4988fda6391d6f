"""`python -m gateway`: the API server, wired to MySQL, MongoDB and Redis from STRATUS_* settings."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from gateway.app import create_app
from gateway.deps import Backends, backends_from_core
from stratus.backends import open_core
from stratus.config import GatewaySettings
from stratus.lifecycle import setup_logging


def main() -> None:
    settings = GatewaySettings()
    setup_logging(settings.log_level)

    @asynccontextmanager
    async def open_backends() -> AsyncIterator[Backends]:
        async with open_core(settings.redis_url, settings.mongo_url, settings.mongo_db, settings.entities_url) as core:
            yield backends_from_core(settings, core)

    app = create_app(open_backends)
    if settings.listen_fd is not None:  # a worker of `stratus standalone`, sharing its socket
        uvicorn.run(app, fd=settings.listen_fd, access_log=False, log_level=settings.log_level.lower())
    else:
        uvicorn.run(app, host=settings.host, port=settings.port, access_log=False)


if __name__ == "__main__":
    main()
