"""The user's `stratus` commands (the client side: they speak the HTTP API). The `stratus` console script is
standalone.cli.main, which adds the operator commands; `python -m stratus.cli` runs these alone."""

import typer

from stratus.cli import (
    actions,
    activations,
    deploy,
    namespaces,
    packages,
    properties,
    routes,
    rules,
    triggers,
)

HELP = "Stratus: a container-isolated Function-as-a-Service platform."


def add_user_commands(app: typer.Typer) -> None:
    app.add_typer(properties.app, name="property")
    app.add_typer(properties.app, name="config", help="The same as `stratus property`.")
    app.add_typer(actions.app, name="action")
    app.add_typer(activations.app, name="activation")
    app.add_typer(namespaces.app, name="namespace")
    app.add_typer(routes.app, name="route")
    app.add_typer(packages.app, name="package")
    app.add_typer(triggers.app, name="trigger")
    app.add_typer(rules.app, name="rule")
    app.command("deploy")(deploy.deploy)
    app.command("undeploy")(deploy.undeploy)


app = typer.Typer(help=HELP, no_args_is_help=True)
add_user_commands(app)
