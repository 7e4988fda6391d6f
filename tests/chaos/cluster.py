"""A whole Stratus cluster as processes on this host, each one killable with SIGKILL and restartable.

redis-server (append-only file), the MongoDB-wire server (journaled writes), MariaDB, and the services
as their own entry points (`python -m gateway`, two `python -m controller`, two `python -m invoker`):
what compose runs, without compose's minutes of start-up, so a chaos run fits in a CI budget. Every
store and port is the cluster's own (a temporary directory, free ports): killing one touches nothing
else on the machine.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import httpx

from standalone.embedded import free_port, redis_server_binary


class ClusterError(RuntimeError):
    pass


def wait_port(port: int, seconds: float, what: str) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ClusterError(f"{what} did not listen on 127.0.0.1:{port} within {seconds:.0f} s")


@dataclass
class Part:
    """One process of the cluster: how to start it, and how to tell it is up."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    ready: Callable[[], None]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            raise ClusterError(f"{self.name} is running already")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.ready()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Cluster:
    root: Path
    network: str = field(default_factory=lambda: f"stratus-chaos-{uuid4().hex[:6]}")
    parts: dict[str, Part] = field(default_factory=dict)
    api: str = ""
    key: str = ""
    env: dict[str, str] = field(default_factory=dict)  # the services' STRATUS_* settings

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for name in ("redis", "mongo", "mysql", "api")}
        self.api = f"http://127.0.0.1:{ports['api']}"
        self._stores(ports)
        env = {
            "STRATUS_REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
            "STRATUS_MONGO_URL": f"mongodb://127.0.0.1:{ports['mongo']}/?directConnection=true",
            "STRATUS_MONGO_DB": "stratus",
            "STRATUS_ENTITIES_URL": f"mysql+aiomysql://root@127.0.0.1:{ports['mysql']}/stratus",
            "STRATUS_LOG_LEVEL": "WARNING",
            "STRATUS_HEARTBEAT_TTL_S": "8",
            "STRATUS_CLAIM_IDLE_MS": "5000",
            "STRATUS_DEAD_INVOKER_GRACE_S": "3",
            # the functions call the test's side channel on the host, through the function network's gateway
            # address (traffic.RunCounter): the egress policy closes the host to functions unless allowed
            "STRATUS_EGRESS_ALLOW": '["gateway"]',
        }
        self.env = env
        self._create_database(ports["mysql"])
        self.key = self._namespace(env)
        for name in self._services(env, ports["api"]):
            self.parts[name].start()

    def _stores(self, ports: dict[str, int]) -> None:
        redis_dir, mongo_dir, mysql_dir = (self.root / d for d in ("redis", "mongo", "mysql"))
        for d in (redis_dir, mongo_dir):
            d.mkdir(exist_ok=True)
        redis_argv = [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(ports["redis"]),
            "--dir",
            str(redis_dir),
        ]
        redis_argv += ["--appendonly", "yes", "--save", ""]
        self._add("redis", redis_argv, {}, lambda: wait_port(ports["redis"], 30, "redis"))
        mongo_argv = [sys.executable, "-m", "secantus", "--host", "127.0.0.1", "--port", str(ports["mongo"])]
        mongo_argv += ["--storage-path", str(mongo_dir), "--standalone", "--log-level", "ERROR"]
        self._add("activation store", mongo_argv, {}, lambda: wait_port(ports["mongo"], 60, "the activation store"))
        daemon = shutil.which("mariadbd") or shutil.which("mysqld")
        if daemon is None:
            raise ClusterError("mariadb-server is missing (tests/run.sh installs it)")
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", "--user=root", f"--datadir={mysql_dir}",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True,
        )  # fmt: skip
        mysql_argv = [daemon, "--no-defaults", "--user=root", f"--datadir={mysql_dir}", "--bind-address=127.0.0.1"]
        mysql_argv += [f"--port={ports['mysql']}", f"--socket={self.root / 'mysql.sock'}", "--skip-name-resolve"]
        mysql_argv += [f"--pid-file={self.root / 'mysql.pid'}", "--innodb-buffer-pool-size=64M"]
        self._add("entity store", mysql_argv, {}, lambda: wait_port(ports["mysql"], 90, "the entity store"))
        for name in ("redis", "activation store", "entity store"):
            self.parts[name].start()

    def _create_database(self, port: int) -> None:
        import pymysql  # type: ignore[import-untyped]

        connection = pymysql.connect(host="127.0.0.1", port=port, user="root")
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE IF NOT EXISTS stratus")
        connection.close()

    def _namespace(self, env: dict[str, str]) -> str:
        created = subprocess.run(
            [sys.executable, "-m", "standalone", "admin", "namespace", "create", "chaos",
             "--entities-url", env["STRATUS_ENTITIES_URL"]],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return created.stdout.strip().splitlines()[-1]

    def _services(self, env: dict[str, str], api_port: int) -> list[str]:
        """Add the services (the stores are up already); their names in start order."""
        gateway = env | {"STRATUS_GATEWAY_ID": "gw-chaos", "STRATUS_PORT": str(api_port)}
        self._add("gateway", [sys.executable, "-m", "gateway"], gateway, lambda: self._wait_api(60))
        for n in (1, 2):
            controller = env | {"STRATUS_CONTROLLER_ID": f"ctl-chaos-{n}"}
            self._add(f"controller {n}", [sys.executable, "-m", "controller"], controller, lambda: None)
            invoker = env | {
                "STRATUS_INVOKER_ID": f"inv-chaos-{n}",
                "STRATUS_METRICS_PORT": "0",
                "STRATUS_NETWORK": self.network,
                "STRATUS_USER_MEMORY_MB": "2048",
                "STRATUS_PAUSE_GRACE_S": "0",
            }
            self._add(f"invoker {n}", [sys.executable, "-m", "invoker"], invoker, lambda: None)
        return ["gateway", "controller 1", "invoker 1", "controller 2", "invoker 2"]

    def _add(self, name: str, argv: list[str], env: dict[str, str], ready: Callable[[], None]) -> None:
        self.parts[name] = Part(name, argv, env, self.root / f"{name.replace(' ', '-')}.log", ready)

    def _wait_api(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.api}/api/v1", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise ClusterError(f"the gateway did not answer within {seconds:.0f} s")

    def stop(self) -> None:
        for part in reversed(list(self.parts.values())):
            part.stop()
        subprocess.run(["docker", "network", "rm", self.network], capture_output=True)

    def logs(self, lines: int = 40) -> str:
        return "\n".join(
            f"--- {p.name}\n" + "\n".join(p.log.read_text(errors="replace").splitlines()[-lines:])
            for p in self.parts.values()
            if p.log.exists()
        )
