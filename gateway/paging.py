"""List paging as OpenWhisk does it: limit 30 by default, 0 means the maximum (200)."""

from stratus import limits as L
from stratus.errors import BadRequest


def list_window(limit: int | None, skip: int | None) -> tuple[int, int]:
    limit = L.LIST_LIMIT_DEFAULT if limit is None else limit
    skip = skip or 0
    if limit == 0:
        limit = L.LIST_LIMIT_MAX
    if not 0 < limit <= L.LIST_LIMIT_MAX:
        raise BadRequest(f"The value of 'limit' must be between 0 and {L.LIST_LIMIT_MAX}.")
    if skip < 0:
        raise BadRequest("The value of 'skip' must not be negative.")
    return limit, skip
