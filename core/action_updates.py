"""PUT on an action: validate the request and merge it into the stored action (pure, no I/O).

Merge rules are OpenWhisk's: `exec` and `parameters` are replaced when given, each field of
`limits` is merged on its own, annotations are merged key by key (after `delAnnotations`),
`version` is the given one or the old patch + 1.
"""

import base64
import binascii
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core import kinds
from core import limits as L
from core.entity_updates import merged_annotations, written_fields
from core.errors import BadRequest, TooLarge
from core.models import Action, Exec, KeyValue, Limits

_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
# A Lambda-style handler annotation: "module.function", the module path dotted or slashed.
HANDLER_ANNOTATION = "handler"
_HANDLER = re.compile(r"^[A-Za-z_]\w*(?:[./][A-Za-z_]\w*)*\.[A-Za-z_]\w*$")
# A Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path components.
_IMAGE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


class ExecPut(BaseModel):
    model_config = ConfigDict(strict=True)  # JSON types as sent: `"binary": 0` is not a boolean

    kind: str = Field(json_schema_extra={"enum": list(kinds.valid_kinds())})  # for the schema; _exec() checks
    code: str | None = None
    binary: bool | None = None
    main: str | None = None
    image: str | None = None
    components: list[str] | None = None  # kind "sequence": the actions to run in order


class ActionPut(BaseModel):
    """The body of PUT .../actions/{name}; namespace and name in it are ignored."""

    model_config = ConfigDict(populate_by_name=True, strict=True)  # `"publish": 0` is not a boolean

    exec: ExecPut | None = None
    parameters: list[KeyValue] | None = None
    limits: dict[str, int] | None = None
    annotations: list[KeyValue] | None = None
    publish: bool | None = None
    version: str | None = None
    del_annotations: list[str] | None = Field(default=None, alias="delAnnotations")


def apply_put(existing: Action | None, put: ActionPut, *, namespace: str, name: str, now_ms: int) -> Action:
    check_sizes(put)
    if existing is None and put.exec is None:
        raise BadRequest(f"The action's exec is undefined: give {{'kind': '{kinds.DEFAULT.kind}', 'code': '...'}}.")
    exec_ = _exec(put.exec) if put.exec else existing.exec  # type: ignore[union-attr]
    limits = _limits(existing.limits if existing else Limits(), put.limits or {})
    annotations = _annotations(existing, put, exec_.kind)
    return Action(
        namespace=namespace,
        name=name,
        exec=exec_,
        parameters=put.parameters if put.parameters is not None else (existing.parameters if existing else []),
        limits=limits,
        annotations=annotations,
        **written_fields(existing, put.version, put.publish, now_ms),
    )


def check_sizes(put: ActionPut) -> None:
    if put.exec and put.exec.code and len(put.exec.code) > L.EXEC_MAX_BYTES:
        raise TooLarge("exec", len(put.exec.code), L.EXEC_MAX_BYTES)
    for field, items in (("parameters", put.parameters), ("annotations", put.annotations)):
        size = len(json.dumps([i.model_dump() for i in items])) if items else 0
        if size > L.PARAMETERS_MAX_BYTES:
            raise TooLarge(field, size, L.PARAMETERS_MAX_BYTES)


def is_binary(code: str) -> bool:
    """OpenWhisk's rule: non-empty, length a multiple of 4, only base64 characters."""
    trimmed = code.strip()
    return bool(trimmed) and len(trimmed) % 4 == 0 and bool(_BASE64.match(trimmed))


def _exec(put: ExecPut) -> Exec:
    try:
        kind = kinds.resolve(put.kind)
    except kinds.UnknownKind as exc:
        raise BadRequest(str(exc)) from None
    if kind == kinds.SEQUENCE:
        if not put.components:
            raise BadRequest("A sequence needs exec.components: the actions to run, in order.")
        return Exec(kind=kind, components=put.components)
    if put.components is not None:
        raise BadRequest("exec.components is only for the kind 'sequence'.")
    image = _image(kind, put.image)
    if not put.code:
        if image is None:
            raise BadRequest("The action's exec has no code.")
        return Exec(kind=kind, main=put.main, image=image)  # the image holds the code
    binary = is_binary(put.code)
    if binary:
        try:
            base64.b64decode(put.code, validate=True)
        except binascii.Error as exc:
            raise BadRequest("The action's code looks like base64 but does not decode.") from exc
    return Exec(kind=kind, code=put.code, binary=binary, main=put.main, image=image)


def _image(kind: str, image: str | None) -> str | None:
    if kind != kinds.BLACKBOX:
        if image:
            raise BadRequest(f"exec.image is only for the kind '{kinds.BLACKBOX}' (a custom image), not '{kind}'.")
        return None
    if not image:
        raise BadRequest(f"The kind '{kinds.BLACKBOX}' needs exec.image: the image the action runs in.")
    if len(image) > 255 or not _IMAGE.match(image):
        raise BadRequest(f"exec.image '{image[:300]}' is not a valid image name (e.g. 'myteam/thumbnails:1.0').")
    return image


def _limits(old: Limits, given: dict[str, Any]) -> Limits:
    known = {b.field: b for b in L.ACTION_BOUNDS}
    for field, value in given.items():
        bound = known.get(field)
        if bound is None:
            raise BadRequest(f"Unknown limit '{field}'; known limits: {', '.join(known)}.")
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadRequest(f"The {field} limit must be an integer.")
        if problem := bound.check(value):
            raise BadRequest(problem)
    return old.model_copy(update=given)


def _annotations(existing: Action | None, put: ActionPut, kind: str) -> list[KeyValue]:
    merged = merged_annotations(existing, put.annotations, put.del_annotations)
    merged["exec"] = KeyValue(key="exec", value=kind)
    handler = merged.get(HANDLER_ANNOTATION)
    if handler is not None and not (isinstance(handler.value, str) and _HANDLER.match(handler.value)):
        raise BadRequest(
            "The handler annotation must name 'module.function' (for example lambda_function.lambda_handler)."
        )
    if existing is None:
        merged.setdefault("provide-api-key", KeyValue(key="provide-api-key", value=False))
    return list(merged.values())
