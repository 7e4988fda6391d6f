"""Sequences on a running platform: components chained across a package binding, one record each plus the
sequence's own listing them, an error stopping the chain, nesting, and what is refused at create."""

import time
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

ADD = """
def main(args):
    return {'n': args.get('n', 0) + args.get('step', 1), 'seen': args.get('seen', []) + ['add']}
"""
DOUBLE = "def main(args):\n    return {'n': args['n'] * 2, 'seen': args['seen'] + ['double']}\n"
FAIL = "def main(args):\n    return {'error': 'stop here', 'n': args.get('n')}\n"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


def put(client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    return client.put(f"/api/v1/namespaces/_/{path}", json=body)


def code(source: str, **parameters: Any) -> dict[str, Any]:
    return {
        "exec": {"kind": "python:3.11", "code": source},
        "parameters": [{"key": k, "value": v} for k, v in parameters.items()],
    }


def sequence(*components: str) -> dict[str, Any]:
    return {"exec": {"kind": "sequence", "components": list(components)}}


def record(client: httpx.Client, activation_id: str) -> dict[str, Any]:
    for _ in range(300):
        answer = client.get(f"/api/v1/namespaces/_/activations/{activation_id}")
        if answer.status_code == 200:
            found: dict[str, Any] = answer.json()
            return found
        time.sleep(0.2)
    pytest.fail(f"no record for {activation_id}")


def test_a_sequence_of_three_across_a_package_binding(platform: Platform) -> None:
    with platform.client() as client:
        pkg, bound, seq = unique("math"), unique("bound"), unique("seq")
        assert put(client, f"packages/{pkg}", {}).status_code == 200
        assert put(client, f"packages/{bound}", {"binding": {"name": pkg}, "parameters": [
            {"key": "step", "value": 10}]}).status_code == 200  # fmt: skip
        assert put(client, f"actions/{pkg}/add", code(ADD)).status_code == 200
        assert put(client, f"actions/{pkg}/double", code(DOUBLE)).status_code == 200
        created = put(client, f"actions/{seq}", sequence(f"{bound}/add", f"/_/{pkg}/double", f"/guest/{bound}/add"))
        assert created.status_code == 200, created.text
        assert created.json()["exec"]["components"] == [
            f"/guest/{bound}/add", f"/guest/{pkg}/double", f"/guest/{bound}/add"
        ]  # fmt: skip

        answer = client.post(f"/api/v1/namespaces/_/actions/{seq}?blocking=true", json={"n": 1})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["response"]["result"] == {"n": 32, "seen": ["add", "double", "add"]}  # (1 + 10) * 2 + 10
        notes = {a["key"]: a["value"] for a in body["annotations"]}
        assert notes["kind"] == "sequence" and notes["topmost"] is True
        assert len(body["logs"]) == 3
        components = [record(client, aid) for aid in body["logs"]]
        assert [c["name"] for c in components] == ["add", "double", "add"]
        assert all(c["cause"] == body["activationId"] for c in components)
        assert body["duration"] == sum(c["duration"] for c in components)
        assert record(client, body["activationId"])["logs"] == body["logs"]


def test_an_error_stops_the_chain_and_sequences_nest(platform: Platform) -> None:
    with platform.client() as client:
        add, fail, inner, outer = unique("add"), unique("fail"), unique("inner"), unique("outer")
        assert put(client, f"actions/{add}", code(ADD)).status_code == 200
        assert put(client, f"actions/{fail}", code(FAIL)).status_code == 200
        assert put(client, f"actions/{inner}", sequence(add, add)).status_code == 200
        assert put(client, f"actions/{outer}", sequence(inner, add)).status_code == 200
        answer = client.post(f"/api/v1/namespaces/_/actions/{outer}?blocking=true&result=true", json={"n": 0})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"n": 3, "seen": ["add", "add", "add"]}

        broken = unique("broken")
        assert put(client, f"actions/{broken}", sequence(add, fail, add)).status_code == 200
        answer = client.post(f"/api/v1/namespaces/_/actions/{broken}?blocking=true", json={"n": 5})
        body = answer.json()
        assert answer.status_code == 502 and body["response"]["status"] == "application error"
        assert body["response"]["result"] == {"error": "stop here"}
        assert len(body["logs"]) == 2  # the third never ran

        accepted = client.post(f"/api/v1/namespaces/_/actions/{outer}", json={"n": 1})
        assert accepted.status_code == 202
        assert record(client, accepted.json()["activationId"])["response"]["result"]["n"] == 4


def test_what_a_sequence_may_not_be(platform: Platform) -> None:
    with platform.client() as client:
        add, seq = unique("add"), unique("seq")
        assert put(client, f"actions/{add}", code(ADD)).status_code == 200
        missing = put(client, f"actions/{seq}", sequence(add, unique("nope")))
        assert missing.status_code == 400 and "does not exist" in missing.json()["error"]
        assert put(client, f"actions/{seq}", {"exec": {"kind": "sequence"}}).status_code == 400
        too_many = put(client, f"actions/{seq}", sequence(*[add] * 51))
        assert too_many.status_code == 400 and "51 > 50" in too_many.json()["error"]
        assert put(client, f"actions/{seq}", sequence(add)).status_code == 200
        outer = unique("outer")
        assert put(client, f"actions/{outer}", sequence(seq, add)).status_code == 200
        cycle = client.put(f"/api/v1/namespaces/_/actions/{seq}?overwrite=true", json=sequence(outer))
        assert cycle.status_code == 400 and "itself" in cycle.json()["error"]
        itself = client.put(f"/api/v1/namespaces/_/actions/{seq}?overwrite=true", json=sequence(seq))
        assert itself.status_code == 400


def test_a_web_exported_sequence_answers_http(platform: Platform) -> None:
    with platform.client() as client:
        add, page = unique("add"), unique("page")
        render = "def main(args):\n    return {'body': 'n=' + str(args['n'])}\n"
        assert put(client, f"actions/{add}", code(ADD)).status_code == 200
        assert put(client, f"actions/{page}", code(render)).status_code == 200
        web = sequence(add, page) | {"annotations": [{"key": "web-export", "value": True}]}
        seq = unique("webseq")
        assert put(client, f"actions/{seq}", web).status_code == 200
        with httpx.Client(base_url=platform.url, timeout=90, trust_env=False) as anonymous:
            answer = anonymous.post(f"/api/v1/web/guest/default/{seq}.http", json={"n": 4})
        assert answer.status_code == 200, answer.text
        assert answer.text == "n=5"
