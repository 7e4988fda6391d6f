"""The layout is the architecture: which top-level package may import which, and no import cycles.

Read statically from the source (every import statement, also those inside functions and under TYPE_CHECKING),
so a lazy import cannot hide a dependency or a cycle.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "core": ROOT / "core",
    "gateway": ROOT / "gateway",
    "controller": ROOT / "controller",
    "invoker": ROOT / "invoker",
    "actionproxy": ROOT / "runtime-image" / "actionproxy",
    "images": ROOT / "images",
    "standalone": ROOT / "standalone",
    "stratus": ROOT / "stratus",
}
SERVICE = {"core"}
# what each top-level package may import of ours (besides itself)
ALLOWED = {
    "core": set(),
    "gateway": SERVICE,
    "controller": SERVICE,
    "invoker": SERVICE,
    "actionproxy": set(),
    "images": {"core"},
    "standalone": set(PACKAGES),
    "stratus": set(),  # the client side speaks the HTTP API only
}
WEB_FRAMEWORKS = {"fastapi", "starlette", "uvicorn"}


def modules() -> dict[str, Path]:
    found = {}
    for top, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [top, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported(path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every module `path` imports, ours resolved to the module (not the package) where one is named."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield submodule if submodule in known else node.module


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imported(path, known)) for name, path in known.items()}


def test_each_package_imports_only_what_its_layer_may() -> None:
    wrong = []
    for module, targets in graph().items():
        top = module.split(".")[0]
        for target in targets:
            target_top = target.split(".")[0]
            if target_top in PACKAGES and target_top != top and target_top not in ALLOWED[top]:
                wrong.append(f"{module} imports {target}")
            if top == "core" and target_top in WEB_FRAMEWORKS:
                wrong.append(f"{module} imports the web framework {target}")
    assert wrong == []


def test_no_import_cycles() -> None:
    edges = graph()
    ours = {module: {t for t in targets if t in edges and t != module} for module, targets in edges.items()}
    assert cycles(ours) == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others."""
    reach = {module: reachable(edges, module) for module in edges}
    groups = {
        tuple(sorted(m for m in reach[module] if module in reach[m])) for module in edges if module in reach[module]
    }
    return sorted(list(group) for group in groups)


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(edges[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(edges[module])
    return seen


def test_the_checker_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_top_level_package_says_what_part_it_is() -> None:
    for top, folder in PACKAGES.items():
        docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
        assert docstring and len(docstring) > 80, f"{top}/__init__.py has no docstring saying what part it is"
