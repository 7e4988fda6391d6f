"""The compose stack (docker-compose.yml + deploy/compose.offline.yml) as a fixture for e2e tests and
benchmarks: a unique project name, free loopback ports, bounded waits, and a teardown that removes
everything it made, function containers and their network included."""

import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx

from standalone.embedded import free_port
from tests.factories import namespace_key

ROOT = Path(__file__).resolve().parents[1]
ADMIN_KEY = "e2e-admin-key"
UP_TIMEOUT_S = 900  # a first build of every image on a 2-core machine; later builds are cached


class StackFailed(RuntimeError):
    pass


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


@dataclass
class Stack:
    project: str
    env: dict[str, str]
    compose: list[str]
    url: str
    redis_url: str
    entities_url: str
    network: str

    def run(self, *args: str, timeout_s: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        files = ["-f", str(ROOT / "docker-compose.yml"), "-f", str(ROOT / "deploy" / "compose.offline.yml")]
        argv = [*self.compose, "-p", self.project, *files, *args]
        done = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout_s)
        if check and done.returncode != 0:
            raise StackFailed(f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def scale_invokers(self, n: int) -> None:
        self.run("up", "-d", "--no-recreate", "--scale", f"invoker={n}", "invoker")

    def invoker_containers(self) -> list[str]:
        return self.run("ps", "-q", "invoker").stdout.split()

    def create_namespace(self, namespace: str) -> str:
        """Its key, `uuid:secret`, written to the stack's entity store."""
        return namespace_key(self.entities_url, namespace)

    def admin(self, path: str) -> Any:
        answer = httpx.get(
            f"{self.url}/api/v1/admin/{path}", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()

    def wait_healthy_invokers(self, n: int, timeout_s: float = 180) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            rows = [r for r in self.admin("invokers") if r["state"] == "healthy"]
            if len(rows) >= n:
                return rows
            time.sleep(0.5)
        raise StackFailed(f"{n} healthy invokers not reached: {self.admin('invokers')}\n{self.logs()}")

    def logs(self) -> str:
        return self.run("logs", "--no-color", "--tail", "40", check=False).stdout[-6000:]


def prepare_images() -> str:
    """Wheels and the base image on the host (the build context needs them); returns BASE_IMAGE."""
    done = subprocess.run(
        [sys.executable, "-m", "images.platform"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise StackFailed(f"preparing the platform image failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def compose_stack(invokers: int = 1, **settings: str) -> Iterator[Stack]:
    compose = compose_command()
    if compose is None:
        raise StackFailed("neither docker-compose nor docker compose is installed")
    base_image = prepare_images()
    project = f"stratus{uuid4().hex[:8]}"
    ports = {name: str(free_port()) for name in ("REDIS", "MONGO", "MYSQL", "GATEWAY")}
    network = f"{project}-functions"
    passwords = {name: secrets.token_hex(12) for name in ("REDIS", "MONGO", "MYSQL", "MYSQL_ROOT")}
    env = {
        **os.environ,
        "STRATUS_BASE_IMAGE": base_image,
        "STRATUS_REDIS_HOST_PORT": ports["REDIS"],
        "STRATUS_MONGO_HOST_PORT": ports["MONGO"],
        "STRATUS_MYSQL_HOST_PORT": ports["MYSQL"],
        "STRATUS_GATEWAY_PORT": ports["GATEWAY"],
        "STRATUS_GATEWAY_BIND": "127.0.0.1",
        "STRATUS_FUNCTION_NETWORK": network,
        "STRATUS_ADMIN_KEY": ADMIN_KEY,
        **{f"STRATUS_{name}_PASSWORD": value for name, value in passwords.items()},  # else generated, unknown here
        **settings,
    }
    stack = Stack(
        project=project,
        env=env,
        compose=compose,
        url=f"http://127.0.0.1:{ports['GATEWAY']}",
        redis_url=f"redis://:{passwords['REDIS']}@127.0.0.1:{ports['REDIS']}/0",
        entities_url=f"mysql+aiomysql://stratus:{passwords['MYSQL']}@127.0.0.1:{ports['MYSQL']}/stratus",
        network=network,
    )
    try:
        stack.run("up", "-d", "--build", "--scale", f"invoker={invokers}", timeout_s=UP_TIMEOUT_S)
        _wait_gateway(stack)
        yield stack
    finally:
        _tear_down(stack)


def _wait_gateway(stack: Stack, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{stack.url}/ping", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise StackFailed(f"the gateway did not answer on {stack.url}:\n{stack.logs()}")


def _tear_down(stack: Stack) -> None:
    stack.run("down", "-v", "--remove-orphans", "--timeout", "5", timeout_s=180, check=False)
    leftovers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"network={stack.network}"], capture_output=True, text=True
    ).stdout.split()
    if leftovers:  # function containers of invokers that were killed, so never removed them
        subprocess.run(["docker", "rm", "-f", *leftovers], capture_output=True)
    subprocess.run(["docker", "network", "rm", stack.network], capture_output=True)
