"""The alarms feed on a running platform: a trigger on a cron schedule every few seconds fires its rule's
action with the trigger payload; READ and DELETE; a one-shot alarm fires once; bad schedules are 400."""

import json
import time
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

ECHO = "def main(args):\n    return {'got': args.get('tick')}\n"
FEED = "/api/v1/namespaces/whisk.system/actions/alarms"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


def api(path: str) -> str:
    return f"/api/v1/namespaces/_/{path}"


def trigger_records(client: httpx.Client, trigger: str) -> list[dict[str, Any]]:
    listed = client.get(api(f"activations?name={trigger}&limit=0&docs=true")).json()
    return [r for r in listed if r["name"] == trigger]


def setup(client: httpx.Client, feed: str, **params: Any) -> str:
    trigger, action, rule = unique("alarm"), unique("echo"), unique("rule")
    assert client.put(api(f"actions/{action}"), json={"exec": {"kind": "python:3.11", "code": ECHO}}).status_code == 200
    annotations = [{"key": "feed", "value": f"/whisk.system/alarms/{feed}"}]
    assert client.put(api(f"triggers/{trigger}"), json={"annotations": annotations}).status_code == 200
    assert client.put(api(f"rules/{rule}"), json={"trigger": trigger, "action": action}).status_code == 200
    created = client.post(f"{FEED}/{feed}", json={"lifecycleEvent": "CREATE", "triggerName": f"/_/{trigger}", **params})
    assert created.status_code == 200, created.text
    return trigger


def wait_for(condition: Any, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    pytest.fail("the condition did not hold in time")


def test_an_alarm_every_two_seconds_fires_its_rule(platform: Platform) -> None:
    with platform.client() as client:
        trigger = setup(client, "alarm", cron="*/2 * * * * *", trigger_payload={"tick": "yes"})
        read = client.post(f"{FEED}/alarm", json={"lifecycleEvent": "READ", "triggerName": f"/_/{trigger}"})
        assert read.json()["config"]["cron"] == "*/2 * * * * *"
        wait_for(lambda: len(trigger_records(client, trigger)) >= 3)
        records = trigger_records(client, trigger)
        starts = sorted(r["start"] for r in records)
        assert len(set(s // 2000 for s in starts)) == len(starts)  # at most one firing per tick
        first = json.loads(records[0]["logs"][0])
        assert first["success"] is True
        wait_for(lambda: client.get(api(f"activations/{first['activationId']}")).status_code == 200)
        ran = client.get(api(f"activations/{first['activationId']}")).json()
        assert ran["response"]["result"] == {"got": "yes"}

        deleted = client.post(f"{FEED}/alarm", json={"lifecycleEvent": "DELETE", "triggerName": f"/_/{trigger}"})
        assert deleted.status_code == 200
        time.sleep(2.5)  # a firing in flight when it was deleted lands within a round
        settled = len(trigger_records(client, trigger))
        time.sleep(5)
        assert len(trigger_records(client, trigger)) == settled


def test_a_one_shot_alarm_fires_once(platform: Platform) -> None:
    with platform.client() as client:
        trigger = setup(client, "once", date=int(time.time() * 1000) + 1500, trigger_payload={"tick": 1})
        wait_for(lambda: len(trigger_records(client, trigger)) == 1)
        time.sleep(3)
        assert len(trigger_records(client, trigger)) == 1
        gone = client.post(f"{FEED}/once", json={"lifecycleEvent": "READ", "triggerName": f"/_/{trigger}"})
        assert gone.status_code == 404


def test_bad_schedules_are_refused(platform: Platform) -> None:
    with platform.client() as client:
        trigger = unique("t")
        assert client.put(api(f"triggers/{trigger}"), json={}).status_code == 200
        name = f"/_/{trigger}"
        for feed, params in [
            ("alarm", {"cron": "every minute"}),
            ("alarm", {"cron": "* * * * *", "timezone": "Mars/Olympus"}),
            ("interval", {"minutes": 0}),
            ("once", {}),
            ("nope", {}),
        ]:
            answer = client.post(f"{FEED}/{feed}", json={"lifecycleEvent": "CREATE", "triggerName": name, **params})
            assert answer.status_code == 400, (feed, params, answer.text)
            assert "error" in answer.json()
        missing = {"lifecycleEvent": "CREATE", "triggerName": f"/_/{unique('none')}", "cron": "* * * * *"}
        assert client.post(f"{FEED}/alarm", json=missing).status_code == 404
        other = {"lifecycleEvent": "CREATE", "triggerName": "/someone/t", "cron": "* * * * *"}
        assert client.post(f"{FEED}/alarm", json=other).status_code == 400


def test_deleting_the_trigger_deletes_its_alarm(platform: Platform) -> None:
    with platform.client() as client:
        trigger = unique("t")
        assert client.put(api(f"triggers/{trigger}"), json={}).status_code == 200
        event = {"triggerName": f"/_/{trigger}", "cron": "0 0 1 1 *"}
        assert client.post(f"{FEED}/alarm", json={"lifecycleEvent": "CREATE", **event}).status_code == 200
        assert client.delete(api(f"triggers/{trigger}")).status_code == 200
        assert client.post(f"{FEED}/alarm", json={"lifecycleEvent": "READ", **event}).status_code == 404
