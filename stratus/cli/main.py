"""The `stratus` command line."""

import typer

from stratus.cli import admin, image, standalone

app = typer.Typer(help="Stratus: a container-isolated Function-as-a-Service platform.", no_args_is_help=True)
app.command("standalone")(standalone.standalone)
app.add_typer(admin.app, name="admin")
app.add_typer(image.app, name="image")
