"""Reading JSON request bodies the OpenWhisk way: empty means {}, too large is 413, another content type
is 415, malformed JSON or JSON that a consumer could not take (core.json_values) or not an object is 400.
Every JSON body the API takes comes through here: the FastAPI routes and gateway.fast_path."""

from collections.abc import Mapping
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from core.errors import BadRequest, TooLarge, UnsupportedMediaType
from core.json_values import MALFORMED, parse_json

M = TypeVar("M", bound=BaseModel)


def malformed(exc: ValidationError) -> BadRequest:
    """A body the model refused, told by its first problem: where it is and what is wrong."""
    error = exc.errors()[0]
    return BadRequest(f"{MALFORMED}: {'.'.join(str(p) for p in error['loc'])}: {error['msg']}")


async def model_body(request: Request, model: type[M], *, max_bytes: int, what: str) -> M:
    """The JSON object body (as json_object reads it) validated as `model`; 400 saying what is wrong."""
    try:
        return model.model_validate(await json_object(request, max_bytes=max_bytes, what=what))
    except ValidationError as exc:
        raise malformed(exc) from exc


async def json_object(request: Request, *, max_bytes: int, what: str = "request") -> dict[str, Any]:
    check_head(request.headers.get("content-type"), request.headers.get("content-length"), max_bytes, what)
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


def check_head(content_type: str | None, content_length: str | None, max_bytes: int, what: str) -> None:
    """Before reading the body: 415 for a content type that is not JSON (none at all is taken as JSON), 413 for
    a declared length over the limit."""
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"The request's content type '{media_type[:100]}' is not supported: send JSON (application/json)."
        )
    if content_length and content_length.isdigit() and int(content_length) > max_bytes:
        raise TooLarge(what, int(content_length), max_bytes)


def check_raw_head(headers: Mapping[bytes, bytes], max_bytes: int, what: str) -> None:
    """`check_head` on an ASGI scope's headers."""
    content_type, content_length = headers.get(b"content-type"), headers.get(b"content-length")
    check_head(
        content_type.decode("latin-1") if content_type else None,
        content_length.decode("latin-1") if content_length else None,
        max_bytes,
        what,
    )


def parse_object(raw: bytes, *, max_bytes: int, what: str = "request") -> dict[str, Any]:
    if len(raw) > max_bytes:
        raise TooLarge(what, len(raw), max_bytes)
    if not raw.strip():
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise BadRequest(f"{MALFORMED}: a JSON object is expected.")
    return body
