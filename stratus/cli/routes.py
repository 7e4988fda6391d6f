"""`stratus route create|list|delete`: API routes that serve web actions at /api/{namespace}{basePath}{relPath}."""

import typer

from stratus.cli import output as out

app = typer.Typer(help="API routes: REST paths served by web actions.", no_args_is_help=True)
RESPONSE_TYPE = typer.Option("json", "--response-type", help="json, html, http, text or svg.")


@app.command()
def create(
    base_path: str = typer.Argument(..., help="e.g. /shop"),
    rel_path: str = typer.Argument(..., help="e.g. /items/{id} ({name} segments become parameters)"),
    verb: str = typer.Argument(..., help="GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS"),
    action: str = typer.Argument(..., help="A web action (created with --web)."),
    response_type: str = RESPONSE_TYPE,
    as_json: bool = out.JSON_OPTION,
) -> None:
    """Create or replace the route of BASE_PATH REL_PATH VERB; prints its URL."""
    route = {"basePath": base_path, "relPath": rel_path, "verb": verb, "action": action, "responseType": response_type}
    with out.client() as client:
        created = client.put_route(route)
    if as_json:
        out.print_json(created)
    else:
        out.console.print(f"ok: {created['verb']} {created['url']} -> {action}")


@app.command("list")
def list_(
    base_path: str = typer.Option(None, "--base-path", help="Only this base path's routes."),
    as_json: bool = out.JSON_OPTION,
) -> None:
    """List routes."""
    with out.client() as client:
        routes = client.list_routes(base_path=base_path)
    if as_json:
        out.print_json(routes)
        return
    out.table(
        ["verb", "url", "action", "response"], [(r["verb"], r["url"], r["action"], r["responseType"]) for r in routes]
    )


@app.command()
def delete(
    base_path: str = typer.Argument(..., help="The base path."),
    rel_path: str = typer.Argument(None, help="Only this relative path."),
    verb: str = typer.Option(None, "--verb", help="Only this verb."),
) -> None:
    """Delete the base path's routes, or only one relative path's (and verb's)."""
    with out.client() as client:
        deleted = client.delete_routes(base_path, rel_path=rel_path, verb=verb)
    out.console.print(f"ok: deleted {len(deleted)} route{'s' if len(deleted) != 1 else ''}")
