"""Serving one HTTP request with a web action: shared by `/api/v1/web/...` and API routes.

Find the owner namespace and the exported action, answer CORS preflights, check `require-whisk-auth`,
build the `__ow_*` arguments (without platform credentials or other namespaces' cookies: gateway.web_headers),
then one blocking pass through the bus (gateway.invoke.invoke_blocking) and shape the record into the HTTP
response, its cookies scoped to the namespace. The activation runs as the action's owner.
"""

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import Response

from core import limits as L
from core.errors import BadRequest, NotFound, StratusError, TooLarge, Unauthorized
from core.models import Action, Activation, Cors, Namespace
from core.packages import check_path
from gateway.deps import Backends
from gateway.errors import error_response, status_of
from gateway.invoke import ACTIVATION_HEADER, invoke_blocking
from gateway.web_cors import cors_headers
from gateway.web_headers import CookieScope, action_headers, scoped_response_headers
from gateway.web_request import WebRequest, web_params
from gateway.web_response import WebAnswer, shape

log = logging.getLogger(__name__)

NOT_READY = "The response is not ready yet; the activation goes on (see its record)."
FAILED = "There was an error processing your request."
AUTH_HEADER = "x-require-whisk-auth"
NO_BODY_STATUSES = frozenset({204, 304})


@dataclass(frozen=True)
class WebTarget:
    namespace: str
    package: str
    action: str
    extension: str  # json, html, http, text, svg
    extra_path: str  # `__ow_path`
    projection: str = ""  # the part of the result to answer with (not for .http)
    path_params: Mapping[str, str] = field(default_factory=dict)
    cors: Cors | None = None  # None: no automatic CORS headers, OPTIONS is invoked
    url_prefix: str = ""  # the URL path up to the action: the web app's SCRIPT_NAME / root_path
    namespace_root: str = "/"  # the URL space of the namespace's web actions (cookie paths stay inside)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.package}/{self.action}"


class NotExported(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__("web action", key)
        self.args = (
            f"The requested web action '{key}' does not exist, or the action is not exported to the web "
            "(it needs the annotation web-export: true).",
        )


def truthy(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


async def find_web_action(request: Request, b: Backends, target: WebTarget) -> tuple[Namespace, Action]:
    owner = await b.owners.get(target.namespace)
    if owner is None:
        raise NotExported(target.key)
    path = target.action if target.package == "default" else f"{target.package}/{target.action}"
    try:
        action = await b.actions.get(owner.name, check_path(path))
    except BadRequest:
        raise NotExported(target.key) from None
    if action is None or not truthy(action.annotation("web-export")):
        raise NotExported(target.key)
    return owner, action


async def serve(request: Request, b: Backends, target: WebTarget) -> Response:
    owner, action = await find_web_action(request, b, target)
    cors = None if truthy(action.annotation("web-custom-options")) else target.cors
    origin_headers = _cors(request, cors)
    if request.method == "OPTIONS" and cors is not None:
        return _respond(WebAnswer(200, [], b""), origin_headers)
    # OPTIONS reaches the action only with custom options, and then without auth, as in OpenWhisk
    checked = request.method != "OPTIONS" and _requires_auth(action)
    user = await _check_auth(request, b, owner, action) if checked else None
    web_request = await _web_request(request, target, user, checked_auth=checked)
    params = web_params(action, web_request, raw=truthy(action.annotation("raw-http")))
    activation_id, record = await invoke_blocking(b, owner, action, params, wait_s=b.settings.blocking_wait_s)
    headers = {ACTIVATION_HEADER: activation_id} | dict(origin_headers)
    if record is None:
        return error_response(request, 202, NOT_READY, headers)
    try:
        answer = answer_of(record, target)
    except StratusError as exc:
        return error_response(request, status_of(exc), str(exc), headers)
    scope = CookieScope(owner.name, target.namespace_root, target.url_prefix)
    answer = WebAnswer(answer.status, scoped_response_headers(answer.headers, scope), answer.body)
    return _respond(answer, [*origin_headers, (ACTIVATION_HEADER, activation_id)])


def answer_of(record: Activation, target: WebTarget) -> WebAnswer:
    """Success: the result; application error: its `error` value (which may itself be an HTTP response)."""
    status = record.response.status
    result = record.response.result
    if status == "success":
        return shape(target.extension, result, target.projection)
    if status == "application error" and isinstance(result, dict) and "error" in result:
        return shape(target.extension, result["error"], target.projection)
    log.info("web activation %s ended with %s", record.activation_id, status)
    raise BadRequest(FAILED)  # a developer or whisk error: 400, as OpenWhisk answers web requests


def _cors(request: Request, cors: Cors | None) -> list[tuple[str, str]]:
    if cors is None:
        return []
    return cors_headers(cors, request.headers.get("origin"), request.headers.get("access-control-request-headers"))


def _requires_auth(action: Action) -> bool:
    required = action.annotation("require-whisk-auth")
    return required is not None and required is not False


async def _check_auth(request: Request, b: Backends, owner: Namespace, action: Action) -> str | None:
    """`require-whisk-auth`: true -> the owner namespace's own Basic key; a string or number -> that value in
    the X-Require-Whisk-Auth header (compared in constant time). Returns the authenticated namespace, if any."""
    required = action.annotation("require-whisk-auth")
    if required is True:
        who = await b.auth.authenticate(request.headers.get("authorization"))
        if who.name != owner.name:
            raise Unauthorized("The supplied authentication is not valid for this web action.")
        return who.name
    given = request.headers.get(AUTH_HEADER, "").encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(given, str(required).encode("utf-8", "surrogateescape")):
        raise Unauthorized("This web action requires the X-Require-Whisk-Auth header with its secret.")
    return None


async def _web_request(request: Request, target: WebTarget, user: str | None, *, checked_auth: bool) -> WebRequest:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > L.PAYLOAD_MAX_BYTES:
        raise TooLarge("request", int(declared), L.PAYLOAD_MAX_BYTES)
    body = await request.body()
    if len(body) > L.PAYLOAD_MAX_BYTES:
        raise TooLarge("request", len(body), L.PAYLOAD_MAX_BYTES)
    return WebRequest(
        method=request.method,
        headers=action_headers(request.headers, target.namespace, target.url_prefix, checked_auth=checked_auth),
        path=target.extra_path,
        query_string=request.url.query,
        body=body,
        user=user,
        path_params=target.path_params,
    )


def _respond(answer: WebAnswer, extra: list[tuple[str, str]]) -> Response:
    """Repeated headers (Set-Cookie) survive; CORS headers the action set itself win over ours."""
    own = {name.lower() for name, _ in answer.headers}
    pairs = answer.headers + [(name, value) for name, value in extra if name.lower() not in own]
    response = Response(content=answer.body, status_code=answer.status)
    raw = [(name.lower().encode("latin-1", "replace"), value.encode()) for name, value in pairs]
    if answer.status not in NO_BODY_STATUSES and answer.status >= 200:
        raw.append((b"content-length", str(len(answer.body)).encode()))
    response.raw_headers = raw
    return response
