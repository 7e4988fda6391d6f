"""Lambda-style handlers through the API: an AWS Lambda function runs unchanged, invoked directly and as a
web action (API Gateway HTTP API events in, statusCode/headers/cookies/body out)."""

import base64
import io
import zipfile
from uuid import uuid4

import httpx
import pytest

from tests.e2e.conftest import Platform

pytestmark = pytest.mark.docker

# What a Lambda function looks like in the wild: module-level logger, (event, context), a dict back.
LAMBDA = """
import json
import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    logger.info("event: %s", json.dumps(event))
    return {
        "greeting": f"Hello {event.get('name', 'world')}",
        "request_id": context.aws_request_id,
        "function": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 30_000,
        "arn": context.invoked_function_arn,
    }
"""

WEB = """
import base64
import json


def handler(event, context):
    if event["requestContext"]["http"]["method"] == "POST":
        data = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "isBase64Encoded": True,
            "body": base64.b64encode(data[::-1]).decode(),
        }
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Path": event["rawPath"]},
        "cookies": ["session=abc; Path=/", "theme=dark"],
        "body": json.dumps({"query": event.get("queryStringParameters"), "cookies": event.get("cookies")}),
    }
"""


def put(platform: Platform, exec_: dict[str, object], annotations: dict[str, object], **limits: int) -> str:
    name = f"lambda-{uuid4().hex[:8]}"
    body = {
        "exec": exec_,
        "annotations": [{"key": k, "value": v} for k, v in annotations.items()],
        "limits": {"timeout": 30_000, **limits},
    }
    with platform.client() as client:
        client.put(f"/api/v1/namespaces/_/actions/{name}", json=body).raise_for_status()
    return name


def test_a_lambda_function_runs_unchanged_with_its_context_and_logs(platform: Platform) -> None:
    name = put(
        platform, {"kind": "python:3.11", "code": LAMBDA}, {"handler": "lambda_function.lambda_handler"}, memory=128
    )
    with platform.client() as client:
        record = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true", json={"name": "Ann"}).json()
    result = record["response"]["result"]
    assert result["greeting"] == "Hello Ann" and result["request_id"] == record["activationId"]
    assert result["function"] == name and result["memory"] == "128" and result["remaining_ok"] is True
    assert result["arn"].endswith(f":guest:function:guest/{name}")
    assert any("[INFO]\t" in line and record["activationId"] in line and '"Ann"' in line for line in record["logs"])


def test_a_lambda_zip_with_its_handler_in_a_package(platform: Platform) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("src/__init__.py", "")
        archive.writestr("src/app.py", "def handler(event, context):\n    return open('src/data.txt').read()\n")
        archive.writestr("src/data.txt", "from the zip")
    code = base64.b64encode(buffer.getvalue()).decode()
    name = put(platform, {"kind": "python:3", "code": code}, {"handler": "src.app.handler"})
    with platform.client() as client:
        answer = client.post(f"/api/v1/namespaces/_/actions/{name}?blocking=true&result=true", json={})
    assert answer.json() == {"result": "from the zip"}  # a value that is not an object is wrapped


def test_a_lambda_web_action_gets_api_gateway_events_and_answers_http(platform: Platform) -> None:
    notes = {"handler": "web.handler", "web-export": True, "raw-http": True}
    name = put(platform, {"kind": "python:3.11", "code": WEB}, notes)
    with httpx.Client(base_url=platform.url, timeout=60, trust_env=False) as web:
        url = f"/api/v1/web/guest/default/{name}"
        # the browser holds the namespace's cookies under prefixed names (gateway/web_headers.py)
        got = web.get(f"{url}/items/7?tag=a&tag=b", headers={"Cookie": "guest~a=1; guest~b=2; other~c=3"})
        assert got.status_code == 201 and got.headers["x-path"] == "/items/7"
        assert got.json() == {"query": {"tag": "a,b"}, "cookies": ["a=1", "b=2"]}
        set_cookies = [c.split(";")[0] for c in got.headers.get_list("set-cookie")]
        assert set_cookies == ["guest~session=abc", "guest~theme=dark"]
        posted = web.post(url, content=b"\x00\x01\xfe\xff", headers={"Content-Type": "application/octet-stream"})
        assert posted.status_code == 200 and posted.content == b"\xff\xfe\x01\x00"
        assert posted.headers["content-type"] == "application/octet-stream"
