"""Tenants on one origin, on a running platform: what a web action of one namespace can learn of another's
users, and what anonymous callers can change. Each hostile probe has a positive control that shows the probe
would see the hole (the victim's own action does receive what the attacker's must not)."""

import base64
from uuid import uuid4

import httpx
import pytest

from stratus.client.action_body import action_body
from tests.e2e.conftest import Platform
from tests.factories import namespace_key

pytestmark = pytest.mark.docker

HEADERS = """
def main(args):
    return {"headers": args["__ow_headers"], "user": args.get("__ow_user"), "token": args.get("token")}
"""
LOGIN = """
def main(args):
    return {"statusCode": 200, "headers": {"Set-Cookie": ["session=victim-secret; Path=/; HttpOnly"]}, "body": "in"}
"""
WSGI_APP = """
import json
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Set-Cookie", "sid=1")])
    seen = {"script_name": environ["SCRIPT_NAME"], "path": environ["PATH_INFO"], "cookie": environ.get("HTTP_COOKIE")}
    return [json.dumps(seen).encode()]
"""


def new_namespace(platform: Platform, prefix: str) -> tuple[str, str]:
    name = f"{prefix}-{uuid4().hex[:8]}"
    return name, namespace_key(platform.entities_url, name)


def put(platform: Platform, key: str, code: str, *, web: bool = True, main: str = "main", **annotations: object) -> str:
    name = f"w-{uuid4().hex[:8]}"
    body = action_body(exec_={"kind": "python:3.11", "code": code, "main": main}, annotations=annotations, web=web)
    body["parameters"] = [{"key": "token", "value": "owner-set"}]
    with platform.client(key) as client:
        client.put(f"/api/v1/namespaces/_/actions/{name}", json=body).raise_for_status()
    return name


@pytest.fixture(scope="module")
def tenants(platform: Platform) -> dict[str, tuple[str, str]]:
    return {"victim": new_namespace(platform, "victim"), "attacker": new_namespace(platform, "attacker")}


def browser(platform: Platform) -> httpx.Client:
    return httpx.Client(base_url=platform.url, timeout=90, trust_env=False)


def test_a_namespace_never_sees_another_namespaces_cookies_nor_the_users_credentials(
    platform: Platform, tenants: dict[str, tuple[str, str]]
) -> None:
    (victim, victim_key), (attacker, attacker_key) = tenants["victim"], tenants["attacker"]
    login, victim_echo = put(platform, victim_key, LOGIN), put(platform, victim_key, HEADERS)
    spy = put(platform, attacker_key, HEADERS)
    uuid, _, secret = victim_key.partition(":")
    with browser(platform) as web:
        set_cookie = web.get(f"/api/v1/web/{victim}/default/{login}.http").headers["set-cookie"]
    # what the browser holds, sent below to both namespaces' actions as if its path covered them
    held = set_cookie.split(";")[0] + "; unscoped=api-origin"
    sent = {"Cookie": held, "Authorization": f"Basic {base64.b64encode(victim_key.encode()).decode()}"}
    with browser(platform) as web:
        spied_answer = web.get(f"/api/v1/web/{attacker}/default/{spy}.json/headers", headers=sent)
        own = web.get(f"/api/v1/web/{victim}/default/{victim_echo}.json/headers", headers=sent).json()
    assert spied_answer.status_code == 200, spied_answer.text
    spied = spied_answer.json()
    assert (
        set_cookie.startswith(f"{victim}~session=victim-secret") and f"Path=/api/v1/web/{victim}/default/" in set_cookie
    )
    assert "cookie" not in spied and "authorization" not in spied
    assert not any(secret in value or uuid in value for value in spied.values()), spied
    assert own["cookie"] == "session=victim-secret"  # the positive control: the victim's own action gets it
    assert "authorization" not in own  # a platform key reaches no function, not even its owner's


