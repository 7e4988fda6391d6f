"""`stratus namespace list`: the namespaces the configured key may use."""

import typer

from stratus.cli import output as out

app = typer.Typer(help="Namespaces your key may use.", no_args_is_help=True)


@app.command("list")
def list_(as_json: bool = out.JSON_OPTION) -> None:
    """List the key's namespaces."""
    with out.client() as client:
        names = client.namespaces()
    if as_json:
        out.print_json(names)
    else:
        out.table(["namespace"], [(n,) for n in names])
