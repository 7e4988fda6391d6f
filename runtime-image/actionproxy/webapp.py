"""A whole web app as one action: an ASGI (FastAPI, Starlette, Django's ASGI handler) or WSGI (Flask,
Django) entry point, served from a web action's `__ow_*` arguments, answering `{statusCode, headers, body}`.

Which entry points are apps: an async callable taking (scope, receive, send) is ASGI; a callable taking
(environ, start_response), or any object with a `wsgi_app` attribute (Flask), is WSGI. Everything else is
an ordinary `main(args)`.

The request comes from OpenWhisk's web-action arguments: `__ow_method`, `__ow_headers`, `__ow_path` (the
path after the action's URL), and in raw mode (`raw-http: true`, what web apps should use) `__ow_query` and
`__ow_body` exactly as sent (base64 for binary and JSON types, as the gateway encodes them). Without raw
mode the query string is rebuilt from the string arguments and only a non-JSON, non-form body survives.
The response body is base64 for binary content types, text otherwise; repeated headers (Set-Cookie) are
lists. ASGI apps get their lifespan startup once, before their first request. The app is mounted at the
action's URL prefix, which the gateway sends in `X-Forwarded-Prefix`: SCRIPT_NAME (WSGI) and root_path (ASGI),
so the app's cookie paths and generated URLs stay inside the action.
"""

import base64
import binascii
import inspect
import io
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger(__name__)

Message = dict[str, Any]
TEXT_TYPES = frozenset(  # the gateway's list (gateway/web_request.py): both sides must agree on base64
    {
        "application/json",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/xml",
        "application/xhtml+xml",
        "application/x-www-form-urlencoded",
        "image/svg+xml",
    }
)
HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_binary_type(mtype: str) -> bool:
    if mtype.startswith("text/") or mtype.endswith(("+json", "+xml")):
        return False
    return mtype not in TEXT_TYPES


def is_json_type(mtype: str) -> bool:
    return mtype == "application/json" or mtype.endswith("+json")


def app_kind(entry: Any) -> Literal["asgi", "wsgi"] | None:
    if inspect.isclass(entry):
        return None
    if hasattr(entry, "wsgi_app"):
        return "wsgi"
    try:
        parameters = list(inspect.signature(entry).parameters.values())
    except (TypeError, ValueError):
        return None
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    call = entry if inspect.isfunction(entry) or inspect.ismethod(entry) else type(entry).__call__
    if len(positional) == 3 and inspect.iscoroutinefunction(call):
        return "asgi"
    if len(positional) == 2 and positional[0].name == "environ":
        return "wsgi"
    return None


def adapt(entry: Any) -> Callable[[Any], Any] | None:
    """The action function serving `entry`, or None when it is not a web app."""
    kind = app_kind(entry)
    if kind == "asgi":
        return AsgiAction(entry).__call__
    if kind == "wsgi":
        return WsgiAction(entry).__call__
    return None


class WebCall:
    """One request, read from the web-action arguments."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        headers = params.get("__ow_headers")
        self.headers: dict[str, str] = (
            {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
        )
        self.method = str(params.get("__ow_method") or "get").upper()
        # the action's URL prefix, set by the gateway alone: the app's SCRIPT_NAME / root_path
        self.prefix = self.headers.get("x-forwarded-prefix", "").rstrip("/")
        self.path = str(params.get("__ow_path") or "") or "/"
        self.query = _query(params)
        self.body = _body(params, self.headers.get("content-type"))
        self.scheme = self.headers.get("x-forwarded-proto", "http")
        host, _, port = self.headers.get("host", "localhost").partition(":")
        self.server = (host, int(port) if port.isdigit() else (443 if self.scheme == "https" else 80))


def _query(params: Mapping[str, Any]) -> str:
    if "__ow_query" in params:
        return str(params["__ow_query"] or "")
    pairs = [(k, v) for k, v in params.items() if not k.startswith("__ow_") and isinstance(v, str)]
    return urlencode(pairs)


def _body(params: Mapping[str, Any], content_type: str | None) -> bytes:
    value = params.get("__ow_body")
    if value is None or value == "":
        return b""
    if not isinstance(value, str):  # non-raw mode: a JSON body that was not an object
        return _json_bytes(value)
    mtype = media_type(content_type)
    if is_binary_type(mtype) or ("__ow_query" in params and is_json_type(mtype)):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value.encode()
    return value.encode()


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


def http_result(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> dict[str, Any]:
    """`{statusCode, headers, body}` for the gateway's .http transcoder."""
    grouped: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for name, value in headers:
        if name.lower() in HOP_HEADERS:
            continue
        names.setdefault(name.lower(), name)
        grouped.setdefault(name.lower(), []).append(value)
    out: dict[str, Any] = {names[k]: v[0] if len(v) == 1 else v for k, v in grouped.items()}
    content_type = next((v[0] for k, v in grouped.items() if k == "content-type"), None)
    if is_binary_type(media_type(content_type)) and body:
        text = base64.b64encode(body).decode("ascii")
    else:
        text = body.decode("utf-8", errors="replace")
    return {"statusCode": status, "headers": out, "body": text}


