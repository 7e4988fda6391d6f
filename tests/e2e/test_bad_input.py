"""Bad input on a running platform: a clear 400 on both invoke paths, and what is accepted reaches every
consumer (controller, invoker, runtime, activation store) and ends with its record."""

import base64
from typing import Any

import httpx
import pytest

from core import limits as L
from tests.e2e.conftest import Platform
from tests.e2e.test_invoke import put_action, unique, wait_record

pytestmark = pytest.mark.docker

ECHO = "def main(args):\n    return args\n"
ORIGIN = {"Origin": "https://app.example"}  # the fast path leaves requests with an Origin to the FastAPI route


def nested(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


@pytest.fixture(scope="module")
def echo(platform: Platform) -> str:
    name = unique("echo")
    with platform.client() as client:
        assert put_action(client, name, ECHO).status_code == 200
    return name


@pytest.mark.parametrize("headers", [{}, ORIGIN], ids=["fast path", "FastAPI route"])
@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (nested(L.JSON_MAX_DEPTH + 1), 400, f"nested deeper than {L.JSON_MAX_DEPTH} levels"),
        (nested(230), 400, f"nested deeper than {L.JSON_MAX_DEPTH} levels"),  # was accepted, then lost
        (nested(5_000), 400, f"nested deeper than {L.JSON_MAX_DEPTH} levels"),  # was a 500 (RecursionError)
        (b'{"a": "\\ud800"}', 400, "lone surrogate"),  # was a 500
        (b'{"a": ' + b"9" * 5000 + b"}", 400, "number out of range"),  # was a 500
        (b'{"a": 18446744073709551616}', 400, "outside the 64-bit range"),
        (b'{"a": NaN}', 400, "expected value"),  # was accepted as null
        (b'{"a": 1, "a": 2}', 400, "duplicate key"),
        (b'{"a": {"\\u0000": 1}}', 400, "NUL character"),
        (b'{"a": "\xff"}', 400, "invalid unicode"),
    ],
)
def test_bad_bodies_get_400_on_both_invoke_paths(
    platform: Platform, echo: str, headers: dict[str, str], body: bytes, status: int, says: str
) -> None:
    with platform.client() as client:
        answer = client.post(f"/api/v1/namespaces/_/actions/{echo}", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["error"]
    assert answer.json()["code"] == answer.headers["x-request-id"]


@pytest.mark.parametrize("headers", [{}, ORIGIN], ids=["fast path", "FastAPI route"])
def test_a_body_that_is_not_json_gets_415(platform: Platform, echo: str, headers: dict[str, str]) -> None:
    with platform.client() as client:
        answer = client.post(
            f"/api/v1/namespaces/_/actions/{echo}", content=b"name=x", headers=headers | {"Content-Type": "text/plain"}
        )
    assert answer.status_code == 415, answer.text
    assert "send JSON" in answer.json()["error"]


@pytest.mark.parametrize("query", ["skip=99999999999999999999", "upto=99999999999999999999", "since=-1", "limit=201"])
def test_list_queries_out_of_range_get_400(platform: Platform, query: str) -> None:
    with platform.client() as client:
        for collection in ("actions", "activations"):
            if collection == "actions" and query.startswith(("upto", "since")):
                continue
            answer = client.get(f"/api/v1/namespaces/_/{collection}?{query}")
            assert answer.status_code == 400, answer.text
            assert answer.json()["error"].startswith("The request content was malformed: query.")


def test_a_body_at_every_limit_comes_back_from_a_real_function(platform: Platform, echo: str) -> None:
    deep: Any = "bottom"
    for _ in range(L.JSON_MAX_DEPTH - 1):  # the body's own level makes JSON_MAX_DEPTH
        deep = {"a": deep}
    body = {
        "deep": deep,
        "ints": [L.INT64_MIN, L.INT64_MAX, 0],
        "floats": [1.7976931348623157e308, -0.0, 5e-324],
        "text": "é 中 \U0001f600 \x00 \u2028",
        "中文": {"": [None, True, False, [], {}]},
        "big": "x" * (L.PAYLOAD_MAX_BYTES // 2),
    }
    with platform.client() as client:
        answer = client.post(f"/api/v1/namespaces/_/actions/{echo}?blocking=true", json=body)
        assert answer.status_code == 200, answer.text[:500]
        assert answer.json()["response"]["result"] == body
        record = wait_record(client, answer.headers["x-openwhisk-activation-id"])
    assert record["response"]["result"] == body


def test_every_accepted_invoke_ends_with_a_record(platform: Platform, echo: str) -> None:
    """Non-blocking: each accepted body has its record (the deepest body was accepted, then lost, before)."""
    bodies = [nested(L.JSON_MAX_DEPTH), b'{"n": -9223372036854775808}', b'{"s": "\\ud83d\\ude00"}', b""]
    with platform.client() as client:
        ids = []
        for body in bodies:
            answer = client.post(f"/api/v1/namespaces/_/actions/{echo}", content=body)
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["activationId"])
        for activation_id in ids:
            assert wait_record(client, activation_id)["response"]["status"] == "success"


def test_names_are_case_sensitive_and_any_unicode_code_is_kept(platform: Platform) -> None:
    lower, upper = unique("case"), unique("case").upper()
    code = "def main(args):\n    return {'text': 'é 中 \U0001f600'}\n"
    with platform.client() as client:
        assert put_action(client, lower, code).status_code == 200
        assert put_action(client, upper, ECHO).status_code == 200  # another action, not a conflict
        answer = client.post(f"/api/v1/namespaces/_/actions/{lower}?blocking=true&result=true")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"text": "é 中 \U0001f600"}


def test_hostile_path_segments_and_headers_get_4xx(platform: Platform) -> None:
    with platform.client() as client:
        for path in ("actions/%00", "actions/%ff", "actions/" + "a" * 300, "activations/%ud800", "activations/x/logs"):
            answer = client.get(f"/api/v1/namespaces/_/{path}")
            assert answer.status_code == 400, (path, answer.text)
        assert client.get("/api/v1/namespaces/%ff/actions").status_code == 403
    for garbled in (b"Basic %%%", b"Basic \xe9\xe9", b"Basic " + base64.b64encode(b"\xff:\xfe")):  # was a 500
        answer = httpx.get(f"{platform.url}/api/v1/namespaces", headers=[(b"Authorization", garbled)])
        assert answer.status_code == 401, (garbled, answer.text)


def test_a_result_no_record_could_keep_ends_as_a_developer_error_and_the_platform_goes_on(
    platform: Platform, echo: str
) -> None:
    """A key with a NUL character cannot be stored (BSON): before, such a result failed every write of the
    recorder's batch and the standalone stopped answering."""
    name = unique("nulkey")
    with platform.client() as client:
        assert put_action(client, name, "def main(args):\n    return {'\\x00k': 1, 'big': 2**64}\n").status_code == 200
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true")
        assert answer.status_code == 502, answer.text
        assert answer.json()["response"]["status"] == "action developer error"
        assert "cannot be recorded" in answer.json()["response"]["result"]["error"]
        record = wait_record(client, answer.headers["x-openwhisk-activation-id"])
        assert record["response"]["status"] == "action developer error"
        after = client.post(f"/api/v1/namespaces/_/actions/{echo}?blocking=true&result=true", json={"n": 1})
        assert after.status_code == 200 and after.json() == {"n": 1}
