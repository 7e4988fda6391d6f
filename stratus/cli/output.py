"""What every client command shares: the client, errors that say what to do next, JSON or tables.

Exit codes: 0 done; 1 the request failed (API error, no config, platform unreachable); 2 bad usage;
3 the function ran and failed (its record or result is still printed).
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from stratus.client import Client
from stratus.client.errors import (
    ActivationFailed,
    ApiError,
    AuthenticationError,
    ClientError,
    ConflictError,
    NotFoundError,
)

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)
FAILED = 1
FUNCTION_FAILED = 3
JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts instead of a table.")
LIMIT_OPTION = typer.Option(30, help="How many (0 for the maximum, 200).")

_HINTS: list[tuple[type[ApiError], str]] = [
    (AuthenticationError, "Check the key: `stratus property get`, then `stratus property set --auth UUID:KEY`."),
    (ConflictError, "It exists already: use `update` to change it."),
    (NotFoundError, "List what exists with `stratus action list` or `stratus activation list`."),
]


@contextmanager
def client() -> Iterator[Client]:
    """A configured client; any ClientError inside becomes a red message and a non-zero exit."""
    with api_errors(), Client() as c:
        yield c


@contextmanager
def api_errors() -> Iterator[None]:
    try:
        yield
    except ActivationFailed as exc:
        print_json(exc.record if exc.record is not None else exc.result)
        errors.print(f"[red]error:[/red] {exc.error} (activation {exc.activation_id})")
        raise typer.Exit(FUNCTION_FAILED) from exc
    except ClientError as exc:
        errors.print(f"[red]error:[/red] {exc}")
        hint = next((h for kind, h in _HINTS if isinstance(exc, kind)), None)
        if hint:
            errors.print(hint)
        raise typer.Exit(FAILED) from exc


def fail(message: str, code: int = FAILED) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def print_json(value: Any) -> None:
    console.print_json(json.dumps(value), highlight=False)


def print_entity(collection: str, name: str) -> None:
    """`get` of a package, trigger or rule: the entity as JSON."""
    with client() as c:
        print_json(c.get_entity(collection, name))


def listed(collection: str, limit: int, as_json: bool) -> list[dict[str, Any]] | None:
    """`list` of packages, triggers or rules: the entities for a table, or None once --json printed them."""
    with client() as c:
        found = c.list_entities(collection, limit=limit)
    if as_json:
        print_json(found)
        return None
    return found


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    grid = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        grid.add_column(column, no_wrap=True)
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    if console.is_terminal:
        console.print(grid)
    else:  # piped: as wide as the rows, never cut an id
        Console(width=10_000, highlight=False).print(grid)


def when(epoch_ms: int | None) -> str:
    if not epoch_ms:
        return "-"
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def annotation(entity: dict[str, Any], key: str, default: Any = None) -> Any:
    return next((a.get("value") for a in entity.get("annotations", []) if a.get("key") == key), default)