class AsgiAction:
    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self._app = app
        self._state: dict[str, Any] = {}
        self._started: asyncio.Future[None] | None = None
        self._lifespan_task: asyncio.Task[None] | None = None  # referenced: the loop keeps only weak ones

    async def __call__(self, params: Any) -> dict[str, Any]:
        import asyncio  # loaded by then: this runs on actionproxy.aioloop

        await self._startup()
        call = WebCall(params if isinstance(params, dict) else {})
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": call.method,
            "scheme": call.scheme,
            "path": call.prefix + call.path,  # the full path, as uvicorn gives it: routing strips root_path
            "raw_path": quote(call.prefix + call.path).encode(),
            "query_string": call.query.encode(),
            "root_path": call.prefix,
            "headers": _asgi_headers(call),
            "client": None,
            "server": call.server,
            "state": dict(self._state),
        }
        response = _AsgiResponse()
        done = asyncio.Event()
        sent_body = False

        async def receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": call.body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        try:
            await self._app(scope, receive, response.send)
        finally:
            done.set()
        return http_result(response.status, response.headers, b"".join(response.chunks))

    async def _startup(self) -> None:
        import asyncio

        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            self._lifespan_task = asyncio.get_running_loop().create_task(self._lifespan(self._started))
        await asyncio.shield(self._started)

    async def _lifespan(self, started: "asyncio.Future[None]") -> None:
        """Startup once; the app's shutdown never comes (the container is simply removed)."""
        import asyncio

        forever = asyncio.Event()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self._state}
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "lifespan.startup"}
            await forever.wait()
            return {"type": "lifespan.shutdown"}

        async def send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                log.warning("the app's lifespan startup failed: %s", message.get("message", ""))
            if message["type"].startswith("lifespan.startup") and not started.done():
                started.set_result(None)

        try:
            await self._app(scope, receive, send)
        except Exception as exc:  # apps without lifespan support raise on the unknown scope type
            log.info("the app does not take lifespan events (%s)", exc)
        finally:
            if not started.done():
                started.set_result(None)


def _asgi_headers(call: WebCall) -> list[tuple[bytes, bytes]]:
    pairs = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in call.headers.items()]
    pairs = [(k, v) for k, v in pairs if k.decode() not in HOP_HEADERS]
    if call.body:
        pairs.append((b"content-length", str(len(call.body)).encode()))
    return pairs


class _AsgiResponse:
    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            self.chunks.append(bytes(message.get("body", b"")))


class WsgiAction:
    """Runs on the proxy's worker threads (a sync action function), like any sync `main`."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, params: Any) -> dict[str, Any]:
        call = WebCall(params if isinstance(params, dict) else {})
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return chunks.append

        result = self._app(wsgi_environ(call), start_response)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started or ["500 Internal Server Error", []]
        return http_result(int(str(status).split(" ", 1)[0]), headers, b"".join(chunks))


def wsgi_environ(call: WebCall) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": call.method,
        "SCRIPT_NAME": call.prefix.encode("utf-8").decode("latin-1"),
        "PATH_INFO": call.path.encode("utf-8").decode("latin-1"),  # PEP 3333: bytes as latin-1
        "QUERY_STRING": call.query,
        "SERVER_NAME": call.server[0],
        "SERVER_PORT": str(call.server[1]),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": call.headers.get("x-forwarded-for", "127.0.0.1").split(",")[0].strip(),
        "CONTENT_LENGTH": str(len(call.body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": call.scheme,
        "wsgi.input": io.BytesIO(call.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in call.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key not in ("CONTENT_LENGTH", "TRANSFER_ENCODING", "CONNECTION"):
            environ[f"HTTP_{key}"] = value
    return environ
