"""`stratus action create|update|get|list|delete|invoke`."""

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from stratus.cli import output as out
from stratus.cli.pairs import ANNOTATION, PARAM, PARAM_FILE, PairCommand, given_params, pairs
from stratus.client import Client
from stratus.client.action_body import action_body
from stratus.client.code import KIND, exec_from_path
from stratus.client.errors import ClientError

app = typer.Typer(help="Create, inspect and invoke actions (functions).", no_args_is_help=True)


def complete_action_name(incomplete: str) -> list[str]:
    """Shell completion: the configured namespace's action names (nothing when the API is unreachable)."""
    try:
        with Client(timeout_s=3) as client:
            names = [a["name"] for a in client.list_actions(limit=200)]
    except ClientError:
        return []
    return [n for n in names if n.startswith(incomplete)]


NAME = typer.Argument(..., help="Action name.", autocompletion=complete_action_name)
MEMORY = typer.Option(None, "--memory", "-m", help="Memory limit in MB (128-512).")
TIMEOUT = typer.Option(None, "--timeout", "-t", help="Time limit in ms (100-300000).")
CONCURRENCY = typer.Option(None, "--concurrency", "-c", help="Activations one container runs at once (1-100).")
LOGS = typer.Option(None, "--logsize", "-l", help="Log limit in MB (0-10).")
WEB = typer.Option(None, "--web/--no-web", help="Expose as a web action (annotations web-export and final: true).")
KIND_OPTION = typer.Option(KIND, "--kind", help="Runtime kind.")
MAIN = typer.Option(None, "--main", help="Entry function name (default main).")
HANDLER = typer.Option(None, "--handler", help="A Lambda-style handler, module.function: called with (event, context).")
DOCKER = typer.Option(None, "--docker", help="Run in this custom image (kind blackbox); it must be on the invokers.")
CODE = typer.Argument(None, help="A .py file, a folder with __main__.py, or a .zip (optional with --docker).")
NEW_CODE = typer.Argument(None, help="New code: a .py file, a folder with __main__.py, or a .zip.")
SEQUENCE = typer.Option(
    None, "--sequence", help="Make a sequence of these actions, comma-separated: a,pkg/b,/ns/c (no code)."
)
SAVE = typer.Option(None, "--save", help="Write the code (source or zip) to this file.")


def _exec(code: Path | None, options: dict[str, Any]) -> dict[str, Any] | None:
    sequence = options.pop("sequence", None)
    if sequence:
        return {"kind": "sequence", "components": [c.strip() for c in sequence.split(",") if c.strip()]}
    image, kind, handler = options.pop("docker"), options["kind"], options["handler"]
    if image:
        kind = "blackbox"
    with out.api_errors():
        exec_ = exec_from_path(code, kind=kind, main=options["main"], handler=handler) if code else None
    if image:
        exec_ = (exec_ or {"kind": kind}) | {"image": image}
    return exec_


def _body(ctx: typer.Context, code: Path | None, options: dict[str, Any], param_file: Path | None) -> dict[str, Any]:
    limits = {k: options[k] for k in ("memory", "timeout", "concurrency", "logs") if options[k] is not None}
    notes = pairs(ctx, "annotation") | ({"handler": options["handler"]} if options["handler"] else {})
    return action_body(
        exec_=_exec(code, options),
        params=given_params(ctx, param_file),
        limits=limits,
        annotations=notes,
        web=options["web"],
    )


def _write(ctx: typer.Context, name: str, code: Path | None, overwrite: bool, options: dict[str, Any]) -> None:
    body = _body(ctx, code, options, options.pop("param_file"))
    as_json = options.pop("as_json")
    with out.client() as client:
        action = client.put_action(name, body, overwrite=overwrite)
    if as_json:
        out.print_json(action)
    else:
        out.console.print(f"ok: {'updated' if overwrite else 'created'} action {action['name']}")


