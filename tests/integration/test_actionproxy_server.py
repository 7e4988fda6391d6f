"""actionproxy.server, the proxy's own threaded HTTP/1.1 server, on a real loopback socket."""

import asyncio
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import pytest

from actionproxy.__main__ import listen
from actionproxy.app import create_app
from actionproxy.server import Server

CODE = "import time\ndef main(a):\n    time.sleep(a.get('sleep', 0))\n    return {'echo': a}\n"
ASYNC = "import asyncio\nasync def main(a):\n    await asyncio.sleep(a.get('sleep', 0))\n    return {'echo': a}\n"


@contextmanager
def serving(listening_fd: int | None = None) -> Iterator[Server]:
    """The proxy's app served on a thread: on loopback port 0, or on a socket already listening; its
    changes to the interpreter (path, working directory, the action's module) undone after."""
    app, path, cwd = create_app(), list(sys.path), os.getcwd()
    if listening_fd is None:
        server = Server(app.handle, "127.0.0.1", 0)  # listens from here on
    else:
        server = Server(app.handle, listening_fd=listening_fd)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(10)
        app.close()
        sys.path[:] = path
        os.chdir(cwd)
        sys.modules.pop("main__", None)


@pytest.fixture
def address() -> Iterator[str]:
    with serving() as server:
        yield f"http://127.0.0.1:{server.port}"


async def raw(address: str, request: bytes) -> bytes:
    host, port = address.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    answer = await asyncio.wait_for(reader.read(), 10)  # until the server closes
    writer.close()
    return answer


async def test_init_then_runs_on_one_kept_alive_connection(address: str) -> None:
    connections = 0

    async def connected(*_: object) -> None:
        nonlocal connections
        connections += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(connected)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), trace_configs=[trace]) as session:
        async with session.post(address + "/init", json={"value": {"code": CODE}}) as init:
            assert init.status == 200 and await init.json() == {"ok": True}
        for n in range(3):
            async with session.post(address + "/run", json={"value": {"n": n}}) as run:
                assert run.status == 200 and await run.json() == {"echo": {"n": n}}
                assert run.headers["content-type"] == "application/json"
    assert connections == 1


@pytest.mark.parametrize("code", [CODE, ASYNC], ids=["sync", "async"])
async def test_concurrent_runs_are_served_side_by_side(address: str, code: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(address + "/init", json={"value": {"code": code}}) as init:
            assert init.status == 200
        started = time.monotonic()

        async def one(n: int) -> dict[str, object]:
            async with session.post(address + "/run", json={"value": {"n": n, "sleep": 0.5}}) as run:
                return dict(await run.json())

        answers = await asyncio.gather(*(one(n) for n in range(8)))
        assert [a["echo"]["n"] for a in answers] == list(range(8))  # type: ignore[index]
        assert time.monotonic() - started < 8 * 0.5  # not one after another


async def test_a_chunked_body_with_expect_continue(address: str) -> None:
    body = json.dumps({"value": {"code": CODE}}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:])) + b"0\r\n\r\n"
    head = (
        b"POST /init HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    answer = await raw(address, head + chunks)
    assert answer.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert answer.endswith(b'{"ok":true}')


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /ping HTTP/2.0\r\n\r\n", b"505"),
        (b"POST /run HTTP/1.1\r\nContent-Length: nope\r\n\r\n", b"400"),
        (b"GET /ping HTTP/1.1\r\nbroken header\r\n\r\n", b"400"),
    ],
)
async def test_a_malformed_request_gets_an_error_and_a_close(address: str, request_bytes: bytes, status: bytes) -> None:
    answer = await raw(address, request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status) and b"connection: close" in answer


async def test_unknown_routes_methods_and_http_1_0(address: str) -> None:
    assert (await raw(address, b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n")).startswith(b"HTTP/1.1 404")
    assert (await raw(address, b"GET /run HTTP/1.1\r\nConnection: close\r\n\r\n")).startswith(b"HTTP/1.1 405")
    ping = await raw(address, b"GET /ping HTTP/1.0\r\n\r\n")  # 1.0 without keep-alive: answered, then closed
    assert ping.startswith(b"HTTP/1.1 200 OK") and ping.endswith(b'{"ok":true}')


def test_a_request_sent_before_the_server_accepts_is_answered() -> None:
    """`python -m actionproxy` listens before its imports: a connection made then waits, it is not refused."""
    listening = listen(0)
    with socket.socket(fileno=os.dup(listening)) as probe:
        port = probe.getsockname()[1]
    body = json.dumps({"value": {"code": CODE}}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:  # nothing accepts yet
        client.sendall(b"POST /init HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body))
        with serving(listening):
            answer = client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'{"ok":true}')
