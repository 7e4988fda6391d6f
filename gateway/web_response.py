"""From an activation's result to the HTTP response of a web action: pure, per extension.

Following OpenWhisk (reference/openwhisk.md §5.5):
- `.json`: the result (an object or array) as JSON; `.html` / `.svg`: a string result, or the `body` (or
  `html` / `svg`) string of an object; `.text`: the `body` (or `text`) field, objects pretty-printed.
  For these four, the extra path projects the result: `hello.json/user/name` answers `result.user.name`.
- `.http`: the result is `{statusCode, headers, body}`. A string body is sent with the `Content-Type` header
  (default `text/html`), base64-decoded when that type is binary; a JSON body (object, array, number,
  boolean) is serialized with a JSON type; no body means 204 unless a status is given.
Bad shapes raise BadRequest (400); a projection or `.text` field that is missing raises NotFound (404).
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from core.errors import BadRequest, NotFound
from gateway.web_request import is_binary_type, is_json_type, media_type

NOT_HTTP = "The action did not produce a valid message/http response"
NOT_JSON = "The action did not produce a JSON object or array for the .json extension."
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # what HTTP allows in a header name
HEADER_SCALARS = (str, int, float, bool)
DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
CONTENT_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "svg": "image/svg+xml",
    "text": "text/plain; charset=utf-8",
}


@dataclass(frozen=True)
class WebAnswer:
    status: int
    headers: list[tuple[str, str]]  # repeated names allowed (several Set-Cookie)
    body: bytes


def shape(extension: str, result: Any, extra_path: str) -> WebAnswer:
    if extension == "http":
        return http_answer(result)
    value = project(result, extra_path)
    if extension == "json":
        if not isinstance(value, dict | list):
            raise BadRequest(NOT_JSON)
        return _typed(json.dumps(value, ensure_ascii=False).encode(), "json")
    if extension == "text":
        return _typed(_text(value).encode(), "text")
    return _typed(_markup(value, extension).encode(), extension)


def project(result: Any, extra_path: str) -> Any:
    value = result
    for name in (part for part in extra_path.split("/") if part):
        if not isinstance(value, dict) or name not in value:
            raise NotFound("property of the result", extra_path.strip("/"))
        value = value[name]
    return value


def _typed(body: bytes, extension: str) -> WebAnswer:
    return WebAnswer(200, [("content-type", CONTENT_TYPES[extension])], body)


def _markup(value: Any, extension: str) -> str:
    if isinstance(value, dict):
        value = value.get("body", value.get(extension))
    if not isinstance(value, str):
        raise BadRequest(f"The action did not produce a string body for the .{extension} extension.")
    return value


def _text(value: Any) -> str:
    if isinstance(value, dict):
        if "body" in value:
            value = value["body"]
        elif "text" in value:
            value = value["text"]
        else:
            raise NotFound("property of the result", "text")
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, ensure_ascii=False)
    return json.dumps(value)


def http_answer(result: Any) -> WebAnswer:
    if not isinstance(result, dict):
        raise BadRequest(f"{NOT_HTTP}: the result is not an object.")
    headers = http_headers(result.get("headers"))
    body_value = result.get("body")
    content_type = next((value for name, value in headers if name.lower() == "content-type"), None)
    body, content_type = http_body(body_value, content_type)
    headers = [(name, value) for name, value in headers if name.lower() != "content-type"]
    if content_type is not None:
        headers.append(("content-type", content_type))
    return WebAnswer(http_status(result.get("statusCode"), has_body=bool(body)), headers, body)


def http_headers(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise BadRequest(f"{NOT_HTTP}: headers must be an object.")
    pairs: list[tuple[str, str]] = []
    for name, item in value.items():
        for one in item if isinstance(item, list) else [item]:
            if not isinstance(one, HEADER_SCALARS):
                raise BadRequest(f"{NOT_HTTP}: the value of header '{name}' is not a string, number or boolean.")
            text = str(one).lower() if isinstance(one, bool) else str(one)
            if not TOKEN.fullmatch(name) or not _printable(text):
                raise BadRequest(f"{NOT_HTTP}: header '{name}' has characters HTTP does not allow.")
            if name.lower() not in DROPPED_HEADERS:
                pairs.append((name, text))
    return pairs


def http_status(value: Any, *, has_body: bool) -> int:
    if value is None:
        return 200 if has_body else 204
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise BadRequest(f"{NOT_HTTP}: statusCode must be an HTTP status code.")
    return value


def http_body(value: Any, content_type: str | None) -> tuple[bytes, str | None]:
    """(the bytes to send, the content type to send them with)."""
    if value is None or value == "":
        return b"", None
    if content_type is not None and "/" not in media_type(content_type):
        raise BadRequest(f"{NOT_HTTP}: the Content-Type '{content_type}' cannot be parsed.")
    if not isinstance(value, str):
        if content_type is not None and not is_json_type(media_type(content_type)):
            raise BadRequest(f"{NOT_HTTP}: a JSON body needs a JSON Content-Type, not '{content_type}'.")
        return json.dumps(value, ensure_ascii=False).encode(), content_type or "application/json"
    content_type = content_type or "text/html; charset=utf-8"
    mtype = media_type(content_type)
    if is_binary_type(mtype):
        try:
            return base64.b64decode(value, validate=True), content_type
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(f"{NOT_HTTP}: a '{mtype}' body must be base64-encoded.") from exc
    if is_json_type(mtype):
        return _legacy_base64_json(value), content_type
    return value.encode(), content_type


def _legacy_base64_json(value: str) -> bytes:
    """OpenWhisk also decodes a base64 string under a JSON type; only when it decodes to JSON here, so
    that a plain JSON text that happens to use the base64 alphabet is sent as it is."""
    try:
        decoded = base64.b64decode(value, validate=True)
        json.loads(decoded)
    except (binascii.Error, ValueError):
        return value.encode()
    return decoded


def _printable(text: str) -> bool:
    return all(ch == "\t" or " " <= ch != "\x7f" for ch in text)
