"""The API server processes of `stratus standalone`: `python -m gateway` workers sharing one socket.

The standalone's own process runs the controller and the invoker; the API (the largest share of the
platform's CPU per activation) runs in worker processes beside it, so the two use both cores instead of
sharing one event loop (tests/bench/bench_throughput.py). The supervisor binds the listening socket
itself (SO_REUSEADDR: a restart right after a stop works while old connections sit in TIME_WAIT) and
each worker inherits it, so the kernel spreads connections over the workers.

Workers run in sessions of their own, so a Ctrl-C reaches only the supervisor, which stops them first
(they finish the requests they hold, blocking ones included, while the invoker still runs) and only then
the services behind them. A worker that dies on its own stops the whole platform, loudly; a supervisor
that dies takes its workers with it (PR_SET_PDEATHSIG).
"""

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from stratus.errors import StratusError

log = logging.getLogger(__name__)

STOP_GRACE_S = 75.0  # past the longest blocking wait (60 s)
READY_TIMEOUT_S = 60.0
PR_SET_PDEATHSIG = 1


class WorkerError(StratusError):
    pass


def listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise WorkerError(f"{host}:{port} is in use (is Stratus already running?); stop it or pass --port.") from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


_prctl: Any = None
with contextlib.suppress(OSError, AttributeError):  # not Linux: workers outlive a supervisor killed with SIGKILL
    _prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not between fork and exec


def die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor dies, even by SIGKILL."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class GatewayWorkers:
    def __init__(self, count: int, sock: socket.socket, env: Mapping[str, str], log_dir: Path) -> None:
        self._count = count
        self._sock = sock
        self._env = env  # STRATUS_* of every worker; STRATUS_GATEWAY_ID gets a worker number appended
        self._log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        fd = self._sock.fileno()
        for n in range(self._count):
            env = {**os.environ, **self._env, "STRATUS_LISTEN_FD": str(fd)}
            env["STRATUS_GATEWAY_ID"] = f"{self._env['STRATUS_GATEWAY_ID']}-{n}"
            with (self._log_dir / f"gateway-{n}.log").open("ab") as out:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "gateway"],
                        env=env,
                        pass_fds=(fd,),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=die_with_parent,  # async-signal-safe enough: one foreign call, resolved before
                    )
                )

    async def wait_ready(self, url: str) -> None:
        """Until the API answers; raises when a worker exited instead."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT_S
        async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
            while loop.time() < deadline:
                self.check_alive()
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/api/v1")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise WorkerError(f"the API did not answer at {url} within {READY_TIMEOUT_S:.0f} s; see {self._log_dir}")

    def check_alive(self) -> None:
        for n, process in enumerate(self.processes):
            if process.poll() is not None:
                tail = (self._log_dir / f"gateway-{n}.log").read_text(errors="replace")[-2000:]
                raise WorkerError(f"API worker {n} exited ({process.returncode}); its log ends with:\n{tail}")

    async def watch(self, stop: asyncio.Event) -> None:
        """Until `stop`; a worker that exits meanwhile stops the platform."""
        while not stop.is_set():
            try:
                self.check_alive()
            except WorkerError:
                stop.set()
                raise
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.wait_for(asyncio.to_thread(process.wait), STOP_GRACE_S)
            except TimeoutError:
                log.warning("API worker %s did not stop in %.0f s; killed", process.pid, STOP_GRACE_S)
                process.kill()
                await asyncio.to_thread(process.wait)
        self._sock.close()
