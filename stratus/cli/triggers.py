"""`stratus trigger create|update|get|list|delete|fire`, with feeds (`--feed /whisk.system/alarms/alarm`)."""

from pathlib import Path

import typer

from stratus.cli import output as out
from stratus.cli.pairs import ANNOTATION, PARAM, PARAM_FILE, PairCommand, given_entries, given_params, pairs
from stratus.client.action_body import key_values
from stratus.client.errors import ClientError

app = typer.Typer(help="Triggers: named events that fire actions through rules.", no_args_is_help=True)
NAME = typer.Argument(..., help="Trigger name.")
FEED = typer.Option(
    None, "--feed", "-f", help="A feed, e.g. /whisk.system/alarms/alarm (-p cron '*/5 * * * * *'): its parameters."
)


# The pair options are declared in each command that takes them: typer reads options from the signature.
@app.command(cls=PairCommand)
def create(
    ctx: typer.Context,
    name: str = NAME,
    param: list[str] = PARAM,
    param_file: Path = PARAM_FILE,
    annotation: list[str] = ANNOTATION,
    feed: str = FEED,
) -> None:
    """Create a trigger. With --feed, the parameters go to the feed (e.g. an alarm's cron), as in wsk."""
    params = given_params(ctx, param_file) or {}
    notes = pairs(ctx, "annotation") | ({"feed": feed} if feed else {})
    body = {"annotations": key_values(notes)} | ({} if feed else {"parameters": key_values(params)})
    with out.client() as client:
        client.put_trigger(name, body)
        if feed:
            try:
                client.feed(feed, "CREATE", f"/{client.namespace}/{name}", params)
            except ClientError:
                client.delete_entity("triggers", name)  # as wsk does: no trigger without its feed
                raise
    out.console.print(f"ok: created trigger {name}" + (f" fed by {feed}" if feed else ""))


@app.command(cls=PairCommand)
def update(
    ctx: typer.Context,
    name: str = NAME,
    param: list[str] = PARAM,
    param_file: Path = PARAM_FILE,
    annotation: list[str] = ANNOTATION,
) -> None:
    """Update a trigger: given parameters and annotations replace the old."""
    with out.client() as client:
        client.put_trigger(name, given_entries(ctx, param_file), overwrite=True)
    out.console.print(f"ok: updated trigger {name}")


@app.command()
def get(name: str = NAME) -> None:
    """Show a trigger (with its rules) as JSON."""
    out.print_entity("triggers", name)


@app.command("list")
def list_(limit: int = out.LIMIT_OPTION, as_json: bool = out.JSON_OPTION) -> None:
    """List triggers, newest first."""
    found = out.listed("triggers", limit, as_json)
    if found is None:
        return
    out.table(
        ["name", "version", "feed", "updated (UTC)"],
        [(t["name"], t["version"], out.annotation(t, "feed", ""), out.when(t["updated"])) for t in found],
    )


@app.command()
def delete(name: str = NAME) -> None:
    """Delete a trigger (and its feed's schedule)."""
    with out.client() as client:
        trigger = client.get_entity("triggers", name)
        feed = out.annotation(trigger, "feed")
        if feed:
            try:
                client.feed(feed, "DELETE", f"/{client.namespace}/{name}")
            except ClientError as exc:
                out.console.print(f"warning: the feed did not take the DELETE: {exc}")
        client.delete_entity("triggers", name)
    out.console.print(f"ok: deleted trigger {name}")


@app.command(cls=PairCommand)
def fire(ctx: typer.Context, name: str = NAME, param: list[str] = PARAM, param_file: Path = PARAM_FILE) -> None:
    """Fire a trigger with a payload: every active rule's action runs."""
    with out.client() as client:
        activation_id = client.fire_trigger(name, given_params(ctx, param_file) or {})
    if activation_id is None:
        out.console.print(f"ok: fired {name}; no active rule, nothing ran")
    else:
        out.console.print(f"ok: fired {name}, activation id {activation_id}")
