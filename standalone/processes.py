"""The service processes of `stratus standalone`: `python -m gateway` workers and `python -m controller`.

The standalone's own process runs the invoker; the API workers and the controller run beside it, each on
an event loop of its own, so the platform uses both cores and one busy loop does not delay the others'
round trips (measured: with the controller on the invoker's loop, an invocation waited 24 ms p50 between
the gateway and its Dispatch at 570/s; tests/bench/bench_throughput.py). The supervisor binds the API's
listening socket itself (SO_REUSEADDR: a restart right after a stop works while old connections sit in
TIME_WAIT) and each API worker inherits it, so the kernel spreads connections over the workers.

Children run in sessions of their own, so a Ctrl-C reaches only the supervisor, which stops the API
workers first (they finish the requests they hold, blocking ones included, while the services behind
them still run) and only then the rest. A child that dies on its own stops the whole platform, loudly; a
supervisor that dies takes its children with it (PR_SET_PDEATHSIG).
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from core.errors import StratusError

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


@dataclass(frozen=True)
class ServiceProcess:
    """`python -m <module>` with these STRATUS_* settings (on top of this process's environment)."""

    name: str  # also its log file's: <log dir>/<name>.log
    module: str
    env: Mapping[str, str]
    pass_fds: tuple[int, ...] = ()


class ServiceProcesses:
    def __init__(self, specs: Sequence[ServiceProcess], log_dir: Path) -> None:
        self._specs = list(specs)
        self._log_dir = log_dir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for spec in self._specs:
            with (self._log_dir / f"{spec.name}.log").open("ab") as out:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", spec.module],
                        env={**os.environ, **spec.env},
                        pass_fds=spec.pass_fds,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=die_with_parent,  # async-signal-safe enough: one foreign call, resolved before
                    )
                )

    def check_alive(self) -> None:
        for spec, process in zip(self._specs, self.processes, strict=True):
            if process.poll() is not None:
                tail = (self._log_dir / f"{spec.name}.log").read_text(errors="replace")[-2000:]
                raise WorkerError(f"{spec.name} exited ({process.returncode}); its log ends with:\n{tail}")

    async def watch(self, stop: asyncio.Event) -> None:
        """Until `stop`; a process that exits meanwhile stops the platform."""
        while not stop.is_set():
            try:
                self.check_alive()
            except WorkerError:
                stop.set()
                raise
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def stop(self) -> None:
        """SIGTERM each (they drain what they hold), SIGKILL what is left after STOP_GRACE_S."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for spec, process in zip(self._specs, self.processes, strict=True):
            try:
                await asyncio.wait_for(asyncio.to_thread(process.wait), STOP_GRACE_S)
            except TimeoutError:
                log.warning("%s did not stop in %.0f s; killed", spec.name, STOP_GRACE_S)
                process.kill()
                await asyncio.to_thread(process.wait)


def api_workers(count: int, sock: socket.socket, env: Mapping[str, str], gateway_id: str) -> list[ServiceProcess]:
    fd = sock.fileno()
    return [
        ServiceProcess(
            f"gateway-{n}",
            "gateway",
            {**env, "STRATUS_GATEWAY_ID": f"{gateway_id}-{n}", "STRATUS_LISTEN_FD": str(fd)},
            (fd,),
        )
        for n in range(count)
    ]


async def wait_for_api(url: str, processes: ServiceProcesses) -> None:
    """Until the API answers; raises when one of `processes` exited instead."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT_S
    async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
        while loop.time() < deadline:
            processes.check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/api/v1")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise WorkerError(f"the API did not answer at {url} within {READY_TIMEOUT_S:.0f} s")
