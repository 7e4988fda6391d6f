"""What the OpenAPI schema says beyond the routes' signatures: their JSON request bodies, which the routes
read raw (through gateway.body, held to core.json_values' limits, never FastAPI's own JSON parsing), and
the links from an operation's response to the operations it makes possible (create an action, then read,
invoke or delete it), which stateful API fuzzers follow (tests/e2e/test_api_fuzz.py).
Used as `openapi_extra=` of the routes; nothing here runs per request.
"""

from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel

from core import limits as L
from core.ids import ACTIVATION_ID_RE
from core.names import MAX_NAME, NAME_PATTERN

Schema = dict[str, Any]

# Path parameters with the rules their routes check (documented only: the routes' own checks answer 400)
EntityName = Annotated[
    str,
    Path(
        description=f"1-{MAX_NAME} characters: letters, digits, _ first; then also @ . & - and spaces (not last)",
        json_schema_extra={"pattern": NAME_PATTERN, "maxLength": MAX_NAME},
        examples=["hello"],
    ),
]
ActivationIdPath = Annotated[
    str, Path(description="32 lowercase hex digits", json_schema_extra={"pattern": ACTIVATION_ID_RE.pattern})
]


def json_body(schema: Schema, description: str, *, required: bool = False) -> Schema:
    """An `openapi_extra` describing a JSON request body (`required=False`: an empty body means {})."""
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"description": description, "required": required, "content": content}}


def model_schema(model: type[BaseModel], **overrides: Schema) -> Schema:
    """The model's JSON schema (by alias) with its `$defs` inlined, some properties replaced by `overrides`."""
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.pop("$defs", {})
    inlined: Schema = _inline(schema, definitions)
    inlined["properties"].update(overrides)
    return inlined


def _inline(node: Any, definitions: Schema) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node


def nullable(schema: Schema) -> Schema:
    """The schema, or null (for a field that may be sent as null to mean "not given")."""
    return {"anyOf": [schema, {"type": "null"}]}


def limits_schema() -> Schema:
    """An action's `limits` object: each bound's range (core.limits)."""
    properties = {
        b.field: {"type": "integer", "minimum": b.minimum, "maximum": b.maximum, "description": f"{b.unit}, default "
                  f"{b.default}"}
        for b in L.ACTION_BOUNDS
    }  # fmt: skip
    return {"type": "object", "properties": properties, "additionalProperties": False}


def links(status: int, description: str, **targets: tuple[str, dict[str, str]]) -> Schema:
    """The `status` response with OpenAPI links: name -> (operationId, parameters), where a parameter's value
    is a runtime expression such as `$request.path.name` or `$response.body#/activationId`."""
    found = {name: {"operationId": op, "parameters": params} for name, (op, params) in targets.items()}
    return {str(status): {"description": description, "links": found}}


def extra(body: Schema | None = None, *responses: Schema) -> Schema:
    """One route's `openapi_extra` (FastAPI merges it into the generated operation): a body and responses."""
    found: Schema = dict(body or {})
    if responses:
        found["responses"] = {status: answer for response in responses for status, answer in response.items()}
    return found
