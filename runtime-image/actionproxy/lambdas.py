"""AWS Lambda-style handlers: `handler(event, context)`, called as Lambda's Python runtime calls them.

An action whose /init names a `handler` ("module.function", or "path/to/module.function") runs that
function unchanged:
- `event` is the invocation's parameters; for a web request (the `__ow_*` arguments of a web action) it is
  an API Gateway HTTP API event (payload format 2.0: rawPath, rawQueryString, cookies, headers,
  queryStringParameters, requestContext.http, body, isBase64Encoded).
- `context` has aws_request_id (the activation id), function_name, function_version,
  invoked_function_arn, memory_limit_in_mb (a string, as Lambda's), log_group_name, log_stream_name,
  identity, client_context and get_remaining_time_in_millis().
- The return value: for a web request, `{statusCode, headers, cookies, body, isBase64Encoded}` maps back
  to the HTTP response (no statusCode: 200 with the value as a JSON body, as API Gateway does); otherwise
  a dict or list is the result and any other JSON value becomes `{"result": value}` (Lambda functions
  often return None or a string, which an OpenWhisk result cannot be).
- The root logger writes `[LEVEL]\t<time>\t<request id>\t<message>` lines, as in Lambda, and the working
  directory is the code's directory (Lambda's /var/task): relative paths to files in the zip work.
"""

import base64
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from actionproxy.logcapture import current_run
from actionproxy.webapp import WebCall, http_result, is_binary_type, media_type

RunBody = Mapping[str, Any]


def current_body() -> RunBody:
    return current_run.get() or {}


class LambdaContext:
    """What Lambda's Python runtime passes as `context`, filled from the activation."""

    def __init__(self, body: RunBody, memory_mb: int | None) -> None:
        path = str(body.get("action_name") or "")  # "/namespace/[package/]name"
        namespace = str(body.get("namespace") or "")
        self.aws_request_id = str(body.get("activation_id") or "")
        self.function_name = path.rsplit("/", 1)[-1]
        self.function_version = str(body.get("action_version") or "$LATEST")
        self.invoked_function_arn = f"arn:stratus:lambda:local:{namespace}:function:{path.strip('/')}"
        self.memory_limit_in_mb = str(memory_mb) if memory_mb is not None else None
        self.log_group_name = f"/stratus{path}"
        self.log_stream_name = os.environ.get("HOSTNAME", "")  # the container's
        self.identity = None
        self.client_context = None
        deadline = str(body.get("deadline") or "")
        self._deadline_ms = int(deadline) if deadline.isdigit() else None

    def get_remaining_time_in_millis(self) -> int:
        if self._deadline_ms is None:
            return 0
        return max(0, self._deadline_ms - int(time.time() * 1000))


def is_web_request(params: Any) -> bool:
    return isinstance(params, dict) and "__ow_method" in params and "__ow_headers" in params


def http_event(params: Mapping[str, Any], request_id: str, namespace: str) -> dict[str, Any]:
    """API Gateway's HTTP API event (payload format 2.0) for a web action's request."""
    call = WebCall(params)
    headers = dict(call.headers)
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for key, value in parse_qsl(call.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": call.path,
        "rawQueryString": call.query,
        "headers": headers,
        "requestContext": {
            "accountId": namespace,
            "apiId": "stratus",
            "domainName": call.server[0],
            "domainPrefix": call.server[0].split(".", 1)[0],
            "http": {
                "method": call.method,
                "path": call.path,
                "protocol": "HTTP/1.1",
                "sourceIp": headers.get("x-forwarded-for", "").split(",", 1)[0].strip(),
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if call.body:
        event.update(_event_body(call.body, headers.get("content-type")))
    return event


def _event_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    if is_binary_type(media_type(content_type)) and content_type is not None:
        return {"body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}
    try:
        return {"body": body.decode("utf-8"), "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"body": base64.b64encode(body).decode("ascii"), "isBase64Encoded": True}


def http_response(value: Any) -> dict[str, Any]:
    """A handler's return value for a web request, as the web action's `{statusCode, headers, body}`."""
    if not (isinstance(value, dict) and "statusCode" in value):
        return http_result(200, [("content-type", "application/json")], json.dumps(value).encode())
    pairs: list[tuple[str, str]] = []
    for source in (value.get("headers"), value.get("multiValueHeaders")):
        for name, item in (source or {}).items():
            pairs += [(str(name), _header_text(one)) for one in (item if isinstance(item, list) else [item])]
    pairs += [("set-cookie", str(cookie)) for cookie in value.get("cookies") or []]
    if not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.append(("content-type", "application/json"))
    return http_result(int(value["statusCode"]), pairs, _response_body(value))


def _header_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _response_body(value: Mapping[str, Any]) -> bytes:
    body = value.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return json.dumps(body).encode()
    if value.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")


def as_result(value: Any) -> Any:
    return value if isinstance(value, dict | list) else {"result": value}


class LambdaHandler:
    """The action function calling `handler(event, context)` for each activation."""

    def __init__(self, handler: Callable[[Any, LambdaContext], Any], memory_mb: int | None) -> None:
        self._handler = handler
        self._memory_mb = memory_mb

    def __call__(self, params: Any) -> Any:
        body = current_body()
        context = LambdaContext(body, self._memory_mb)
        if is_web_request(params):
            event = http_event(params, context.aws_request_id, str(body.get("namespace") or ""))
            return http_response(self._handler(event, context))
        return as_result(self._handler(params, context))


class LambdaLogHandler(logging.Handler):
    """Lambda's log line format, written to whatever sys.stdout is now (the activation's capture)."""

    def __init__(self) -> None:
        super().__init__()
        formatter = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s")
        formatter.datefmt = "%Y-%m-%dT%H:%M:%S"
        formatter.converter = time.gmtime
        self.setFormatter(formatter)
        self.addFilter(_request_id)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def _request_id(record: logging.LogRecord) -> bool:
    record.aws_request_id = current_body().get("activation_id", "")
    return True


def install_logging() -> None:
    """As Lambda's runtime: a root handler, so `logging.getLogger().info(...)` reaches the logs."""
    root = logging.getLogger()
    if not any(isinstance(h, LambdaLogHandler) for h in root.handlers):
        root.addHandler(LambdaLogHandler())
