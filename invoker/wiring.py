"""Building an Invoker from settings and the shared backends (used by __main__ and standalone)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.backends import CoreBackends
from core.config import InvokerSettings
from invoker.driver import DockerDriver
from invoker.egress import EgressGuard
from invoker.pool import ContainerPool
from invoker.proxy_client import ProxyClient
from invoker.runner import Runner
from invoker.service import Invoker


@asynccontextmanager
async def open_invoker(settings: InvokerSettings, core: CoreBackends) -> AsyncIterator[Invoker]:
    driver = DockerDriver.from_env()
    proxy = ProxyClient()
    pool = ContainerPool(settings.user_memory_mb, settings.stem_cells, eviction=settings.eviction)
    runner = Runner(driver, pool, proxy, core.entities.get_action, settings)
    try:
        egress = EgressGuard(settings.egress_allow, settings.egress_guard)
        yield Invoker(settings, core.bus, core.ledger, driver, pool, runner, egress)
    finally:
        await proxy.aclose()
        driver.close()
