"""The `stratus` command: the operator commands, then every user command of the client side (stratus.cli.main)."""

import typer

from standalone.cli import admin, image, serve
from stratus.cli.main import HELP, add_user_commands

app = typer.Typer(help=HELP, no_args_is_help=True)
app.command("standalone")(serve.standalone)
app.add_typer(admin.app, name="admin")
app.add_typer(image.app, name="image")
add_user_commands(app)
