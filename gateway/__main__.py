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
    setup_logging()
    settings = GatewaySettings()

    @asynccontextmanager
    async def open_backends() -> AsyncIterator[Backends]:
        async with open_core(settings.redis_url, settings.mongo_url, settings.mongo_db, settings.entities_url) as core:
            yield backends_from_core(settings, core)

    uvicorn.run(create_app(open_backends), host=settings.host, port=settings.port, access_log=False)


if __name__ == "__main__":
    main()
