"""Reading JSON request bodies the OpenWhisk way: empty means {}, too large is 413, not an object is 400."""

import json
from typing import Any

from fastapi import Request

from stratus.errors import BadRequest, TooLarge


async def json_object(request: Request, *, max_bytes: int, what: str = "request") -> dict[str, Any]:
    check_declared(request.headers.get("content-length"), max_bytes, what)
    return parse_object(await limited_body(request, max_bytes), max_bytes=max_bytes, what=what)


async def limited_body(request: Request, max_bytes: int) -> bytes:
    """The body, read no further than one chunk past `max_bytes` (a chunked upload declares no length)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            break
    return b"".join(chunks)


def check_declared(content_length: str | None, max_bytes: int, what: str) -> None:
    """413 before reading a body whose declared length is over the limit."""
    if content_length and content_length.isdigit() and int(content_length) > max_bytes:
        raise TooLarge(what, int(content_length), max_bytes)


def parse_object(raw: bytes, *, max_bytes: int, what: str = "request") -> dict[str, Any]:
    if len(raw) > max_bytes:
        raise TooLarge(what, len(raw), max_bytes)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"The request content was malformed: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("The request content was malformed: a JSON object is expected.")
    return body
