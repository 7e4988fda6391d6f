"""A redis-server of one test's own, on a UNIX socket only: for what a shared server cannot show (a
password, server-wide counters no other client adds to)."""

import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from standalone.embedded import redis_server_binary


@contextmanager
def private_redis(*options: str) -> Iterator[Path]:
    """Its socket's path, once the server listens; `options` go to redis-server as given."""
    with tempfile.TemporaryDirectory(prefix="redis-") as data:  # short: a socket path has 107 bytes
        sock = Path(data) / "redis.sock"
        argv = [redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
        server = subprocess.Popen([*argv, "--save", "", "--dir", data, *options])
        try:
            deadline = time.monotonic() + 10
            while not sock.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            if not sock.exists():
                raise RuntimeError(f"{argv[0]} did not listen on {sock} within 10 s")
            yield sock
        finally:
            server.terminate()
            server.wait(10)
