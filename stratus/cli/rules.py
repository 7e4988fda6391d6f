"""`stratus rule create|update|get|list|delete|enable|disable`: a trigger fires an action."""

import typer

from stratus.cli import output as out

app = typer.Typer(help="Rules: run an action whenever a trigger fires.", no_args_is_help=True)
NAME = typer.Argument(..., help="Rule name.")
TRIGGER = typer.Argument(..., help="The trigger: name or /namespace/name.")
ACTION = typer.Argument(..., help="The action: [package/]name or /namespace/[package/]name.")


@app.command()
def create(name: str = NAME, trigger: str = TRIGGER, action: str = ACTION) -> None:
    """Create a rule (active at once)."""
    with out.client() as client:
        client.put_rule(name, trigger, action)
    out.console.print(f"ok: created rule {name}: {trigger} -> {action}")


@app.command()
def update(name: str = NAME, trigger: str = TRIGGER, action: str = ACTION) -> None:
    """Move a rule to another trigger or action (its status stays)."""
    with out.client() as client:
        client.put_rule(name, trigger, action, overwrite=True)
    out.console.print(f"ok: updated rule {name}: {trigger} -> {action}")


@app.command()
def enable(name: str = NAME) -> None:
    """Activate a rule."""
    with out.client() as client:
        client.set_rule_status(name, "active")
    out.console.print(f"ok: enabled rule {name}")


@app.command()
def disable(name: str = NAME) -> None:
    """Deactivate a rule: its trigger no longer runs its action."""
    with out.client() as client:
        client.set_rule_status(name, "inactive")
    out.console.print(f"ok: disabled rule {name}")


# get and list as packages' and triggers': one line each over out.print_entity / out.listed, with their own help.
@app.command()
def get(name: str = NAME) -> None:
    """Show a rule as JSON."""
    out.print_entity("rules", name)


@app.command("list")
def list_(limit: int = out.LIMIT_OPTION, as_json: bool = out.JSON_OPTION) -> None:
    """List rules, newest first."""
    found = out.listed("rules", limit, as_json)
    if found is None:
        return
    rows = [(r["name"], r["status"], _ref(r["trigger"]), _ref(r["action"])) for r in found]
    out.table(["name", "status", "trigger", "action"], rows)


def _ref(reference: dict[str, str]) -> str:
    return f"/{reference['path']}/{reference['name']}"


@app.command()
def delete(name: str = NAME) -> None:
    """Delete a rule."""
    with out.client() as client:
        client.delete_entity("rules", name)
    out.console.print(f"ok: deleted rule {name}")
