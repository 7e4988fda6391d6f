"""The `stratus` command line."""

import typer

from stratus.cli import (
    actions,
    activations,
    admin,
    deploy,
    image,
    namespaces,
    packages,
    properties,
    routes,
    rules,
    standalone,
    triggers,
)

app = typer.Typer(help="Stratus: a container-isolated Function-as-a-Service platform.", no_args_is_help=True)
app.command("standalone")(standalone.standalone)
app.add_typer(admin.app, name="admin")
app.add_typer(image.app, name="image")
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
