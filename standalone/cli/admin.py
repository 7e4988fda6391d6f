"""`stratus admin`: namespaces and their keys, straight in the entity store."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console
from rich.table import Table

from core.errors import StratusError
from core.namespaces import create_namespace, revoke_key, rotate_key
from core.stores.entities import SqlEntityStore
from standalone.cli import cluster

app = typer.Typer(help="Operator commands: namespaces, keys, limits and invokers.", no_args_is_help=True)
namespace_app = typer.Typer(help="Namespaces and their keys.", no_args_is_help=True)
app.add_typer(namespace_app, name="namespace")
app.command("invokers")(cluster.invokers)
namespace_app.command("limits")(cluster.namespace_limits)
console = Console()
T = TypeVar("T")


class AdminSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STRATUS_", frozen=True)

    entities_url: str


def _store(entities_url: str | None) -> SqlEntityStore:
    url = entities_url or AdminSettings().entities_url
    return SqlEntityStore(url)


@namespace_app.command("create")
def namespace_create(
    name: str,
    subject: str = typer.Option(None, help="The owning subject (default: the namespace name)."),
    entities_url: str = typer.Option(None, help="Entity store URL (default: STRATUS_ENTITIES_URL)."),
) -> None:
    """Create a namespace and print its key (uuid:key) once; only its hash is stored."""

    async def main() -> str:
        store = _store(entities_url)
        await store.start()
        try:
            return await create_namespace(store, name, subject)
        finally:
            await store.close()

    try:
        print(asyncio.run(main()))
    except StratusError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


def _with_store(entities_url: str | None, work: Callable[[SqlEntityStore], Awaitable[T]]) -> T:
    async def main() -> T:
        store = _store(entities_url)
        await store.start()
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except StratusError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


@namespace_app.command("rotate-key")
def namespace_rotate_key(
    name: str,
    entities_url: str = typer.Option(None, help="Entity store URL (default: STRATUS_ENTITIES_URL)."),
) -> None:
    """Replace the namespace's key with a new one, printed once (uuid:key); the old one stops working."""
    print(_with_store(entities_url, lambda store: rotate_key(store, name)))


@namespace_app.command("revoke")
def namespace_revoke(
    name: str,
    entities_url: str = typer.Option(None, help="Entity store URL (default: STRATUS_ENTITIES_URL)."),
) -> None:
    """Revoke the namespace's key: nothing authenticates as it until `rotate-key` gives it a new one."""
    _with_store(entities_url, lambda store: revoke_key(store, name))
    console.print(f"the key of {name} is revoked (gateways forget it within STRATUS_AUTH_CACHE_S)")


@namespace_app.command("list")
def namespace_list(
    entities_url: str = typer.Option(None, help="Entity store URL (default: STRATUS_ENTITIES_URL)."),
) -> None:
    """List namespaces with their key uuids."""

    async def main() -> list[tuple[str, str, str]]:
        store = _store(entities_url)
        await store.start()
        try:
            return [(n.name, n.subject, n.uuid) for n in await store.list_namespaces()]
        finally:
            await store.close()

    table = Table("namespace", "subject", "key uuid")
    for row in asyncio.run(main()):
        table.add_row(*row)
    console.print(table)
