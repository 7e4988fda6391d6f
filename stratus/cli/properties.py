"""`stratus property set|get|unset` (also `stratus config …`): the API host and key, kept in the user's config dir."""

import typer

from stratus.cli.output import JSON_OPTION, api_errors, console, fail, print_json, table
from stratus.client.settings import KEYS, config_path, load_settings, read_config, write_config

UNSET_KEYS = typer.Argument(..., help=f"Any of: {', '.join(KEYS)}.")
app = typer.Typer(help="The API host and key this CLI and the SDK use.", no_args_is_help=True)


@app.command("set")
def set_(
    apihost: str = typer.Option(None, "--apihost", help="API URL, e.g. http://127.0.0.1:3233."),
    auth: str = typer.Option(None, "--auth", "-u", help="Key as UUID:KEY (printed by `stratus standalone`)."),
    namespace: str = typer.Option(None, "--namespace", help="Namespace; `_` (default) is the key's own."),
) -> None:
    """Store values in the config file; STRATUS_APIHOST / STRATUS_AUTH still override them."""
    given = {k: v for k, v in {"apihost": apihost, "auth": auth, "namespace": namespace}.items() if v is not None}
    if not given:
        raise fail("nothing to set: give --apihost, --auth or --namespace", 2)
    path = config_path()
    with api_errors():
        write_config(path, read_config(path) | given)
    for key in given:
        console.print(f"ok: {key} set in {path}")


@app.command("get")
def get(as_json: bool = JSON_OPTION) -> None:
    """Show the values in effect and where the config file is (the key is shown without its secret)."""
    with api_errors():
        settings = load_settings()
        path = config_path()
    shown = {
        "apihost": settings.apihost,
        "auth": settings.auth.partition(":")[0] + (":***" if ":" in settings.auth else ""),
        "namespace": settings.namespace,
        "config_file": str(path),
    }
    if as_json:
        print_json(shown)
    else:
        table(["property", "value"], [(k, v or "-") for k, v in shown.items()])


@app.command("unset")
def unset(keys: list[str] = UNSET_KEYS) -> None:
    """Remove values from the config file."""
    unknown = sorted(set(keys) - set(KEYS))
    if unknown:
        raise fail(f"unknown properties {unknown}; known: {', '.join(KEYS)}", 2)
    path = config_path()
    with api_errors():
        write_config(path, {k: v for k, v in read_config(path).items() if k not in keys})
    console.print(f"ok: unset {', '.join(keys)}")
