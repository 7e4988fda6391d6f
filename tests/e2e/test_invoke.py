"""One invocation end to end: HTTP API -> gateway -> Redis -> controller -> invoker -> container -> records."""

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import docker
import httpx
import pytest

from invoker.runner import action_tag
from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

HELLO = """
def main(args):
    name = args.get("name", "stranger")
    print(f"hello {name}")
    print("to stderr", file=__import__("sys").stderr)
    return {"greeting": f"Hello {name}!"}
"""


def put_action(client: httpx.Client, name: str, code: str, **extra: Any) -> httpx.Response:
    body = {"exec": {"kind": "python:3.11", "code": code}, **extra}
    return client.put(f"/api/v1/namespaces/_/actions/{name}", json=body)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid4().hex[:8]}"


def wait_record(client: httpx.Client, activation_id: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = client.get(f"/api/v1/namespaces/_/activations/{activation_id}")
        if answer.status_code == 200:
            record: dict[str, Any] = answer.json()
            return record
        assert answer.status_code == 404, answer.text
        time.sleep(0.2)
    pytest.fail(f"no record for {activation_id} after {timeout_s}s")


def annotations(record: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in record["annotations"]}


def test_hello_blocking_result(platform: Platform) -> None:
    with platform.client() as client:
        name = unique("hello")
        created = put_action(client, name, HELLO)
        assert created.status_code == 200, created.text
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true&result=true", json={"name": "x"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"greeting": "Hello x!"}
        assert len(answer.headers["x-openwhisk-activation-id"]) == 32


def test_non_blocking_returns_an_id_whose_record_appears(platform: Platform) -> None:
    with platform.client() as client:
        name = unique("hello")
        put_action(client, name, HELLO).raise_for_status()
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}", json={"name": "async"})
        assert answer.status_code == 202
        activation_id = answer.json()["activationId"]
        record = wait_record(client, activation_id)
        assert record["response"]["status"] == "success"
        assert record["response"]["success"] is True
        assert record["response"]["result"] == {"greeting": "Hello async!"}
        assert record["duration"] >= 0 and record["end"] >= record["start"]
        assert any(line.endswith("stdout: hello async") for line in record["logs"])
        assert any(line.endswith("stderr: to stderr") for line in record["logs"])
        notes = annotations(record)
        assert notes["kind"] == "python:3.11" and notes["path"] == f"guest/{name}"
        assert "initTime" in notes and "waitTime" in notes
        logs = client.get(f"/api/v1/namespaces/_/activations/{activation_id}/logs").json()
        assert logs == {"logs": record["logs"]}
        result = client.get(f"/api/v1/namespaces/_/activations/{activation_id}/result").json()
        assert result["status"] == "success" and result["result"] == {"greeting": "Hello async!"}
        listed = client.get("/api/v1/namespaces/_/activations", params={"name": name}).json()
        assert [row["activationId"] for row in listed] == [activation_id]
        assert listed[0]["statusCode"] == 0


def action_containers(name: str) -> list[docker.models.containers.Container]:
    """Containers serving guest's action `name`: tagged for it (a stem cell is renamed when it takes the action)."""
    engine = docker.from_env()
    try:
        # sparse: no inspect per container (one removed between the list and the inspect would be a 404)
        return engine.containers.list(all=True, sparse=True, filters={"name": f"_{action_tag(f'guest/{name}')}$"})
    finally:
        engine.close()


def test_second_call_reuses_the_warm_container(platform: Platform) -> None:
    with platform.client() as client:
        name = unique("warm")
        put_action(client, name, HELLO).raise_for_status()
        url = f"/api/v1/namespaces/_/actions/{name}?blocking=true"
        first = client.post(url, json={}).json()
        second = client.post(url, json={}).json()
        assert "initTime" in annotations(first) and annotations(first)["startType"] in ("prewarm", "cold")
        assert "initTime" not in annotations(second) and annotations(second)["startType"] == "warm"
        assert len(action_containers(name)) == 1


