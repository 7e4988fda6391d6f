"""Web actions over HTTP on a running platform: extensions, `__ow_*` arguments, raw mode, auth, errors, CORS."""

import base64
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
ECHO = f"""
import base64
import sys

PNG = {PNG!r}


def main(args):
    mode = args.get("mode")
    if mode == "png":
        return {{"headers": {{"Content-Type": "image/png"}}, "body": base64.b64encode(PNG).decode()}}
    if mode == "raise":
        raise ValueError("bad input")
    if mode == "teapot":
        return {{"error": {{"statusCode": 418, "body": "short and stout"}}}}
    if mode == "exit":
        sys.exit(3)
    return {{
        "statusCode": 200,
        "headers": {{"Set-Cookie": ["a=1", "b=2"], "X-Echo": "yes"}},
        "body": "<p>hello " + str(args.get("name", "web")) + "</p>",
        "args": args,
    }}
"""
RAW = """
def main(args):
    return {"body": {k: v for k, v in args.items() if k.startswith("__ow_")}}
"""
SECRET = """
def main(args):
    return {"body": {"user": args.get("__ow_user"), "ok": True}}
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


def deploy(client: httpx.Client, code: str, annotations: dict[str, Any], **extra: Any) -> str:
    name = unique("web")
    body = {
        "exec": {"kind": "python:3.11", "code": code},
        "annotations": [{"key": k, "value": v} for k, v in annotations.items()],
        **extra,
    }
    client.put(f"/api/v1/namespaces/_/actions/{name}", json=body).raise_for_status()
    return name


@pytest.fixture(scope="module")
def echo(platform: Platform) -> str:
    with platform.client() as client:
        return deploy(
            client,
            ECHO,
            {"web-export": True, "final": True},
            parameters=[{"key": "fixed", "value": "from-action"}],
        )


def anonymous(platform: Platform) -> httpx.Client:
    return httpx.Client(base_url=platform.url, timeout=90, trust_env=False)


def test_json_extension_merges_query_and_body_and_passes_the_ow_context(platform: Platform, echo: str) -> None:
    with anonymous(platform) as web:
        answer = web.post(
            f"/api/v1/web/guest/default/{echo}.json/args?name=query&q=1",
            json={"name": "body", "n": 2},
            headers={"X-Custom": "c"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert len(answer.headers["x-openwhisk-activation-id"]) == 32
    assert answer.headers["access-control-allow-origin"] == "*"
    args = answer.json()
    assert args["name"] == "body" and args["q"] == "1" and args["n"] == 2 and args["fixed"] == "from-action"
    assert args["__ow_method"] == "post" and args["__ow_path"] == "/args"
    assert args["__ow_headers"]["x-custom"] == "c"
    assert "__ow_query" not in args and "__ow_body" not in args


def test_http_html_and_text_extensions(platform: Platform, echo: str) -> None:
    with anonymous(platform) as web:
        http = web.get(f"/api/v1/web/guest/default/{echo}?name=ann")  # no extension means .http
        html = web.get(f"/api/v1/web/guest/default/{echo}.html?name=bob")
        text = web.get(f"/api/v1/web/guest/default/{echo}.text")
        png = web.get(f"/api/v1/web/guest/default/{echo}.http?mode=png")
    assert http.status_code == 200 and http.text == "<p>hello ann</p>"
    assert http.headers["content-type"].startswith("text/html") and http.headers["x-echo"] == "yes"
    path = f"Path=/api/v1/web/guest/default/{echo}"  # cookies are renamed into the namespace (web_headers.py)
    assert http.headers.get_list("set-cookie") == [f"guest~a=1; {path}", f"guest~b=2; {path}"]
    assert html.status_code == 200 and html.text == "<p>hello bob</p>"
    assert text.status_code == 200 and text.text == "<p>hello web</p>"
    assert text.headers["content-type"].startswith("text/plain")
    assert png.status_code == 200 and png.content == PNG and png.headers["content-type"] == "image/png"


def test_errors_follow_openwhisk(platform: Platform, echo: str) -> None:
    with anonymous(platform) as web:
        teapot = web.get(f"/api/v1/web/guest/default/{echo}.http?mode=teapot")
        raised = web.get(f"/api/v1/web/guest/default/{echo}.http?mode=raise")
        exited = web.get(f"/api/v1/web/guest/default/{echo}.http?mode=exit")
        final = web.get(f"/api/v1/web/guest/default/{echo}.json?fixed=mine")
        reserved = web.get(f"/api/v1/web/guest/default/{echo}.json?__ow_method=put")
        missing = web.get(f"/api/v1/web/guest/default/{echo}.json/nothing")
        other_package = web.get(f"/api/v1/web/guest/pkg/{echo}.json")
        too_large = web.post(f"/api/v1/web/guest/default/{echo}.json", content=b"x" * (1024 * 1024 + 1))
        head = web.head(f"/api/v1/web/guest/default/{echo}.http")
    assert teapot.status_code == 418 and teapot.text == "short and stout"  # an application error's own response
    assert raised.status_code == 400 and set(raised.json()) == {"error", "code"}  # "bad input" is no HTTP response
    assert exited.status_code == 400 and "error processing" in exited.json()["error"]
    assert "x-openwhisk-activation-id" in exited.headers
    assert final.status_code == 400 and "fixed" in final.json()["error"]
    assert reserved.status_code == 400 and "__ow_method" in reserved.json()["error"]
    assert missing.status_code == 404
    assert other_package.status_code == 404
    assert too_large.status_code == 413
    assert head.status_code == 200 and head.content == b"" and head.headers["x-echo"] == "yes"


def test_an_action_without_web_export_is_not_found(platform: Platform) -> None:
    with platform.client() as client:
        name = deploy(client, RAW, {})
    with anonymous(platform) as web:
        answer = web.get(f"/api/v1/web/guest/default/{name}.json")
        nobody = web.get("/api/v1/web/no-such-namespace/default/x.json")
    assert answer.status_code == 404
    assert "web-export" in answer.json()["error"] and answer.json()["code"]
    assert nobody.status_code == 404


def test_raw_http_passes_query_and_body_unparsed(platform: Platform) -> None:
    with platform.client() as client:
        name = deploy(client, RAW, {"web-export": True, "raw-http": True})
    with anonymous(platform) as web:
        answer = web.put(
            f"/api/v1/web/guest/default/{name}.http/some/path?a=1&a=2",
            content=b'{"k": "v"}',
            headers={"Content-Type": "application/json"},
        )
        text = web.post(f"/api/v1/web/guest/default/{name}", content=b"plain", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["__ow_method"] == "put" and seen["__ow_path"] == "/some/path"
    assert seen["__ow_query"] == "a=1&a=2"
    assert base64.b64decode(seen["__ow_body"]) == b'{"k": "v"}'
    assert text.json()["__ow_body"] == "plain"


def test_require_whisk_auth_with_a_secret_and_with_the_owners_key(platform: Platform) -> None:
    with platform.client() as client:
        secret = deploy(
            client, SECRET, {"web-export": True, "require-whisk-auth": "s3cret", "web-custom-options": True}
        )
        own = deploy(client, SECRET, {"web-export": True, "require-whisk-auth": True})
    uuid, _, key = platform.key.partition(":")
    with anonymous(platform) as web:
        no_secret = web.get(f"/api/v1/web/guest/default/{secret}.json")
        wrong_secret = web.get(f"/api/v1/web/guest/default/{secret}.json", headers={"X-Require-Whisk-Auth": "x"})
        good_secret = web.get(f"/api/v1/web/guest/default/{secret}.http", headers={"X-Require-Whisk-Auth": "s3cret"})
        custom_options = web.options(f"/api/v1/web/guest/default/{secret}.http")  # runs the action, no secret needed
        no_key = web.get(f"/api/v1/web/guest/default/{own}.http")
        with_key = web.get(f"/api/v1/web/guest/default/{own}.http", auth=(uuid, key))
    assert no_secret.status_code == 401 and wrong_secret.status_code == 401
    assert good_secret.status_code == 200 and good_secret.json() == {"user": None, "ok": True}
    assert "access-control-allow-origin" not in good_secret.headers  # web-custom-options: no automatic CORS
    assert custom_options.status_code == 200 and custom_options.json() == {"user": None, "ok": True}
    assert "x-openwhisk-activation-id" in custom_options.headers
    assert no_key.status_code == 401
    assert with_key.status_code == 200 and with_key.json() == {"user": "guest", "ok": True}


def test_options_answers_cors_without_running_the_action(platform: Platform, echo: str) -> None:
    with anonymous(platform) as web:
        answer = web.options(
            f"/api/v1/web/guest/default/{echo}.json",
            headers={"Origin": "https://x.example", "Access-Control-Request-Headers": "X-Any"},
        )
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-allow-headers"] == "X-Any"
    assert "x-openwhisk-activation-id" not in answer.headers
