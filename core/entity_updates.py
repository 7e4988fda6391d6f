"""What a PUT does the same way on every entity (action, package, trigger, rule), by OpenWhisk's rules; pure, no I/O.

Without `overwrite=true` an existing entity is a 409. `version` is the given one or the old patch + 1, `publish`
the given one or the old, `updated` later than the old (so a write always changes the revision), and annotations
merge key by key after `delAnnotations`.
"""

from typing import Any

from core.errors import Conflict
from core.models import Action, KeyValue, Package, Rule, Trigger

Stored = Action | Package | Trigger | Rule


def check_overwrite(existing: Stored | None, overwrite: bool) -> None:
    if existing is not None and not overwrite:
        raise Conflict("The resource already exists; use overwrite=true to update it.")


def written_fields(existing: Stored | None, version: str | None, publish: bool | None, now_ms: int) -> dict[str, Any]:
    """The `version`, `publish` and `updated` of the entity as written at `now_ms`."""
    return {
        "version": version or (bump_version(existing.version) if existing else "0.0.1"),
        "publish": publish if publish is not None else bool(existing and existing.publish),
        "updated": max(now_ms, existing.updated + 1) if existing else now_ms,
    }


def merged_annotations(
    existing: Stored | None, given: list[KeyValue] | None, deleted: list[str] | None = None
) -> dict[str, KeyValue]:
    """The stored annotations, less `deleted`, then the given ones (a given key keeps its old place)."""
    merged = {a.key: a for a in (existing.annotations if existing else [])}
    for key in deleted or []:
        merged.pop(key, None)
    return merged | {a.key: a for a in given or []}


def bump_version(version: str) -> str:
    parts = version.split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"{parts[0]}.{parts[1]}.{int(parts[2]) + 1}"
    return version
