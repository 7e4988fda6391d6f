"""`stratus admin invokers` and `stratus admin namespace limits`: the cluster's operator commands."""

import asyncio
import time

import typer
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console
from rich.table import Table

from core.bus import RedisStreamBus
from core.errors import StratusError
from core.invokers import InvokerStatus, list_invokers
from core.ledger import RedisLedger
from core.models import NamespaceLimits
from core.namespaces import set_limits
from core.stores.entities import SqlEntityStore

console = Console()
STATE_STYLE = {"healthy": "green", "unhealthy": "yellow", "offline": "red"}


class ClusterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STRATUS_", frozen=True)

    redis_url: str = ""
    entities_url: str = ""
    heartbeat_ttl_s: float = 10.0


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "-"


def invokers_table(rows: list[InvokerStatus], now_ms: int) -> Table:
    table = Table("invoker", "state", "load", "booked / memory", "containers", "warm pools", "last seen", "reason")
    for row in rows:
        style = STATE_STYLE[row.state]
        table.add_row(
            row.invoker_id,
            f"[{style}]{row.state}[/{style}]",
            f"{row.load:.0%}",
            f"{row.booked_memory_mb} / {row.user_memory_mb} MB",
            _counts(row.pool) if row.pool else str(row.containers),
            _counts(row.warm),
            f"{(now_ms - row.last_seen_ms) / 1000:.1f} s ago",
            row.reason or "",
        )
    return table


def invokers(
    redis_url: str = typer.Option(None, help="Redis URL (default: STRATUS_REDIS_URL)."),
    heartbeat_ttl_s: float = typer.Option(None, help="Offline after this long without a heartbeat (default 10)."),
) -> None:
    """List invokers: state (healthy / unhealthy / offline), load, containers and warm pools."""
    settings = ClusterSettings()
    url = redis_url or settings.redis_url
    if not url:
        console.print("[red]Set STRATUS_REDIS_URL or pass --redis-url.[/red]")
        raise typer.Exit(2)
    ttl_ms = int((heartbeat_ttl_s or settings.heartbeat_ttl_s) * 1000)

    async def main() -> list[InvokerStatus]:
        bus, ledger = RedisStreamBus.from_url(url), RedisLedger.from_url(url)
        try:
            return await list_invokers(bus, ledger, int(time.time() * 1000), ttl_ms)
        finally:
            await bus.close()
            await ledger.close()

    try:
        rows = asyncio.run(main())
    except StratusError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    if not rows:
        console.print("No invoker has sent a heartbeat.")
        return
    console.print(invokers_table(rows, int(time.time() * 1000)))


def namespace_limits(
    name: str,
    concurrent: int = typer.Option(None, help="Concurrent invocations allowed (0: no limit; unset: the default)."),
    per_minute: int = typer.Option(None, help="Invocations allowed per minute (0: no limit; unset: the default)."),
    entities_url: str = typer.Option(None, help="Entity store URL (default: STRATUS_ENTITIES_URL)."),
) -> None:
    """Set a namespace's own throttles; options left out fall back to the gateway's defaults."""
    url = entities_url or ClusterSettings().entities_url
    limits = NamespaceLimits(concurrent_invocations=concurrent, invocations_per_minute=per_minute)

    async def main() -> None:
        store = SqlEntityStore(url)
        await store.start()
        try:
            await set_limits(store, name, limits)
        finally:
            await store.close()

    try:
        asyncio.run(main())
    except StratusError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"{name}: concurrent {_limit(concurrent)}, per minute {_limit(per_minute)}")


def _limit(value: int | None) -> str:
    return "default" if value is None else ("no limit" if value == 0 else str(value))