def _write_command(code_argument: Any, overwrite: bool) -> Callable[..., None]:
    """`create` and `update`: the same options, written once; they differ in the code argument and `overwrite`."""

    def command(
        ctx: typer.Context,
        name: str = NAME,
        code: Path = code_argument,
        param: list[str] = PARAM,
        param_file: Path = PARAM_FILE,
        annotation: list[str] = ANNOTATION,
        memory: int = MEMORY,
        timeout: int = TIMEOUT,
        concurrency: int = CONCURRENCY,
        logs: int = LOGS,
        web: bool = WEB,
        kind: str = KIND_OPTION,
        main: str = MAIN,
        handler: str = HANDLER,
        docker: str = DOCKER,
        sequence: str = SEQUENCE,
        as_json: bool = out.JSON_OPTION,
    ) -> None:
        given = dict(locals())  # also holds `overwrite`, from the enclosing call
        if not overwrite and code is None and not docker and not sequence:
            raise out.fail("Give the code (a .py file, a folder or a .zip), --docker IMAGE or --sequence A,B.", 2)
        options = {k: given[k] for k in given if k not in ("ctx", "name", "code", "overwrite")}
        _write(ctx, name, code, overwrite, options)

    return command


create = app.command("create", cls=PairCommand, help="Create an action; fails if it exists (use `update`).")(
    _write_command(CODE, overwrite=False)
)
update = app.command(
    "update",
    cls=PairCommand,
    help="Update an action (or create it): only what you give changes; parameters are replaced when given.",
)(_write_command(NEW_CODE, overwrite=True))


@app.command()
def get(
    name: str = NAME,
    code: bool = typer.Option(False, "--code", help="Include the code."),
    save: Path = SAVE,
    url: bool = typer.Option(False, "--url", help="Print only the action's web URL (for --web actions)."),
) -> None:
    """Show an action as JSON."""
    with out.client() as client:
        action = client.get_action(name, code=code or save is not None)
        if url:
            out.console.print(f"{client.base_url}/api/v1/web/{action['namespace']}/default/{name}", markup=False)
            return
    if save is not None:
        exec_ = action["exec"]
        data = exec_.get("code", "")
        save.write_bytes(base64.b64decode(data) if exec_.get("binary") else data.encode())
        out.console.print(f"ok: saved the code of {name} to {save}")
        return
    out.print_json(action)


@app.command("list")
def list_(
    limit: int = out.LIMIT_OPTION,
    skip: int = typer.Option(0, help="Skip this many, newest first."),
    as_json: bool = out.JSON_OPTION,
) -> None:
    """List actions, newest first."""
    with out.client() as client:
        actions = client.list_actions(limit=limit, skip=skip)
    if as_json:
        out.print_json(actions)
        return
    rows = [
        (
            _qualified(a),
            a["version"],
            out.annotation(a, "exec", "-"),
            "web" if out.annotation(a, "web-export") is True else "",
            a["limits"]["memory"],
            a["limits"]["timeout"],
            out.when(a.get("updated")),
        )
        for a in actions
    ]
    out.table(["name", "version", "kind", "web", "memory MB", "timeout ms", "updated (UTC)"], rows)


def _qualified(action: dict[str, Any]) -> str:
    """An action's name as the commands take it: `pkg/name` for one in a package."""
    _, _, package = str(action["namespace"]).partition("/")
    return f"{package}/{action['name']}" if package else str(action["name"])


@app.command()
def delete(name: str = NAME) -> None:
    """Delete an action."""
    with out.client() as client:
        client.delete_action(name)
    out.console.print(f"ok: deleted action {name}")


@app.command(cls=PairCommand)
def invoke(
    ctx: typer.Context,
    name: str = NAME,
    param: list[str] = PARAM,
    param_file: Path = PARAM_FILE,
    blocking: bool = typer.Option(False, "--blocking", "-b", help="Wait for the activation to finish."),
    result: bool = typer.Option(False, "--result", "-r", help="Print only the result (implies --blocking)."),
    wait: int = typer.Option(None, "--wait-ms", help="How long a blocking call waits (1-60000 ms)."),
    as_json: bool = out.JSON_OPTION,
) -> None:
    """Invoke an action: prints the activation id, or (blocking) the record or result."""
    params = given_params(ctx, param_file) or {}
    blocking = blocking or result
    with out.client() as client:
        answer = client.invoke(name, params, blocking=blocking, result=result, timeout_ms=wait)
    if as_json:
        out.print_json(answer)
    elif not blocking:
        out.console.print(f"ok: invoked {name}, activation id {answer['activationId']}")
    elif isinstance(answer, dict) and set(answer) == {"activationId"} and not result:
        out.console.print(f"still running: activation id {answer['activationId']}; see `stratus activation get`")
    else:
        out.print_json(answer)
