"""`python -m controller`: schedules invocations onto invokers."""

import asyncio

from controller.service import Controller
from stratus.backends import open_core
from stratus.config import ControllerSettings
from stratus.lifecycle import run_until_signal, setup_logging


async def serve(stop: asyncio.Event) -> None:
    settings = ControllerSettings()
    setup_logging(settings.log_level)
    async with open_core(settings.redis_url, settings.mongo_url, settings.mongo_db, settings.entities_url) as core:
        await Controller(settings, core.bus, core.activations, core.ledger, core.entities).run(stop)


if __name__ == "__main__":
    run_until_signal(serve)
