"""The gateway's HTTP protocol (gateway.http_protocol): one write per response, answers unchanged.

A real uvicorn server on loopback, raw sockets and httpx as clients.
"""

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from gateway.http_protocol import FLUSH_BYTES, JoinedWrites, JoinedWritesProtocol
from standalone.embedded import free_port

STREAMED = [bytes([i]) * 40_000 for i in range(50)]  # 2 MB in chunks, far past FLUSH_BYTES


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for chunk in STREAMED:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b'{"ok":true}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if path == "/close":
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def server() -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=JoinedWritesProtocol, log_level="warning")
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve())
    while not served.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        served.should_exit = True
        await task


def read_response(sock: socket.socket) -> list[bytes]:
    """What each recv() returned until a whole small response (head and 11-byte body) was read."""
    reads: list[bytes] = []
    while not (b"".join(reads).partition(b"\r\n\r\n")[2].endswith(b"}")):
        data = sock.recv(65536)
        assert data, "the connection closed before the response was whole"
        reads.append(data)
    return reads


async def test_a_response_arrives_whole_in_one_read_and_keep_alive_goes_on(server: str) -> None:
    host, port = server.split(":")

    def exchange() -> list[list[bytes]]:
        with socket.create_connection((host, int(port))) as sock:
            answers = []
            for _ in range(20):
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                answers.append(read_response(sock))
            return answers

    answers = await asyncio.to_thread(exchange)
    assert all(len(reads) == 1 for reads in answers), [len(r) for r in answers]
    assert all(reads[0].startswith(b"HTTP/1.1 200") and reads[0].endswith(b'{"ok":true}') for reads in answers)


async def test_a_streamed_body_arrives_complete_and_a_closing_response_is_sent_before_the_close(server: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{server}") as client:
        streamed = await client.get("/stream")
        closing = await client.get("/close")
    assert streamed.content == b"".join(STREAMED)
    assert closing.json() == {"ok": True} and closing.headers["connection"] == "close"


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[list[bytes]] = []

    def writelines(self, list_of_data: Any) -> None:
        self.sent.append(list(list_of_data))

    def is_closing(self) -> bool:
        return False


async def test_writes_of_one_pass_go_out_together_at_its_end_and_large_ones_at_once() -> None:
    transport = RecordingTransport()
    joined = JoinedWrites(transport)
    joined.write(b"head")
    joined.write(b"body")
    assert transport.sent == []  # still this pass
    await asyncio.sleep(0)
    assert transport.sent == [[b"head", b"body"]]
    joined.write(b"x" * FLUSH_BYTES)
    assert transport.sent[-1] == [b"x" * FLUSH_BYTES]  # no waiting for the end of the pass
    await asyncio.sleep(0)
    assert len(transport.sent) == 2  # and nothing sent twice
