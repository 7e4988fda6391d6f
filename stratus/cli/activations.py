"""`stratus activation list|get|logs|result|poll`."""

import time
from typing import Any

import typer

from stratus.cli import output as out
from stratus.client import Client

app = typer.Typer(help="Activation records: what ran, its result and logs.", no_args_is_help=True)

STATUS = {0: "success", 1: "application error", 2: "developer error", 3: "internal error"}
ACTIVATION_ID = typer.Argument(None, help="Activation id (default: the most recent, as with --last).")
LAST = typer.Option(False, "--last", "-l", help="The most recent activation.")


def _resolve(client: Client, activation_id: str | None) -> str:
    if activation_id:
        return activation_id
    recent = client.list_activations(limit=1)
    if not recent:
        raise out.fail("there are no activations yet: invoke an action first (`stratus action invoke NAME`)")
    found: str = recent[0]["activationId"]
    return found


def _row(record: dict[str, Any]) -> tuple[Any, ...]:
    status = STATUS.get(record.get("statusCode", -1)) or record.get("response", {}).get("status", "?")
    return (record["activationId"], record["name"], status, out.when(record["start"]), record["duration"])


@app.command("list")
def list_(
    name: str = typer.Argument(None, help="Only this action's activations."),
    limit: int = out.LIMIT_OPTION,
    skip: int = typer.Option(0, help="Skip this many, newest first."),
    since: int = typer.Option(None, help="Only those started at or after this epoch ms."),
    upto: int = typer.Option(None, help="Only those started at or before this epoch ms."),
    as_json: bool = out.JSON_OPTION,
) -> None:
    """List activations, newest first."""
    with out.client() as client:
        records = client.list_activations(name=name, limit=limit, skip=skip, since=since, upto=upto)
    if as_json:
        out.print_json(records)
        return
    out.table(["activation id", "name", "status", "start (UTC)", "duration ms"], [_row(r) for r in records])


@app.command()
def get(activation_id: str = ACTIVATION_ID, last: bool = LAST) -> None:
    """Show an activation record as JSON."""
    with out.client() as client:
        out.print_json(client.get_activation(_resolve(client, activation_id)))


@app.command()
def logs(activation_id: str = ACTIVATION_ID, last: bool = LAST) -> None:
    """Print an activation's log lines."""
    with out.client() as client:
        for line in client.activation_logs(_resolve(client, activation_id)):
            out.console.print(line, markup=False)


@app.command()
def result(activation_id: str = ACTIVATION_ID, last: bool = LAST) -> None:
    """Print an activation's result."""
    with out.client() as client:
        out.print_json(client.activation_result(_resolve(client, activation_id)).get("result"))


@app.command()
def poll(
    name: str = typer.Argument(None, help="Only this action's activations."),
    exit_after: float = typer.Option(None, "--exit", "-e", help="Stop after this many seconds (default: Ctrl-C)."),
    since_s: float = typer.Option(0, "--since-seconds", help="Also show activations of the last N seconds."),
    interval: float = typer.Option(1.0, "--interval", help="Seconds between polls."),
    count: int = typer.Option(None, "--count", help="Stop after showing this many activations."),
) -> None:
    """Print new activations and their logs as they finish, until Ctrl-C (or --exit, --count)."""
    stop_at = time.monotonic() + exit_after if exit_after is not None else None
    tail = Tail(name, int(time.time() * 1000 - since_s * 1000))
    out.errors.print(f"polling for activations{f' of {name}' if name else ''}; Ctrl-C to stop")
    with out.client() as client:
        try:
            while (stop_at is None or time.monotonic() < stop_at) and (count is None or tail.shown < count):
                for record in tail.fresh(client):
                    _show(record)
                if count is not None and tail.shown >= count:
                    break
                time.sleep(interval if stop_at is None else max(0.0, min(interval, stop_at - time.monotonic())))
        except KeyboardInterrupt:
            out.errors.print("stopped")


class Tail:
    """New activation records, oldest first, each once.

    Records are listed by start time, and one that started before polling began may finish after it: so
    the query looks LOOKBACK_S further back, and what it finds there on the first poll is only marked seen.
    """

    LOOKBACK_S = 300

    def __init__(self, name: str | None, shown_from_ms: int) -> None:
        self.name = name
        self.shown_from_ms = shown_from_ms
        self.seen: set[str] = set()
        self.shown = 0
        self._first = True

    def fresh(self, client: Client) -> list[dict[str, Any]]:
        since = self.shown_from_ms - self.LOOKBACK_S * 1000
        records = client.list_activations(name=self.name, since=since, limit=200, docs=True)
        new = [r for r in reversed(records) if r["activationId"] not in self.seen]
        self.seen.update(r["activationId"] for r in new)
        if self._first:
            new = [r for r in new if r["start"] >= self.shown_from_ms]
            self._first = False
        self.shown += len(new)
        return new


def _show(record: dict[str, Any]) -> None:
    response = record.get("response", {})
    out.console.print(
        f"[bold]Activation:[/bold] {record['name']} ({record['activationId']}) "
        f"{response.get('status', '?')} in {record['duration']} ms"
    )
    for line in record.get("logs", []):
        out.console.print(f"  {line}", markup=False)
