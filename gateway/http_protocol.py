"""uvicorn's httptools protocol, with the writes of one pass of the event loop sent to the socket together.

uvicorn writes a response's status line and headers as soon as the app sends `http.response.start`, and
its body in a second write: two send(2) calls and two TCP segments per answer, and often two wake-ups of
the client. Here the writes made in one pass of the loop are joined and go out at the end of that pass in
one `writelines`, so a response's head and body leave together; nothing waits past the current pass.
Measured with tests/bench/bench_http_writes.py (11 alternating pairs, 32 clients): faster in 10, about
+10 % requests/s, the client's CPU per request about -10 %, the server's about -6 %.

A large streamed body does not pile up here: past FLUSH_BYTES the pending writes go out at once, so the
transport's own flow control (uvicorn pauses a sender when its buffer is full) sees them as before.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

FLUSH_BYTES = 64 * 1024


class JoinedWrites:
    """A transport whose writes within one pass of the loop go out as one `writelines` at its end."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []
        self._size = 0
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)
        self._size += len(data)
        if self._size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        pending, self._pending, self._size = self._pending, [], 0
        if pending and not self._transport.is_closing():
            self._transport.writelines(pending)

    def close(self) -> None:
        self.flush()  # what was written before the close still goes out, as with a bare transport
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self._transport, name)


class JoinedWritesProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(JoinedWrites(transport))  # type: ignore[arg-type]
