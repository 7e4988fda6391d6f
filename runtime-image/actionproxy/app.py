"""The Starlette app: POST /init once, POST /run per activation, GET /ping for readiness.

Two response modes, chosen per request:
- OpenWhisk (default): the body is exactly the result or `{"error": ...}`. The activation's output goes to
  the container's own stdout/stderr after the call, then the sentinel line on both streams after every
  /run and every failed /init (a successful /init writes no sentinel: its output belongs to the first run).
- Stratus envelope (header `X-Stratus-Envelope: 1`, on /init and /run): the body is
  `{"result": <that same body>, "logs": ["<timestamp> stdout: <text>", ...]}` with the same status code,
  and nothing is written to the container's streams.
"""

import json
import logging
from typing import Any, TextIO

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actionproxy.logcapture import ActivationLog, StreamCapture, write_out
from actionproxy.runner import MAX_THREADS, ActionRunner, Answer, error, to_json

log = logging.getLogger(__name__)

ENVELOPE_HEADER = "x-stratus-envelope"
JSON_TYPE = "application/json"


async def read_object(request: Request) -> dict[str, Any] | None:
    """The body as a JSON object ({} when empty), or None when it is not one."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None
    return body if isinstance(body, dict) else None


def envelope(answer: Answer, lines: list[str]) -> bytes:
    return b'{"result":' + answer.body + b',"logs":' + to_json(lines) + b"}"


class Proxy:
    """Ties the runner to HTTP: one ActivationLog per request, rendered in the mode the request asked for."""

    def __init__(self, real_streams: tuple[TextIO, TextIO] | None, max_threads: int) -> None:
        self.runner = ActionRunner(max_threads)
        self.capture = StreamCapture()
        self._real_streams = real_streams

    async def init(self, request: Request) -> Response:
        streams = self._start()
        activation = ActivationLog()
        body = await read_object(request)
        if body is None:
            answer = error(400, '/init expects a JSON object: {"value": {"code": ..., ...}}.')
        else:
            value = body.get("value")
            answer = self.runner.init(value if isinstance(value, dict) else {}, activation)
        return self._respond(request, answer, activation, streams, sentinels=answer.status != 200)

    async def run(self, request: Request) -> Response:
        streams = self._start()
        activation = ActivationLog()
        body = await read_object(request)
        if body is None:
            answer = error(400, '/run expects a JSON object: {"value": {...}, "activation_id": ..., ...}.')
        else:
            answer = await self.runner.run(body, activation)
        return self._respond(request, answer, activation, streams, sentinels=True)

    def close(self) -> None:
        """Put sys.stdout/sys.stderr back and stop the worker threads (tests build many apps)."""
        self.capture.uninstall()
        self.runner.close()

    def _start(self) -> tuple[TextIO, TextIO]:
        fallbacks = self.capture.install()  # each request: cheap, and survives anyone swapping the streams
        return self._real_streams or fallbacks

    @staticmethod
    def _respond(
        request: Request, answer: Answer, activation: ActivationLog, streams: tuple[TextIO, TextIO], *, sentinels: bool
    ) -> Response:
        lines = activation.close()
        if request.headers.get(ENVELOPE_HEADER) == "1":
            return Response(envelope(answer, lines), answer.status, media_type=JSON_TYPE)
        write_out(activation, *streams, sentinels=sentinels)
        return Response(answer.body, answer.status, media_type=JSON_TYPE)


async def ping(request: Request) -> Response:
    return Response(b'{"ok":true}', media_type=JSON_TYPE)


def create_app(*, real_streams: tuple[TextIO, TextIO] | None = None, max_threads: int = MAX_THREADS) -> Starlette:
    """A fresh proxy with no action. It routes sys.stdout/sys.stderr from its first request until
    `app.state.close()`. `real_streams` (stdout, stderr) receive OpenWhisk-mode output; by default, the
    streams that were sys.stdout/sys.stderr when it started routing."""
    proxy = Proxy(real_streams, max_threads)
    app = Starlette(
        routes=[
            Route("/init", proxy.init, methods=["POST"]),
            Route("/run", proxy.run, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
        ]
    )
    app.state.close = proxy.close
    return app


app = create_app()  # for uvicorn; routes nothing until its first request
