"""Per-namespace web hosts on a running platform (STRATUS_WEB_DOMAIN): a namespace's web actions and routes
on its own origin, none on the API's. Requests carry the Host header a DNS wildcard would send."""

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from core.namespaces import create_namespace
from core.stores.entities import SqlEntityStore
from tests.standalone_process import start_standalone_printing, stop

pytestmark = pytest.mark.docker

DOMAIN = "web.stratus.test"
WSGI_APP = """
import json
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Set-Cookie", "sid=1; Path=/")])
    return [json.dumps({"script_name": environ["SCRIPT_NAME"], "path": environ["PATH_INFO"]}).encode()]
"""


@dataclass(frozen=True)
class Hosted:
    url: str
    key: str
    data_dir: Path
    app: str


@pytest.fixture(scope="module")
def hosted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosted]:
    data_dir = tmp_path_factory.mktemp("hosts")
    env = {
        "STRATUS_REDIS_URL": "",
        "STRATUS_MONGO_URL": "",
        "STRATUS_ENTITIES_URL": "",
        "STRATUS_STEM_CELLS": "[]",
        "STRATUS_WEB_DOMAIN": DOMAIN,
    }
    process, printed, port = start_standalone_printing(data_dir, env)
    try:
        url, key, app = f"http://127.0.0.1:{port}", printed["STRATUS_KEY"], f"app-{uuid4().hex[:6]}"
        body = {
            "exec": {"kind": "python:3.11", "code": WSGI_APP, "main": "app"},
            "annotations": [{"key": "web-export", "value": True}, {"key": "raw-http", "value": True}],
        }
        with httpx.Client(base_url=url, auth=tuple(key.split(":", 1)), timeout=90, trust_env=False) as api:
            api.put(f"/api/v1/namespaces/_/actions/{app}", json=body).raise_for_status()
            route = {
                "basePath": "/shop",
                "relPath": "/items/{id}",
                "verb": "GET",
                "action": app,
                "responseType": "http",
            }
            api.put("/api/v1/namespaces/_/routes", json=route).raise_for_status()
        yield Hosted(url, key, data_dir, app)
    finally:
        stop(process)


def web(hosted: Hosted) -> httpx.Client:
    return httpx.Client(base_url=hosted.url, timeout=90, trust_env=False, follow_redirects=False)


def test_a_namespaces_web_actions_and_routes_live_on_its_own_host(hosted: Hosted) -> None:
    own = {"Host": f"guest.{DOMAIN}"}
    with web(hosted) as client:
        action = client.get(f"/default/{hosted.app}/a/b", headers=own)
        route = client.get("/api/shop/items/7", headers=own)
    assert action.status_code == 200, action.text
    assert action.json() == {"script_name": f"/default/{hosted.app}", "path": "/a/b"}
    assert action.headers["set-cookie"] == "guest~sid=1; Path=/"  # the whole host is the namespace's
    assert route.status_code == 200 and route.json()["script_name"] == "/api/shop"


def test_the_api_host_serves_no_user_content_but_still_the_api(hosted: Hosted) -> None:
    with web(hosted) as client:
        moved = client.get(f"/api/v1/web/guest/default/{hosted.app}/a?x=1")
        moved_route = client.get("/api/guest/shop/items/7")
        listing = client.get("/api/v1/namespaces/_/actions", auth=tuple(hosted.key.split(":", 1)))
    assert moved.status_code == 308 and moved.headers["location"] == f"http://guest.{DOMAIN}/default/{hosted.app}/a?x=1"
    assert (
        moved_route.status_code == 308 and moved_route.headers["location"] == f"http://guest.{DOMAIN}/api/shop/items/7"
    )
    assert listing.status_code == 200 and [a["name"] for a in listing.json()] == [hosted.app]  # the control


def test_a_namespace_whose_name_is_no_host_name_serves_no_web_content(hosted: Hosted) -> None:
    async def create() -> str:
        store = SqlEntityStore(f"sqlite+aiosqlite:///{hosted.data_dir / 'entities.db'}")
        await store.start()
        try:
            return await create_namespace(store, "Team_X")
        finally:
            await store.close()

    uuid, _, secret = asyncio.run(create()).partition(":")
    body = {
        "exec": {"kind": "python:3.11", "code": WSGI_APP, "main": "app"},
        "annotations": [{"key": "web-export", "value": True}],
    }
    with web(hosted) as client:
        client.put("/api/v1/namespaces/_/actions/page", json=body, auth=(uuid, secret)).raise_for_status()
        answer = client.get("/api/v1/web/Team_X/default/page")
        via_host = client.get("/default/page", headers={"Host": f"team_x.{DOMAIN}"})
    assert answer.status_code == 404 and "not a host name" in json.loads(answer.text)["error"]
    assert via_host.status_code != 200
