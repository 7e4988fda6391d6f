"""A local function as an action's source: the module-level imports it uses, its own source, an entry point.

What travels: the function's source (decorators dropped) and every top-level `import` / `from … import` of
its module that binds a name the function uses. Other module-level names (helpers, constants) do not
travel: move them into the function or pass them as arguments. The entry point maps the action's
parameters onto the function's signature and returns `{"result": value}`; an exception becomes
`{"error": {"type", "message", "traceback"}}`, which the platform records as an application error.
"""

import ast
import hashlib
import inspect
import json
import textwrap
from collections.abc import Callable
from typing import Any

from stratus.client.errors import ConfigError

ENTRY = """

def _stratus_call(fn, args):
    import inspect
    positional, named, rest, by_name = [], {}, dict(args), False
    for p in inspect.signature(fn).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            positional.extend(rest.pop(p.name, []))
        elif p.kind is p.VAR_KEYWORD:
            named.update(rest)
        elif p.name not in rest:
            by_name = by_name or p.kind is p.POSITIONAL_OR_KEYWORD
        elif p.kind is p.POSITIONAL_ONLY or (p.kind is p.POSITIONAL_OR_KEYWORD and not by_name):
            positional.append(rest.pop(p.name))
        else:
            named[p.name] = rest.pop(p.name)
    return fn(*positional, **named)


def main(args):
    import traceback
    try:
        value = _stratus_call(__STRATUS_FUNCTION__, args)
        if inspect.isawaitable(value):
            import asyncio
            value = asyncio.run(value)
        return {"result": value}
    except Exception as exc:
        return {"error": {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}}
"""


def action_source(fn: Callable[..., Any]) -> str:
    """Imports the function needs, the function without its decorators, and `main`."""
    own = _function_source(fn)
    imports = _needed_imports(fn, own)
    header = "import inspect\n" + "".join(line + "\n" for line in imports)
    return f"{header}\n\n{own}{ENTRY.replace('__STRATUS_FUNCTION__', fn.__name__)}"


def call_params(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The action's parameters for fn(*args, **kwargs): one per parameter name, checked against the signature."""
    try:
        bound = inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{fn.__name__}(): {exc}") from None
    params: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = inspect.signature(fn).parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            params |= value
        else:
            params[name] = list(value) if kind is inspect.Parameter.VAR_POSITIONAL else value
    return params


def source_hash(code: str, requirements: list[str], limits: dict[str, int]) -> str:
    """What decides a redeploy: the code, the declared requirements and the limits."""
    return hashlib.sha256(json.dumps([code, sorted(requirements), limits], sort_keys=True).encode()).hexdigest()


def _function_source(fn: Callable[..., Any]) -> str:
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        raise ConfigError(f"the source of {fn.__qualname__} is not available (defined in a REPL?): {exc}") from exc
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        raise ConfigError(f"{fn.__qualname__} is not a plain function")
    if "<locals>" in fn.__qualname__ or "." in fn.__qualname__:
        raise ConfigError(f"{fn.__qualname__} must be defined at module level to run remotely")
    lines = source.splitlines(keepends=True)
    return "".join(lines[node.lineno - 1 :])  # from the `def` line: decorators stay local


def _needed_imports(fn: Callable[..., Any], own: str) -> list[str]:
    module = inspect.getmodule(fn)
    try:
        module_source = inspect.getsource(module) if module else ""
    except (OSError, TypeError):
        return []
    used = {n.id for n in ast.walk(ast.parse(own)) if isinstance(n, ast.Name)}
    needed = []
    for node in ast.parse(module_source).body:
        relative = isinstance(node, ast.ImportFrom) and node.level > 0  # its package does not travel
        if isinstance(node, ast.Import | ast.ImportFrom) and not relative and _binds(node) & used:
            needed.append(ast.unparse(node))
    return needed


def _binds(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.ImportFrom) and node.module == "__future__":
        return set()
    return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
