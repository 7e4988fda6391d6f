"""Reading JSON request bodies the OpenWhisk way: empty means {}, too large is 413, not an object is 400."""

import json
from typing import Any

from fastapi import Request

from stratus.errors import BadRequest, TooLarge


async def json_object(request: Request, *, max_bytes: int, what: str = "request") -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(what, int(declared), max_bytes)
    raw = await request.body()
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
