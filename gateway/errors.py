"""Turns every error into OpenWhisk's `{"error", "code"}` body, in one place.

`code` is the request's transaction id (header X-Request-ID, generated when absent).
"""

import logging
import secrets
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import errors as E

log = logging.getLogger(__name__)

STATUS_OF: list[tuple[type[E.StratusError], int]] = [
    (E.BadRequest, 400),
    (E.BadMessage, 400),
    (E.Unauthorized, 401),
    (E.Forbidden, 403),
    (E.NotFound, 404),
    (E.Conflict, 409),
    (E.TooLarge, 413),
    (E.UnsupportedMediaType, 415),
    (E.Throttled, 429),
    (E.Unavailable, 503),
    (E.StoreUnavailable, 503),
]


def new_transaction_id() -> str:
    return secrets.token_hex(16)  # 32 alphanumerics, as OpenWhisk's


def given_transaction_id(headers: Mapping[bytes, bytes]) -> str:
    """X-Request-ID (ignored when it starts with `sid_`), or a new one."""
    given = headers.get(b"x-request-id", b"").decode("latin-1")
    return given if given and not given.startswith("sid_") else new_transaction_id()


def transaction_id(request: Request) -> str:
    tid = getattr(request.state, "transaction_id", None)
    return tid if isinstance(tid, str) else new_transaction_id()


def error_json(status: int, message: str, tid: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "code": tid}, status_code=status, headers=headers)


def error_response(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return error_json(status, message, transaction_id(request), headers)


def stratus_error_response(exc: E.StratusError, tid: str) -> JSONResponse:
    status = status_of(exc)
    if status >= 500:
        log.warning("request %s failed: %s", tid, exc)
    headers = {"WWW-Authenticate": 'Basic realm="Stratus"'} if status == 401 else None
    if status == 413:  # close rather than drain the rest of an oversized upload for keep-alive
        headers = {"Connection": "close"}
    return error_json(status, str(exc), tid, headers)


def status_of(exc: E.StratusError) -> int:
    return next((status for kind, status in STATUS_OF if isinstance(exc, kind)), 500)


async def _stratus_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, E.StratusError)
    return stratus_error_response(exc, transaction_id(request))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return error_response(request, 400, f"The request content was malformed: {problems}")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = {404: "The requested resource does not exist.", 405: "The method is not allowed on this resource."}
    return error_response(request, exc.status_code, message.get(exc.status_code, str(exc.detail)), exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("request %s failed unexpectedly", transaction_id(request))
    return error_response(request, 500, "The server encountered an internal error.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(E.StratusError, _stratus_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


class TransactionIdMiddleware:
    """Takes X-Request-ID (ignored when it starts with `sid_`) or mints one, and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tid = given_transaction_id(dict(scope["headers"]))
        scope.setdefault("state", {})["transaction_id"] = tid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", tid.encode("latin-1")))
            await send(message)

        await self.app(scope, receive, send_with_id)
