"""A web request as the action sees it: the URL's action segment, media types, and the `__ow_*` arguments.

Pure functions, following OpenWhisk (reference/openwhisk.md §5.1, §5.3, §5.4):
- `hello.json/a/b` names action `hello`, extension `json` and the extra path `/a/b` (`__ow_path`); a segment
  without a known extension is the whole action name and means `.http`.
- Default mode: query parameters, then a JSON object body or form fields, are merged into the arguments
  (body beats query; action parameters marked `final` cannot be overridden, nor can an anonymous caller
  override any parameter that has a value: a web action is `final` unless its caller proved to be its owner).
  Any other body travels in `__ow_body`: text as a string, binary as base64. A query or body key that is a
  reserved `__ow_*` name is a 400.
  A JSON body is held to the limits of every other JSON body (core.json_values): malformed or too deep is a 400.
- Raw mode (`raw-http: true`): nothing is merged; `__ow_query` is the query string as sent and `__ow_body` the
  body as a string, base64 for binary types and for JSON.
"""

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from core.errors import BadRequest
from core.json_values import parse_json
from core.models import Action
from core.params import run_params

EXTENSIONS = ("json", "html", "http", "text", "svg")
RESERVED = frozenset({"__ow_method", "__ow_headers", "__ow_path", "__ow_user", "__ow_body", "__ow_query"})
TEXT_TYPES = frozenset(  # copied in actionproxy/webapp.py, which imports nothing of ours (a unit test compares)
    {
        "application/json",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/xml",
        "application/xhtml+xml",
        "application/x-www-form-urlencoded",
        "image/svg+xml",
    }
)
FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class WebRequest:
    method: str  # upper case, as sent
    headers: Mapping[str, str]  # names lower-cased
    path: str  # the extra path after the action ("" when none)
    query_string: str  # as sent, without the "?"
    body: bytes
    user: str | None = None  # the authenticated namespace, when the request was authenticated
    path_params: Mapping[str, str] = field(default_factory=dict)  # from an API route's `{name}` segments


def split_action_segment(rest: str) -> tuple[str, str, str]:
    """`hello.json/a/b` -> ("hello", "json", "/a/b"); `hello/a` -> ("hello", "http", "/a")."""
    segment, slash, tail = rest.partition("/")
    extra = slash + tail if slash else ""
    name, dot, ext = segment.rpartition(".")
    if dot and name and ext in EXTENSIONS:
        return name, ext, extra
    return segment, "http", extra


def media_type(content_type: str | None) -> str:
    """`Text/HTML; charset=utf-8` -> `text/html`; "" when absent."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_type(mtype: str) -> bool:
    return mtype == "application/json" or mtype.endswith("+json")


def is_binary_type(mtype: str) -> bool:
    """Binary unless known to be text. No type at all means application/octet-stream, as in HTTP."""
    if mtype.startswith("text/") or mtype.endswith(("+json", "+xml")):
        return False
    return mtype not in TEXT_TYPES


def charset(content_type: str | None) -> str:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return "utf-8"


def decode_text(body: bytes, content_type: str | None) -> str:
    """In the declared charset, else UTF-8: for an unknown name, a codec that fails whatever the error handler
    (`idna`, `undefined`) or one that yields lone surrogates (`unicode_escape`), which are not text."""
    try:
        text = body.decode(charset(content_type), errors="replace")
        text.encode("utf-8")
        return text
    except (LookupError, UnicodeError):
        return body.decode("utf-8", errors="replace")


def web_params(action: Action, request: WebRequest, *, raw: bool) -> dict[str, Any]:
    """The arguments of the activation: the action's parameters, the request's, and the `__ow_*` ones."""
    context: dict[str, Any] = {
        "__ow_method": request.method.lower(),
        "__ow_headers": dict(request.headers),
        "__ow_path": request.path,
    }
    if request.user is not None:
        context["__ow_user"] = request.user
    if raw:
        context["__ow_query"] = request.query_string
        context["__ow_body"] = raw_body(request)
        return run_params(action, dict(request.path_params)) | context
    query = dict(parse_qsl(request.query_string, keep_blank_values=True))
    fields, ow_body = body_arguments(request)
    given = query | fields
    reserved = sorted(RESERVED.intersection(given))
    if reserved:
        raise BadRequest(f"Request defines parameters that are not allowed: {', '.join(reserved)}.")
    if ow_body is not None:
        context["__ow_body"] = ow_body
    return run_params(action, given, final=request.user is None) | dict(request.path_params) | context


def raw_body(request: WebRequest) -> str:
    if not request.body:
        return ""
    content_type = request.headers.get("content-type")
    mtype = media_type(content_type)
    if is_binary_type(mtype) or is_json_type(mtype):
        return base64.b64encode(request.body).decode("ascii")
    return decode_text(request.body, content_type)


def body_arguments(request: WebRequest) -> tuple[dict[str, Any], Any]:
    """(fields merged into the arguments, the `__ow_body` value or None)."""
    if not request.body:
        return {}, None
    content_type = request.headers.get("content-type")
    mtype = media_type(content_type)
    if is_json_type(mtype):
        value = parse_json(request.body)
        return (value, None) if isinstance(value, dict) else ({}, value)
    if mtype == FORM_TYPE:
        return dict(parse_qsl(decode_text(request.body, content_type), keep_blank_values=True)), None
    if is_binary_type(mtype):
        return {}, base64.b64encode(request.body).decode("ascii")
    return {}, decode_text(request.body, content_type)
