"""A redis-server of one test's own, on a UNIX socket: for what a shared server cannot show (a password,
TLS, server-wide counters no other client adds to)."""

import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from standalone.embedded import redis_server_binary


@contextmanager
def private_redis(*options: str, binary: str | None = None) -> Iterator[Path]:
    """Its socket's path, once the server listens (on its other ports too: Redis opens them first);
    `options` go to redis-server as given. Raises RuntimeError, with the server's output, when it exits
    or does not listen within 10 s."""
    binary = binary or redis_server_binary()
    with tempfile.TemporaryDirectory(prefix="redis-") as data:  # short: a socket path has 107 bytes
        sock = Path(data) / "redis.sock"
        argv = [binary, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
        log = Path(data) / "redis.log"
        with log.open("wb") as out:
            server = subprocess.Popen([*argv, "--save", "", "--dir", data, *options], stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 10
            while not sock.exists() and server.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if not sock.exists():
                raise RuntimeError(f"{binary} did not listen on {sock}: {log.read_text(errors='replace')[-2000:]}")
            yield sock
        finally:
            server.terminate()
            server.wait(10)