def test_the_require_whisk_auth_secret_and_key_stop_at_the_gateway(
    platform: Platform, tenants: dict[str, tuple[str, str]]
) -> None:
    victim, victim_key = tenants["victim"]
    by_secret = put(platform, victim_key, HEADERS, **{"require-whisk-auth": "s3cret-value"})
    by_key = put(platform, victim_key, HEADERS, **{"require-whisk-auth": True})
    uuid, _, secret = victim_key.partition(":")
    with browser(platform) as web:
        wrong = web.get(f"/api/v1/web/{victim}/default/{by_secret}.json", headers={"X-Require-Whisk-Auth": "s3cret"})
        good = web.get(
            f"/api/v1/web/{victim}/default/{by_secret}.json", headers={"X-Require-Whisk-Auth": "s3cret-value"}
        )
        keyed = web.get(
            f"/api/v1/web/{victim}/default/{by_key}.json", auth=(uuid, secret), headers={"authorization-x": "kept"}
        )
    assert wrong.status_code == 401  # the control: the secret is checked
    assert good.status_code == 200 and "x-require-whisk-auth" not in good.json()["headers"]
    assert "s3cret-value" not in good.text
    assert keyed.status_code == 200 and keyed.json()["user"] == victim
    assert "authorization" not in keyed.json()["headers"] and keyed.json()["headers"]["authorization-x"] == "kept"
    assert secret not in keyed.text


def test_anonymous_callers_cannot_override_a_web_actions_parameters(
    platform: Platform, tenants: dict[str, tuple[str, str]]
) -> None:
    victim, victim_key = tenants["victim"]
    via_cli = put(platform, victim_key, HEADERS)  # --web: web-export and final
    with platform.client(victim_key) as client:
        notes = {
            a["key"]: a["value"] for a in client.get(f"/api/v1/namespaces/_/actions/{via_cli}").json()["annotations"]
        }
        bare = f"w-{uuid4().hex[:8]}"  # the API alone, no final: the web path still refuses anonymous overrides
        body = {
            "exec": {"kind": "python:3.11", "code": HEADERS},
            "parameters": [{"key": "token", "value": "owner-set"}],
            "annotations": [{"key": "web-export", "value": True}],
        }
        client.put(f"/api/v1/namespaces/_/actions/{bare}", json=body).raise_for_status()
    owned = put(platform, victim_key, HEADERS, final=False, **{"require-whisk-auth": True})
    uuid, _, secret = victim_key.partition(":")
    with browser(platform) as web:
        overridden = [web.get(f"/api/v1/web/{victim}/default/{a}.json?token=mine") for a in (via_cli, bare)]
        kept = web.get(f"/api/v1/web/{victim}/default/{bare}.json").json()["token"]
        by_owner = web.get(f"/api/v1/web/{victim}/default/{owned}.json?token=mine", auth=(uuid, secret))
    assert notes["web-export"] is True and notes["final"] is True
    assert [r.status_code for r in overridden] == [400, 400] and "token" in overridden[1].json()["error"]
    assert kept == "owner-set"
    assert by_owner.status_code == 200 and by_owner.json()["token"] == "mine"  # the control: overrides do work


def test_a_web_app_is_mounted_at_its_own_prefix(platform: Platform, tenants: dict[str, tuple[str, str]]) -> None:
    victim, victim_key = tenants["victim"]
    app = put(platform, victim_key, WSGI_APP, main="app", **{"raw-http": True})
    prefix = f"/api/v1/web/{victim}/default/{app}"
    with browser(platform) as web:
        first = web.get(f"{prefix}/a/b", headers={"X-Forwarded-Prefix": "/"})
        again = web.get(f"{prefix}/c")
    assert first.json() == {"script_name": prefix, "path": "/a/b", "cookie": None}
    assert first.headers["set-cookie"] == f"{victim}~sid=1; Path={prefix}"
    assert again.json()["cookie"] == "sid=1"  # the browser sends it back to this app, which sees its own name