def test_deleting_an_action_removes_its_containers_promptly(platform: Platform) -> None:
    """The idle timeout is 120 s here: the invoker hears of the delete and removes them at once."""
    with platform.client() as client:
        name = unique("deleted")
        put_action(client, name, HELLO).raise_for_status()
        client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={}).raise_for_status()
        for _ in range(100):  # a taken stem cell gets the action's name in the background
            if action_containers(name):
                break
            time.sleep(0.1)
        assert len(action_containers(name)) == 1
        client.delete(f"/api/v1/namespaces/_/actions/{name}").raise_for_status()
        for _ in range(100):
            if not action_containers(name):
                break
            time.sleep(0.1)
        assert action_containers(name) == []


@pytest.mark.parametrize(
    ("code", "status", "http", "error_part"),
    [
        ("def main(args):\n    raise ValueError('boom')\n", "application error", 502, "boom"),
        ("def main(args):\n    return {'error': 'on purpose'}\n", "application error", 502, "on purpose"),
        ("def main(args)\n    return {}\n", "action developer error", 502, ""),
        ("def main(args):\n    return 42\n", "action developer error", 502, "dictionary"),
        ("def other(args):\n    return {}\n", "action developer error", 502, "main"),
    ],
    ids=["raises", "returns-error", "syntax-error", "not-a-dict", "no-main"],
)
def test_failing_functions_give_openwhisk_records(
    platform: Platform, code: str, status: str, http: int, error_part: str
) -> None:
    with platform.client() as client:
        name = unique("bad")
        put_action(client, name, code).raise_for_status()
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={})
        assert answer.status_code == http, answer.text
        record = answer.json()
        assert record["response"]["status"] == status
        assert record["response"]["success"] is False
        assert error_part in str(record["response"]["result"]["error"])
        assert wait_record(client, record["activationId"])["response"]["status"] == status


def test_timeout_is_recorded_and_the_container_destroyed(platform: Platform) -> None:
    code = "import time\ndef main(args):\n    time.sleep(30)\n    return {}\n"
    with platform.client() as client:
        name = unique("slow")
        put_action(client, name, code, limits={"timeout": 1000}).raise_for_status()
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={})
        assert answer.status_code == 502, answer.text
        record = answer.json()
        assert record["response"]["status"] == "action developer error"
        assert "1000" in record["response"]["result"]["error"]
        assert annotations(record)["timeout"] is True
        assert action_containers(name) == []


def test_wrong_key_is_401_in_openwhisk_shape(platform: Platform) -> None:
    uuid = platform.key.split(":")[0]
    with platform.client(f"{uuid}:{'x' * 64}") as client:
        answer = client.get("/api/v1/namespaces")
    assert answer.status_code == 401
    assert set(answer.json()) == {"error", "code"}
    with httpx.Client(base_url=platform.url, trust_env=False) as anonymous:
        assert anonymous.get("/api/v1/namespaces/_/actions").status_code == 401


def test_another_namespace_cannot_see_or_run_my_action(platform: Platform) -> None:
    other_name = unique("tenant")
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "standalone",
            "admin",
            "namespace",
            "create",
            other_name,
            "--entities-url",
            platform.entities_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    other_key = created.stdout.strip().splitlines()[-1]
    with platform.client() as mine, platform.client(other_key) as theirs:
        name = unique("private")
        put_action(mine, name, HELLO).raise_for_status()
        assert theirs.get("/api/v1/namespaces").json() == [other_name]
        assert theirs.get(f"/api/v1/namespaces/_/actions/{name}").status_code == 404
        assert theirs.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={}).status_code == 404
        assert theirs.get(f"/api/v1/namespaces/guest/actions/{name}").status_code == 403
        assert name not in [a["name"] for a in theirs.get("/api/v1/namespaces/_/actions").json()]
        own = mine.post(f"/api/v1/namespaces/_/actions/{name}", json={}).json()["activationId"]
        wait_record(mine, own)
        assert theirs.get(f"/api/v1/namespaces/_/activations/{own}").status_code == 404


