"""Whole web apps as one function: the Flask, Django and FastAPI examples, zipped with their dependencies
(tests/web_zips.py), deployed through the API as raw-HTTP web actions, and called over HTTP."""

import base64
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import Platform
from tests.web_zips import action_zip_base64

pytestmark = pytest.mark.docker

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def deploy_app(platform: Platform, example: str, memory_mb: int = 256) -> str:
    """PUT the example as a web action whose entry point is the app object; returns its web URL path."""
    name = f"{example}-{uuid4().hex[:6]}"
    body = {
        "exec": {"kind": "python:3.11", "code": action_zip_base64(EXAMPLES / example), "main": "app"},
        "annotations": [{"key": "web-export", "value": True}, {"key": "raw-http", "value": True}],
        "limits": {"memory": memory_mb, "timeout": 60_000},
    }
    with platform.client() as client:
        client.put(f"/api/v1/namespaces/_/actions/{name}", json=body).raise_for_status()
    return f"/api/v1/web/guest/default/{name}"


@pytest.fixture(scope="module")
def web(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.url, timeout=120, trust_env=False) as client:
        yield client


def test_flask_app(platform: Platform, web: httpx.Client) -> None:
    app = deploy_app(platform, "flask_app", memory_mb=512)  # jieba's dictionary takes ~100 MB
    index = web.get(app)
    assert index.status_code == 200 and index.text == "<h1>Hello from Flask on Stratus</h1>"
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    user = web.get(f"{app}/user/ann")
    assert user.status_code == 200 and user.json() == {"user": "ann", "greeting": "Hello ann!"}
    search = web.get(f"{app}/search?q=flask&limit=2")
    assert search.json() == {"query": "flask", "results": ["flask-0", "flask-1"]}
    login = web.post(f"{app}/login", data={"username": "ann", "password": "secret"})
    assert login.status_code == 200 and login.json() == {"welcome": "ann"}
    cookies = login.headers.get_list("set-cookie")
    assert [c.split(";")[0] for c in cookies] == ["guest~session=user-ann", "guest~theme=dark"]  # in the namespace
    web.cookies.clear()  # send cookies by hand below
    denied = web.post(f"{app}/login", data={"username": "ann", "password": "guess"})
    assert denied.status_code == 401 and denied.json() == {"error": "wrong password"}
    me = web.get(f"{app}/me", headers={"Cookie": "guest~session=user-ann", "User-Agent": "e2e"})
    assert me.json() == {"session": "user-ann", "agent": "e2e"}
    assert web.get(f"{app}/me").status_code == 401
    pixel = web.get(f"{app}/pixel.png")
    assert pixel.status_code == 200 and pixel.content == PIXEL and pixel.headers["content-type"] == "image/png"
    assert web.get(f"{app}/nothing-here").status_code == 404
    cut = web.post(f"{app}/cut", data={"text": "我来到北京清华大学"})
    assert cut.status_code == 200, cut.text
    assert cut.json()["words"] == ["我", "来到", "北京", "清华大学"]
    by_query = web.get(f"{app}/cut", params={"text": "他来到了网易杭研大厦"})
    assert "杭研" in by_query.json()["words"] or "网易" in by_query.json()["words"]


def test_django_app(platform: Platform, web: httpx.Client) -> None:
    app = deploy_app(platform, "django_app")
    index = web.get(f"{app}/")
    assert index.status_code == 200 and index.text == "<h1>Hello from Django on Stratus</h1>"
    item = web.get(f"{app}/items/7?fields=name")
    assert item.status_code == 200 and item.json() == {"id": 7, "fields": "name"}
    assert web.get(f"{app}/items/5000").status_code == 404
    assert web.get(f"{app}/items/not-a-number").status_code == 404  # <int:...> does not match
    contact = web.post(f"{app}/contact", data={"name": "Bo", "message": "hi there"})
    assert contact.status_code == 201 and contact.json() == {"thanks": "Bo", "message": "hi there"}
    assert contact.headers["set-cookie"].startswith("guest~contacted=yes")
    web.cookies.clear()
    assert web.get(f"{app}/contact").status_code == 405
    whoami = web.put(f"{app}/whoami", headers={"Cookie": "guest~contacted=yes"})
    assert whoami.json() == {"contacted": "yes", "method": "PUT"}


def test_fastapi_app(platform: Platform, web: httpx.Client) -> None:
    app = deploy_app(platform, "fastapi_app")  # pydantic-core, a compiled module, loads from the zip
    index = web.get(app)
    assert index.status_code == 200 and "FastAPI on Stratus" in index.text
    item = web.get(f"{app}/items/1?verbose=true")
    assert item.status_code == 200 and item.json() == {"id": 1, "name": "pen", "price": 1.5, "verbose": True}
    missing = web.get(f"{app}/items/99")
    assert missing.status_code == 404 and missing.json() == {"detail": "item not found"}
    assert web.get(f"{app}/items/abc").status_code == 422
    created = web.post(f"{app}/items", json={"name": "ink", "price": 2})
    assert created.status_code == 201 and created.json() == {"id": 2, "name": "ink", "price": 2.0}
    assert web.post(f"{app}/items", json={"name": "no price"}).status_code == 422
    login = web.post(f"{app}/login", data={"username": "cy"})
    assert login.json() == {"welcome": "cy"} and login.headers["set-cookie"].startswith("guest~user=cy")
    assert f"Path={app}" in login.headers["set-cookie"]  # scoped to the app (root_path), not the whole origin
    web.cookies.clear()
    assert web.get(f"{app}/me", headers={"Cookie": "guest~user=cy"}).json() == {"user": "cy"}
    pixel = web.get(f"{app}/pixel.png")
    assert pixel.content == PIXEL and pixel.headers["content-type"] == "image/png"
    docs = web.get(f"{app}/openapi.json")
    assert docs.status_code == 200 and docs.json()["info"]["title"] == "Stratus FastAPI example"
