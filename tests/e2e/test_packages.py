"""Packages and bindings on a running platform: CRUD, parameters merged package <- binding <- action,
actions and web actions inside packages, deleting a non-empty package."""

import dataclasses
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import Platform
from tests.factories import namespace_key

pytestmark = pytest.mark.docker

ECHO = "def main(args):\n    return {k: v for k, v in args.items() if not k.startswith('__ow_')}\n"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


def params(**values: Any) -> list[dict[str, Any]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def put(client: httpx.Client, path: str, body: dict[str, Any], **query: Any) -> httpx.Response:
    return client.put(f"/api/v1/namespaces/_/{path}", json=body, params=query)


def test_package_crud_parameters_and_binding(platform: Platform) -> None:
    with platform.client() as client:
        pkg, bound = unique("pkg"), unique("bind")
        created = put(client, f"packages/{pkg}", {"parameters": params(a="pkg", b="pkg", c="pkg")})
        assert created.status_code == 200, created.text
        assert created.json()["binding"] == {}
        assert put(client, f"packages/{pkg}", {}).status_code == 409  # exists, no overwrite
        action = {"exec": {"kind": "python:3.11", "code": ECHO}, "parameters": params(c="action")}
        assert put(client, f"actions/{pkg}/echo", action).status_code == 200
        answer = client.post(f"/api/v1/namespaces/_/actions/{pkg}/echo?blocking=true&result=true", json={"d": 1})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"a": "pkg", "b": "pkg", "c": "action", "d": 1}

        binding = {"binding": {"namespace": "_", "name": pkg}, "parameters": params(b="binding")}
        assert put(client, f"packages/{bound}", binding).status_code == 200
        answer = client.post(f"/api/v1/namespaces/_/actions/{bound}/echo?blocking=true", json={})
        assert answer.status_code == 200, answer.text
        record = answer.json()
        assert record["response"]["result"] == {"a": "pkg", "b": "binding", "c": "action"}
        assert {"key": "binding", "value": f"guest/{bound}"} in record["annotations"]

        got = client.get(f"/api/v1/namespaces/_/packages/{pkg}").json()
        assert [a["name"] for a in got["actions"]] == ["echo"]
        got = client.get(f"/api/v1/namespaces/_/packages/{bound}").json()
        assert got["binding"] == {"namespace": "guest", "name": pkg}
        assert {p["key"]: p["value"] for p in got["parameters"]} == {"a": "pkg", "b": "binding", "c": "pkg"}
        listed = {p["name"]: p for p in client.get("/api/v1/namespaces/_/packages?limit=0").json()}
        assert listed[pkg]["binding"] is False and listed[bound]["binding"] == {"namespace": "guest", "name": pkg}
        assert client.get(f"/api/v1/namespaces/_/actions/{pkg}/echo").json()["namespace"] == f"guest/{pkg}"

        # update: parameters replaced, version bumped, seen by the next invoke
        updated = put(client, f"packages/{pkg}", {"parameters": params(a="new")}, overwrite="true")
        assert updated.json()["version"] == "0.0.2"
        answer = client.post(f"/api/v1/namespaces/_/actions/{bound}/echo?blocking=true&result=true", json={})
        assert answer.json() == {"a": "new", "b": "binding", "c": "action"}

        refused = client.delete(f"/api/v1/namespaces/_/packages/{pkg}")
        assert refused.status_code == 409 and "1 entities" in refused.json()["error"]
        assert client.delete(f"/api/v1/namespaces/_/packages/{bound}").status_code == 200
        assert client.delete(f"/api/v1/namespaces/_/actions/{pkg}/echo").status_code == 200
        assert client.delete(f"/api/v1/namespaces/_/packages/{pkg}").status_code == 200
        assert client.get(f"/api/v1/namespaces/_/packages/{pkg}").status_code == 404


