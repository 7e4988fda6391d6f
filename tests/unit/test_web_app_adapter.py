"""Web apps as one action, in-process: the gateway's `__ow_*` arguments -> the runtime's ASGI/WSGI adapter ->
`{statusCode, headers, body}` -> the gateway's .http response. No sockets, no containers."""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from actionproxy import webapp
from actionproxy.app import create_app
from gateway import web_request
from gateway.web_request import WebRequest, web_params
from gateway.web_response import WebAnswer, shape
from tests.factories import make_action

PNG = b"\x89PNG\r\n\x1a\n\x00\x00binary\xff"


def call(app: Any, method: str, path: str, query: str = "", body: bytes = b"", **headers: str) -> WebAnswer:
    """What a raw-http web action does with the request, end to end but in-process."""
    action = make_action()
    request = WebRequest(method, {"host": "fn.example"} | headers, path, query, body)
    adapted = webapp.adapt(app)
    assert adapted is not None
    result = adapted(web_params(action, request, raw=True))
    if not isinstance(result, dict):
        result = asyncio.run(result)
    json.dumps(result)  # the runtime must answer JSON
    return shape("http", result, "")


def header(answer: WebAnswer, name: str) -> list[str]:
    return [value for key, value in answer.headers if key.lower() == name]


async def hello(request: Request) -> Response:
    return PlainTextResponse(f"hello {request.path_params['name']} {request.query_params.get('x', '')}")


async def echo(request: Request) -> Response:
    raw = await request.body()
    form = dict(parse_qsl(raw.decode())) if "form" in request.headers.get("content-type", "") else {}
    parsed = json.loads(raw) if "json" in request.headers.get("content-type", "") else None
    response = JSONResponse(
        {"form": dict(form), "json": parsed, "cookie": request.cookies.get("c"), "started": request.state.started},
        status_code=201,
    )
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


async def image(request: Request) -> Response:
    return Response(PNG, media_type="image/png")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    yield {"started": True}


STARLETTE = Starlette(
    routes=[
        Route("/hello/{name}", hello),
        Route("/echo", echo, methods=["POST"]),
        Route("/image.png", image),
    ],
    lifespan=lifespan,
)


def test_entry_points_that_are_apps_are_recognised() -> None:
    def main(args: Any) -> Any:
        return args

    def wsgi(environ: Any, start_response: Any) -> Any:
        return []

    assert webapp.app_kind(STARLETTE) == "asgi"
    assert webapp.app_kind(wsgi) == "wsgi"
    assert webapp.app_kind(main) is None
    assert webapp.app_kind(Starlette) is None  # a class, not an app
    assert webapp.adapt(main) is None


def test_asgi_routes_path_and_query_parameters() -> None:
    answer = call(STARLETTE, "GET", "/hello/ann", "x=1")
    assert answer.status == 200 and answer.body == b"hello ann 1"
    assert header(answer, "content-type") == ["text/plain; charset=utf-8"]
    assert call(STARLETTE, "GET", "/nothing").status == 404


def test_asgi_json_and_form_bodies_cookies_status_and_lifespan_state() -> None:
    got = call(STARLETTE, "POST", "/echo", body=b'{"k": [1]}', **{"content-type": "application/json", "cookie": "c=z"})
    assert got.status == 201
    assert json.loads(got.body) == {"form": {}, "json": {"k": [1]}, "cookie": "z", "started": True}
    assert [c.split(";")[0] for c in header(got, "set-cookie")] == ["a=1", "b=2"]
    form = call(STARLETTE, "POST", "/echo", body=b"a=1&b=x+y", **{"content-type": "application/x-www-form-urlencoded"})
    assert json.loads(form.body)["form"] == {"a": "1", "b": "x y"}


def test_asgi_binary_responses_round_trip_through_base64() -> None:
    answer = call(STARLETTE, "GET", "/image.png")
    assert answer.body == PNG and header(answer, "content-type") == ["image/png"]


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if environ["PATH_INFO"] == "/bin":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [PNG]
    seen = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "body": body.decode(),
        "type": environ.get("CONTENT_TYPE"),
        "cookie": environ.get("HTTP_COOKIE"),
        "host": environ["SERVER_NAME"],
    }
    start_response("202 Accepted", [("Content-Type", "application/json"), ("Set-Cookie", "s=1"), ("Set-Cookie", "t=2")])
    return [json.dumps(seen).encode()]


def test_wsgi_sees_the_request_and_answers_status_headers_and_bodies() -> None:
    answer = call(
        wsgi_app, "PUT", "/items/é", "a=1&a=2", b'{"x": 1}', **{"content-type": "application/json", "cookie": "k=v"}
    )
    assert answer.status == 202 and header(answer, "set-cookie") == ["s=1", "t=2"]
    assert json.loads(answer.body) == {
        "method": "PUT",
        "path": "/items/é".encode().decode("latin-1"),
        "query": "a=1&a=2",
        "body": '{"x": 1}',
        "type": "application/json",
        "cookie": "k=v",
        "host": "fn.example",
    }
    assert call(wsgi_app, "GET", "/bin").body == PNG


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "application/octet-stream",
        "image/png",
        "application/vnd.api+json",
        "multipart/form-data",
        "image/svg+xml",
        "application/xml",
        "",
        "application/x-www-form-urlencoded",
    ],
)
def test_gateway_and_runtime_agree_on_which_bodies_are_base64(content_type: str) -> None:
    assert webapp.is_binary_type(content_type) == web_request.is_binary_type(content_type)
    assert webapp.TEXT_TYPES == web_request.TEXT_TYPES


async def test_the_proxy_serves_an_app_entry_point() -> None:
    code = (
        "from starlette.applications import Starlette\n"
        "from starlette.responses import PlainTextResponse\n"
        "from starlette.routing import Route\n"
        "async def hi(request):\n"
        "    return PlainTextResponse('hi ' + request.path_params['who'])\n"
        "app = Starlette(routes=[Route('/hi/{who}', hi)])\n"
    )
    app, path, cwd = create_app(), list(sys.path), os.getcwd()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://proxy") as client:
            init = await client.post("/init", json={"value": {"code": code, "main": "app", "binary": False}})
            assert init.status_code == 200, init.text
            params = {
                "__ow_method": "get",
                "__ow_path": "/hi/bo",
                "__ow_headers": {},
                "__ow_query": "",
                "__ow_body": "",
            }
            run = await client.post("/run", json={"value": params})
    finally:
        app.close()
        sys.modules.pop("main__", None)
        sys.path[:] = path
        os.chdir(cwd)
    assert run.status_code == 200
    assert run.json() == {
        "statusCode": 200,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "body": "hi bo",
    }


def test_an_app_is_mounted_at_its_actions_prefix_so_its_urls_stay_inside_it() -> None:
    from flask import Flask, url_for

    flask = Flask("mounted")

    @flask.route("/login")
    def login() -> str:
        return url_for("login")

    prefix = "/api/v1/web/alice/default/app"
    mounted = call(flask, "GET", "/login", **{"x-forwarded-prefix": prefix})
    assert mounted.body.decode() == f"{prefix}/login"
    assert call(flask, "GET", "/login").body == b"/login"  # the control: without the gateway's prefix, the root

    async def where(request: Request) -> Response:
        return PlainTextResponse(str(request.url_for("where")))

    starlette = Starlette(routes=[Route("/where", where)])
    where_to = call(starlette, "GET", "/where", **{"x-forwarded-prefix": prefix}).body
    assert where_to == f"http://fn.example{prefix}/where".encode()
