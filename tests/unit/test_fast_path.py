"""Which requests the invoke fast path takes (the rest goes to the FastAPI route, which answers alike)."""

from typing import Any

import pytest

from gateway.fast_path import simple_query, takes


def scope(
    method: str = "POST", path: str = "/api/v1/namespaces/_/actions/hello", query: bytes = b"", **headers: str
) -> Any:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": method, "path": path, "query_string": query, "headers": raw}


def test_takes_a_plain_invoke() -> None:
    taken = takes(scope(query=b"blocking=true&result=true&timeout=5000"))
    assert taken is not None
    ns, name, query = taken
    assert (ns, name, query.blocking, query.result, query.timeout_ms) == ("_", "hello", True, True, 5000)


@pytest.mark.parametrize(
    "request_scope",
    [
        scope(method="GET"),
        scope(path="/api/v1/namespaces/_/actions"),
        scope(path="/api/v1/namespaces/_/actions/pkg/hello"),
        scope(path="/api/v1/web/guest/default/hello"),
        scope(origin="https://app.example"),  # CORS: the app's middleware answers
    ],
)
def test_leaves_other_requests_to_the_app(request_scope: Any) -> None:
    assert takes(request_scope) is None


@pytest.mark.parametrize(
    "query",
    [
        b"blocking=yes",
        b"blocking=1",
        b"result=True",
        b"timeout=-1",
        b"timeout=1e3",
        b"timeout=99999999999",
        b"x=1",
        b"blocking=true&blocking=false",
    ],
)
def test_leaves_queries_that_fastapi_would_parse_or_refuse_to_the_app(query: bytes) -> None:
    assert simple_query(query) is None


def test_defaults_when_the_query_is_empty() -> None:
    query = simple_query(b"")
    assert query is not None and (query.blocking, query.result, query.timeout_ms) == (False, False, None)