def test_package_errors(platform: Platform) -> None:
    with platform.client() as client:
        pkg = unique("pkg")
        missing = put(client, f"packages/{unique('b')}", {"binding": {"namespace": "_", "name": "nope"}})
        assert missing.status_code == 400 and "missing package" in missing.json()["error"]
        assert "code" in missing.json()
        assert put(client, "packages/default", {}).status_code == 400
        assert put(client, f"packages/{pkg}", {"publish": "yes"}).status_code == 400
        action = {"exec": {"kind": "python:3.11", "code": ECHO}}
        assert put(client, f"actions/{unique('none')}/echo", action).status_code == 404
        assert put(client, f"packages/{pkg}", {}).status_code == 200
        bound = unique("bind")
        assert put(client, f"packages/{bound}", {"binding": {"name": pkg}}).status_code == 200
        assert put(client, f"actions/{bound}/echo", action).status_code == 400  # not inside a binding
        turned = put(client, f"packages/{pkg}", {"binding": {"name": bound}}, overwrite="true")
        assert turned.status_code == 409
        chained = put(client, f"packages/{unique('b')}", {"binding": {"name": bound}})
        assert chained.status_code == 400  # a binding of a binding
        assert put(client, f"actions/{pkg}/echo", action).status_code == 200
        forced = client.delete(f"/api/v1/namespaces/_/packages/{pkg}?force=true")
        assert forced.status_code == 200
        assert client.get(f"/api/v1/namespaces/_/actions/{pkg}/echo").status_code == 404


def test_web_action_in_a_package(platform: Platform) -> None:
    with platform.client() as client:
        pkg = unique("webpkg")
        assert put(client, f"packages/{pkg}", {"parameters": params(greeting="hi")}).status_code == 200
        code = "def main(args):\n    return {'body': args['greeting'] + ' ' + args.get('name', 'web')}\n"
        web = {"exec": {"kind": "python:3.11", "code": code}, "annotations": [{"key": "web-export", "value": True}]}
        assert put(client, f"actions/{pkg}/page", web).status_code == 200
        with httpx.Client(base_url=platform.url, timeout=90, trust_env=False) as anonymous:
            answer = anonymous.get(f"/api/v1/web/guest/{pkg}/page.http?name=you")
            assert answer.status_code == 200, answer.text
            assert answer.text == "hi you"
            assert anonymous.get(f"/api/v1/web/guest/{unique('no')}/page.http").status_code == 404


def other_namespace(platform: Platform) -> Platform:
    """A second namespace on the platform, with a key of its own."""
    return dataclasses.replace(platform, key=namespace_key(platform.entities_url, unique("other")))


def test_a_published_package_is_shared_read_only(platform: Platform) -> None:
    shared, private = unique("shared"), unique("private")
    with platform.client() as owner:
        assert put(owner, f"packages/{shared}", {"publish": True, "parameters": params(a="owner")}).status_code == 200
        assert put(owner, f"packages/{private}", {}).status_code == 200
        action = {"exec": {"kind": "python:3.11", "code": ECHO}}
        assert put(owner, f"actions/{shared}/echo", action).status_code == 200
        assert put(owner, f"actions/{private}/echo", action).status_code == 200
    with other_namespace(platform).client() as other:
        assert other.get(f"/api/v1/namespaces/guest/packages/{shared}").json()["actions"][0]["name"] == "echo"
        assert other.get(f"/api/v1/namespaces/guest/packages/{private}").status_code == 403
        assert other.get(f"/api/v1/namespaces/guest/actions/{shared}/echo").status_code == 200
        assert other.get(f"/api/v1/namespaces/guest/actions/{private}/echo").status_code == 404
        answer = other.post(f"/api/v1/namespaces/guest/actions/{shared}/echo?blocking=true", json={"b": 1})
        assert answer.status_code == 200, answer.text
        assert answer.json()["response"]["result"] == {"a": "owner", "b": 1}
        assert answer.json()["namespace"] != "guest"  # the caller's activation
        refused = other.post(f"/api/v1/namespaces/guest/actions/{private}/echo?blocking=true", json={})
        assert refused.status_code == 404
        assert put(other, f"packages/{shared}", {}).status_code == 200  # its own, of the same name
        assert other.put(f"/api/v1/namespaces/guest/actions/{shared}/x", json=action).status_code == 403
        mine = unique("mine")
        binding = {"binding": {"namespace": "guest", "name": shared}, "parameters": params(a="binding")}
        assert put(other, f"packages/{mine}", binding).status_code == 200
        hidden = {"binding": {"namespace": "guest", "name": private}}
        assert put(other, f"packages/{unique('b')}", hidden).status_code == 400
        answer = other.post(f"/api/v1/namespaces/_/actions/{mine}/echo?blocking=true&result=true", json={})
        assert answer.json() == {"a": "binding"}