def test_entity_errors(platform: Platform) -> None:
    with platform.client() as client:
        name = unique("crud")
        assert put_action(client, name, HELLO).status_code == 200
        assert put_action(client, name, HELLO).status_code == 409
        updated = client.put(f"/api/v1/namespaces/_/actions/{name}?overwrite=true", json={"limits": {"memory": 128}})
        assert updated.status_code == 200 and updated.json()["version"] == "0.0.2"
        assert updated.json()["limits"]["memory"] == 128
        bad_json = client.put(
            f"/api/v1/namespaces/_/actions/{unique('x')}",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert bad_json.status_code == 400 and set(bad_json.json()) == {"error", "code"}
        assert put_action(client, unique("x"), HELLO, limits={"memory": 4096}).status_code == 400
        assert client.get(f"/api/v1/namespaces/_/actions/{unique('missing')}").status_code == 404
        too_big = client.post(f"/api/v1/namespaces/_/actions/{name}", json={"blob": "x" * (1024 * 1024 + 1)})
        assert too_big.status_code == 413
        assert client.get("/api/v1/namespaces/_/activations/not-an-id").status_code == 400
        listed = client.get("/api/v1/namespaces/_/actions").json()
        assert name in [a["name"] for a in listed] and "code" not in listed[0]["exec"]
        deleted = client.delete(f"/api/v1/namespaces/_/actions/{name}")
        assert deleted.status_code == 200 and deleted.json()["name"] == name
        assert client.get(f"/api/v1/namespaces/_/actions/{name}").status_code == 404


def test_the_fast_path_and_the_documented_route_answer_alike(platform: Platform) -> None:
    """An Origin header sends an invoke through FastAPI's route (CORS); without one, gateway.fast_path
    serves it. Both must answer every case the same way (the CORS headers aside)."""
    uuid = platform.key.split(":")[0]
    with platform.client() as client:
        name = unique("twin")
        put_action(client, name, HELLO).raise_for_status()
        cases: list[tuple[str, dict[str, Any], httpx.Client | None]] = [
            (f"{name}?blocking=true&result=true", {"json": {"name": "a"}}, None),
            (f"{name}?blocking=true&timeout=0", {"json": {}}, None),
            (f"{name}", {"content": b"[1, 2]", "headers": {"content-type": "application/json"}}, None),
            (f"{name}", {"content": b"{nope", "headers": {"content-type": "application/json"}}, None),
            (f"{name}", {"json": {"blob": "x" * (1024 * 1024 + 1)}}, None),
            (unique("missing"), {"json": {}}, None),
            (f"{name}", {"json": {}}, platform.client(f"{uuid}:{'x' * 64}")),
        ]
        for path, kwargs, other in cases:
            answers = []
            for headers in ({}, {"origin": "https://app.example"}):
                sender = other or client
                extra = kwargs.get("headers", {}) | headers
                answer = sender.post(f"/api/v1/namespaces/_/actions/{path}", **(kwargs | {"headers": extra}))
                body = answer.json()
                if isinstance(body, dict):
                    body.pop("code", None)
                answers.append((answer.status_code, body, answer.headers.get("x-request-id") is not None))
            assert answers[0] == answers[1], path


def test_a_record_too_large_for_the_reply_stream_still_reaches_the_blocking_caller(platform: Platform) -> None:
    """Records over 64 KB (logs up to 10 MB) travel by reference: the caller still gets all of it."""
    chatty = "def main(args):\n    for i in range(3000):\n        print('line', i, 'x' * 100)\n    return {'n': 3000}\n"
    with platform.client() as client:
        name = unique("chatty")
        put_action(client, name, chatty).raise_for_status()
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={})
        assert answer.status_code == 200, answer.text
        record = answer.json()
        assert record["response"]["result"] == {"n": 3000}
        assert len(record["logs"]) == 3000 and record["logs"][-1].endswith("line 2999 " + "x" * 100)


def test_a_chunked_body_over_the_limit_is_refused_without_reading_it_all(platform: Platform) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"blob": "'
        for _ in range(64):  # 64 MB if read to the end
            sent += 1
            yield b"x" * (1024 * 1024)
        yield b'"}'

    with platform.client() as client:
        name = unique("chunked")
        put_action(client, name, HELLO).raise_for_status()
        for path in (f"/api/v1/namespaces/_/actions/{name}", f"/api/v1/namespaces/_/actions/{name}?x=1"):
            sent = 0
            try:
                answer = client.post(path, content=chunks(), headers={"content-type": "application/json"})
            except httpx.HTTPError:  # the server may close the connection on the rest of the upload
                answer = None
            assert answer is None or answer.status_code == 413
            assert sent < 64
