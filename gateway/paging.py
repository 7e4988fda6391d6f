"""List paging as OpenWhisk does it: limit 30 by default, 0 means the maximum (200); skip from 0.

The query parameters are declared with their ranges, so FastAPI answers 400 for a value out of range (or
not an integer) before a store sees it, and the OpenAPI schema shows the ranges. Integers stop at 64 bits:
what the stores can take (a larger `skip` or `upto` made MongoDB and SQLite raise).
"""

from typing import Annotated

from fastapi import Query

from core import limits as L

LIMIT_HELP = f"rows to return (default {L.LIST_LIMIT_DEFAULT}; 0: the most, {L.LIST_LIMIT_MAX})"
Limit = Annotated[int | None, Query(ge=0, le=L.LIST_LIMIT_MAX, description=LIMIT_HELP)]
Skip = Annotated[int | None, Query(ge=0, le=L.INT64_MAX, description="rows to skip (default 0)")]
EpochMs = Annotated[int | None, Query(ge=0, le=L.INT64_MAX, description="epoch milliseconds, inclusive")]


def list_window(limit: int | None, skip: int | None) -> tuple[int, int]:
    """(limit, skip) with the defaults applied, for values already in their declared ranges."""
    limit = L.LIST_LIMIT_DEFAULT if limit is None else limit
    return limit or L.LIST_LIMIT_MAX, skip or 0
