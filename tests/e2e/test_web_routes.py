"""API routes end to end: create, list, call with path parameters and CORS, delete."""

from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

BOOKS = """
def main(args):
    return {
        "statusCode": 201 if args["__ow_method"] == "post" else 200,
        "headers": {"X-Isbn": args.get("isbn", "")},
        "body": {"isbn": args.get("isbn"), "path": args["__ow_path"], "title": args.get("title")},
    }
"""


def deploy(client: httpx.Client, *, web: bool) -> str:
    name = f"books-{uuid4().hex[:8]}"
    body = {
        "exec": {"kind": "python:3.11", "code": BOOKS},
        "annotations": [{"key": "web-export", "value": web}],
    }
    client.put(f"/api/v1/namespaces/_/actions/{name}", json=body).raise_for_status()
    return name


def test_a_route_with_a_path_parameter_and_cors(platform: Platform) -> None:
    base = f"/lib{uuid4().hex[:6]}"
    with platform.client() as client:
        action = deploy(client, web=True)
        by_isbn = {"basePath": base, "relPath": "/books/{isbn}", "verb": "get", "action": action}
        got = client.put("/api/v1/namespaces/_/routes", json=by_isbn | {"responseType": "http"})
        assert got.status_code == 200, got.text
        assert got.json()["url"] == f"{platform.url}/api/guest{base}/books/{{isbn}}"
        cors = {"origins": ["https://app.example"], "methods": ["POST"], "headers": ["Content-Type"], "maxAge": 60}
        client.put(
            "/api/v1/namespaces/_/routes",
            json={"basePath": base, "relPath": "/books", "verb": "POST", "action": action, "cors": cors},
        ).raise_for_status()
        listed = client.get(f"/api/v1/namespaces/_/routes?basePath={base}").json()
        assert [(r["relPath"], r["verb"], r["responseType"]) for r in listed] == [
            ("/books", "POST", "json"),
            ("/books/{isbn}", "GET", "http"),
        ]
    with httpx.Client(base_url=platform.url, timeout=90, trust_env=False) as web:
        book = web.get(f"/api/guest{base}/books/978-3")
        created = web.post(
            f"/api/guest{base}/books?title=Dune", json={"title": "Emma"}, headers={"Origin": "https://app.example"}
        )
        preflight = web.options(f"/api/guest{base}/books", headers={"Origin": "https://app.example"})
        stranger = web.options(f"/api/guest{base}/books", headers={"Origin": "https://evil.example"})
        wrong_verb = web.delete(f"/api/guest{base}/books/978-3")
        nowhere = web.get(f"/api/guest{base}/films/1")
    assert book.status_code == 200, book.text
    assert book.json() == {"isbn": "978-3", "path": "/books/978-3", "title": None}
    assert book.headers["x-isbn"] == "978-3" and "access-control-allow-origin" not in book.headers
    assert created.status_code == 200  # responseType json: the whole result, as JSON
    assert created.json()["body"] == {"isbn": None, "path": "/books", "title": "Emma"}
    assert created.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.status_code == 200 and preflight.headers["access-control-max-age"] == "60"
    assert preflight.headers["access-control-allow-methods"] == "POST"
    assert "x-openwhisk-activation-id" not in preflight.headers
    assert "access-control-allow-origin" not in stranger.headers
    assert wrong_verb.status_code == 405 and set(wrong_verb.json()) == {"error", "code"}
    assert nowhere.status_code == 404
    with platform.client() as client:
        deleted = client.delete(f"/api/v1/namespaces/_/routes?basePath={base}/&relPath=/books/{{isbn}}")  # normalised
        assert [r["verb"] for r in deleted.json()] == ["GET"]
        assert client.delete(f"/api/v1/namespaces/_/routes?basePath={base}&relPath=/books/{{isbn}}").status_code == 404
    with httpx.Client(base_url=platform.url, timeout=90, trust_env=False) as web:
        assert web.get(f"/api/guest{base}/books/978-3").status_code == 404


def test_routes_need_an_existing_web_action_and_valid_paths(platform: Platform) -> None:
    with platform.client() as client:
        plain = deploy(client, web=False)
        route = {"basePath": "/x", "relPath": "/y", "verb": "GET"}
        not_web = client.put("/api/v1/namespaces/_/routes", json=route | {"action": plain})
        missing = client.put("/api/v1/namespaces/_/routes", json=route | {"action": "no-such-action"})
        bad_path = client.put("/api/v1/namespaces/_/routes", json=route | {"relPath": "y", "action": plain})
        bad_verb = client.put("/api/v1/namespaces/_/routes", json=route | {"verb": "TRACE", "action": plain})
        anonymous = httpx.put(f"{platform.url}/api/v1/namespaces/_/routes", json=route | {"action": plain})
    assert not_web.status_code == 400 and "web-export" in not_web.json()["error"]
    assert missing.status_code == 404
    assert bad_path.status_code == 400 and bad_verb.status_code == 400
    assert anonymous.status_code == 401
