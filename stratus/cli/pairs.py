"""`--param KEY VALUE` and `--annotation KEY VALUE`, repeatable, as `wsk` takes them.

Typer has no repeatable two-value option, so `PairCommand` lifts these pairs out of the arguments
before typer parses the rest; the options stay declared (for --help and completion) and are read back
with `pairs(ctx, "param")`. A VALUE that parses as JSON is that JSON (`3`, `true`, `{"a": 1}`);
anything else is a string.
"""

import json
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand

from stratus.cli import output as out
from stratus.client.action_body import key_values

PARAM = typer.Option(None, "--param", "-p", metavar="KEY VALUE", help="A parameter; VALUE is JSON or a string.")
PARAM_FILE = typer.Option(None, "--param-file", "-P", help="A JSON object of parameters.")
ANNOTATION = typer.Option(None, "--annotation", "-a", metavar="KEY VALUE", help="An annotation; VALUE is JSON.")
PAIR_OPTIONS = {"-p": "param", "--param": "param", "-a": "annotation", "--annotation": "annotation"}
_META = "stratus.pairs"


class BadPairs(ValueError):
    pass


def split_pairs(args: list[str]) -> tuple[dict[str, list[tuple[str, str]]], list[str]]:
    """Take every `OPTION KEY VALUE` of PAIR_OPTIONS out of args (up to a `--`); return them and the rest."""
    found: dict[str, list[tuple[str, str]]] = {}
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in PAIR_OPTIONS:
            if len(args) - i < 3:
                raise BadPairs(f"{arg} needs two values: {arg} KEY VALUE")
            found.setdefault(PAIR_OPTIONS[arg], []).append((args[i + 1], args[i + 2]))
            i += 3
            continue
        rest.append(arg)
        i += 1
    return found, rest


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def pairs_dict(given: list[tuple[str, str]]) -> dict[str, Any]:
    return {key: parse_value(value) for key, value in given}


def read_param_file(path: Path) -> dict[str, Any]:
    """A JSON object of parameters; `--param` given beside it wins."""
    try:
        loaded = json.loads(path.read_text())
    except OSError as exc:
        raise BadPairs(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise BadPairs(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise BadPairs(f'{path} must hold a JSON object, like {{"name": "x"}}')
    return loaded


class PairCommand(TyperCommand):
    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        try:
            found, rest = split_pairs(args)
        except BadPairs as exc:
            ctx.fail(str(exc))
        ctx.meta[_META] = found
        return super().parse_args(ctx, rest)


def pairs(ctx: typer.Context, option: str) -> dict[str, Any]:
    found: dict[str, list[tuple[str, str]]] = ctx.meta.get(_META, {})
    return pairs_dict(found.get(option, []))


def given_entries(ctx: typer.Context, param_file: Path | None) -> dict[str, Any]:
    """The `parameters` and `annotations` of a PUT body, each only when given (a trigger's or package's update)."""
    body: dict[str, Any] = {}
    params = given_params(ctx, param_file)
    if params is not None:
        body["parameters"] = key_values(params)
    if notes := pairs(ctx, "annotation"):
        body["annotations"] = key_values(notes)
    return body


def given_params(ctx: typer.Context, param_file: Path | None) -> dict[str, Any] | None:
    """The --param-file's object under the --param pairs; None when neither was given. A bad file or pair
    ends the command with exit code 2 and says why."""
    try:
        from_file = read_param_file(param_file) if param_file else {}
    except BadPairs as exc:
        raise out.fail(str(exc), 2) from exc
    given = from_file | pairs(ctx, "param")
    return given if (given or param_file) else None
