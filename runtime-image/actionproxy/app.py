"""The proxy's routes: POST /init once, POST /run per activation, GET /ping for readiness.

No web framework, not even asyncio: a cold start waits for this module to import, and Starlette + uvicorn,
then asyncio, cost more to import than everything else the proxy loads (measured, README). `ProxyApp.handle`
serves actionproxy.server's threads in a container; the same app is an ASGI app for tests in-process
(httpx.ASGITransport), which then run each request on a worker thread as the server would.

Two response modes, chosen per request:
- OpenWhisk (default): the body is exactly the result or `{"error": ...}`. The activation's output goes to
  the container's own stdout/stderr after the call, then the sentinel line on both streams after every
  /run and every failed /init (a successful /init writes no sentinel: its output belongs to the first run).
- Stratus envelope (header `X-Stratus-Envelope: 1`, on /init and /run): the body is
  `{"result": <that same body>, "logs": ["<timestamp> stdout: <text>", ...]}` with the same status code,
  and nothing is written to the container's streams.
"""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TextIO

from actionproxy.logcapture import ActivationLog, StreamCapture, write_out
from actionproxy.runner import ActionRunner, Answer, error, to_json
from actionproxy.server import Headers

ENVELOPE_HEADER = b"x-stratus-envelope"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def read_object(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object ({} when empty), or None when it is not one."""
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
    return body if isinstance(body, dict) else None


def envelope(answer: Answer, lines: list[str]) -> bytes:
    return b'{"result":' + answer.body + b',"logs":' + to_json(lines) + b"}"


class Proxy:
    """Ties the runner to requests: one ActivationLog per request, rendered in the mode the request asked for."""

    def __init__(self, real_streams: tuple[TextIO, TextIO] | None) -> None:
        self.runner = ActionRunner()
        self.capture = StreamCapture()
        self._real_streams = real_streams

    def init(self, raw: bytes, enveloped: bool) -> Answer:
        streams = self._start()
        activation = ActivationLog()
        body = read_object(raw)
        if body is None:
            answer = error(400, '/init expects a JSON object: {"value": {"code": ..., ...}}.')
        else:
            value = body.get("value")
            answer = self.runner.init(value if isinstance(value, dict) else {}, activation)
        return self._respond(answer, activation, streams, enveloped, sentinels=answer.status != 200)

    def run(self, raw: bytes, enveloped: bool) -> Answer:
        streams = self._start()
        activation = ActivationLog()
        body = read_object(raw)
        if body is None:
            answer = error(400, '/run expects a JSON object: {"value": {...}, "activation_id": ..., ...}.')
        else:
            answer = self.runner.run(body, activation)
        return self._respond(answer, activation, streams, enveloped, sentinels=True)

    def close(self) -> None:
        self.capture.uninstall()

    def _start(self) -> tuple[TextIO, TextIO]:
        fallbacks = self.capture.install()  # each request: cheap, and survives anyone swapping the streams
        return self._real_streams or fallbacks

    @staticmethod
    def _respond(
        answer: Answer, activation: ActivationLog, streams: tuple[TextIO, TextIO], enveloped: bool, *, sentinels: bool
    ) -> Answer:
        lines = activation.close()
        if enveloped:
            return Answer(answer.status, envelope(answer, lines))
        write_out(activation, *streams, sentinels=sentinels)
        return answer


class ProxyApp:
    """The routes around one Proxy. `close()` puts sys.stdout/sys.stderr back (tests build many apps)."""

    def __init__(self, proxy: Proxy) -> None:
        self.proxy = proxy

    def handle(self, method: str, path: str, headers: Headers, body: bytes) -> tuple[int, Headers, bytes]:
        """One request, on the calling thread (actionproxy.server's Handler)."""
        answer = self._answer(method, path, (ENVELOPE_HEADER, b"1") in headers, body)
        return answer.status, [(b"content-type", b"application/json")], answer.body

    def _answer(self, method: str, path: str, enveloped: bool, body: bytes) -> Answer:
        if path == "/run" and method == "POST":
            return self.proxy.run(body, enveloped)
        if path == "/init" and method == "POST":
            return self.proxy.init(body, enveloped)
        if path == "/ping" and method in ("GET", "HEAD"):
            return Answer(200, b'{"ok":true}')
        if path in ("/run", "/init", "/ping"):
            return error(405, f"{method} is not allowed on {path}.")
        return error(404, f"{path} is not a route of the action proxy (/init, /run, /ping).")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI, for tests in-process: each request runs on a worker thread, as on the server's threads."""
        import asyncio  # already imported by whoever runs ASGI

        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _body(receive)
        status, headers, payload = await asyncio.to_thread(
            self.handle, scope["method"], scope["path"], list(scope.get("headers", [])), body
        )
        headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def close(self) -> None:
        self.proxy.close()


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(*, real_streams: tuple[TextIO, TextIO] | None = None) -> ProxyApp:
    """A fresh proxy with no action. It routes sys.stdout/sys.stderr from its first request until
    `close()`. `real_streams` (stdout, stderr) receive OpenWhisk-mode output; by default, the
    streams that were sys.stdout/sys.stderr when it started routing."""
    return ProxyApp(Proxy(real_streams))
