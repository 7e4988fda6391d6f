"""Triggers and rules on a running platform: CRUD, firing runs every active rule's action with the trigger's
parameters under the payload, the trigger's record lists what each rule caused, enable/disable, errors."""

import json
import time
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

ECHO = "def main(args):\n    return {'got': {k: v for k, v in args.items() if not k.startswith('__ow_')}}\n"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


def api(path: str) -> str:
    return f"/api/v1/namespaces/_/{path}"


def record(client: httpx.Client, activation_id: str) -> dict[str, Any]:
    for _ in range(300):
        answer = client.get(api(f"activations/{activation_id}"))
        if answer.status_code == 200:
            found: dict[str, Any] = answer.json()
            return found
        time.sleep(0.2)
    pytest.fail(f"no record for {activation_id}")


def test_firing_runs_every_active_rule(platform: Platform) -> None:
    with platform.client() as client:
        trigger, first, second, pkg = unique("t"), unique("r1"), unique("r2"), unique("p")
        echo = {"exec": {"kind": "python:3.11", "code": ECHO}}
        assert client.put(api("actions/echo-" + trigger), json=echo).status_code == 200
        assert client.put(api(f"packages/{pkg}"), json={"parameters": [{"key": "p", "value": 1}]}).status_code == 200
        assert client.put(api(f"actions/{pkg}/echo"), json=echo).status_code == 200
        params = [{"key": "a", "value": "trigger"}, {"key": "b", "value": "trigger"}]
        created = client.put(api(f"triggers/{trigger}"), json={"parameters": params})
        assert created.status_code == 200, created.text
        assert client.post(api(f"triggers/{trigger}"), json={}).status_code == 204  # no rule yet

        rule = client.put(api(f"rules/{first}"), json={"trigger": f"/_/{trigger}", "action": f"echo-{trigger}"})
        assert rule.status_code == 200, rule.text
        assert rule.json()["status"] == "active"
        assert rule.json()["trigger"] == {"path": "guest", "name": trigger}
        rule = client.put(api(f"rules/{second}"), json={"trigger": trigger, "action": f"/guest/{pkg}/echo"})
        assert rule.json()["action"] == {"path": f"guest/{pkg}", "name": "echo"}
        got = client.get(api(f"triggers/{trigger}")).json()
        assert got["rules"][f"guest/{first}"]["status"] == "active"

        fired = client.post(api(f"triggers/{trigger}"), json={"b": "payload"})
        assert fired.status_code == 202, fired.text
        trigger_record = record(client, fired.json()["activationId"])
        assert trigger_record["name"] == trigger and trigger_record["response"]["result"] == {"b": "payload"}
        lines = sorted((json.loads(line) for line in trigger_record["logs"]), key=lambda line: line["rule"])
        assert [line["rule"] for line in lines] == [f"guest/{first}", f"guest/{second}"]
        assert all(line["success"] and line["statusCode"] == 0 for line in lines)
        results = [record(client, line["activationId"])["response"]["result"]["got"] for line in lines]
        assert results[0] == {"a": "trigger", "b": "payload"}
        assert results[1] == {"a": "trigger", "b": "payload", "p": 1}  # the package's parameter too

        disabled = client.post(api(f"rules/{second}"), json={"status": "inactive"})
        assert disabled.status_code == 200
        assert client.get(api(f"rules/{second}")).json()["status"] == "inactive"
        fired = client.post(api(f"triggers/{trigger}"), json={})
        assert len(record(client, fired.json()["activationId"])["logs"]) == 1
        assert client.post(api(f"rules/{second}"), json={"status": "paused"}).status_code == 400
        assert client.post(api(f"rules/{first}"), json={"status": "inactive"}).status_code == 200
        assert client.post(api(f"triggers/{trigger}"), json={}).status_code == 204

        names = [t["name"] for t in client.get(api("triggers?limit=0")).json()]
        assert trigger in names
        assert first in [r["name"] for r in client.get(api("rules?limit=0")).json()]
        assert client.delete(api(f"triggers/{trigger}")).json()["name"] == trigger
        assert client.get(api(f"rules/{first}")).json()["status"] == "inactive"  # its trigger is gone
        assert client.post(api(f"rules/{first}"), json={"status": "active"}).status_code == 404
        assert client.delete(api(f"rules/{first}")).json()["status"] == "inactive"
        assert client.get(api(f"rules/{first}")).status_code == 404


def test_trigger_and_rule_errors(platform: Platform) -> None:
    with platform.client() as client:
        trigger = unique("t")
        assert client.get(api(f"triggers/{trigger}")).status_code == 404
        assert client.post(api(f"triggers/{trigger}"), json={}).status_code == 404
        bad_feed = {"annotations": [{"key": "feed", "value": "not a path"}]}
        assert client.put(api(f"triggers/{trigger}"), json=bad_feed).status_code == 400
        assert client.put(api(f"triggers/{trigger}"), json={}).status_code == 200
        assert client.put(api(f"triggers/{trigger}"), json={}).status_code == 409
        again = client.put(api(f"triggers/{trigger}?overwrite=true"), json={"parameters": []})
        assert again.json()["version"] == "0.0.2"
        missing = client.put(api(f"rules/{unique('r')}"), json={"trigger": trigger, "action": unique("none")})
        assert missing.status_code == 400 and "action" in missing.json()["error"] and "code" in missing.json()
        missing = client.put(api(f"rules/{unique('r')}"), json={"trigger": unique("none"), "action": "x"})
        assert missing.status_code == 400 and "trigger" in missing.json()["error"]
        assert client.put(api(f"rules/{unique('r')}"), json={"trigger": trigger}).status_code == 400
