"""Hostile functions against real containers: each one is contained, and the invoker carries on.

Reachability probes run inside the function and report "connected", "refused" or "timeout"; a positive
control (a listener the function *can* reach) shows that the probe would notice a hole.
"""

import asyncio
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import docker
import pytest

from core.limits import CONTAINER_PIDS
from tests.conftest import require_service
from tests.invoker_harness import Harness, notes

pytestmark = pytest.mark.docker

PROBE = """
import socket
def probe(host, port):
    try:
        socket.create_connection((host, int(port)), timeout=1.5).close()
        return "connected"
    except ConnectionRefusedError:
        return "refused"
    except OSError as exc:
        return "timeout" if "timed out" in str(exc) else type(exc).__name__
def main(a):
    return {f"{host}:{port}": probe(host, port) for host, port in a["targets"]}
"""


def service_port(env_var: str) -> int:
    port = urlsplit(require_service(env_var)).port
    assert port is not None
    return port


def network_gateway(engine: docker.DockerClient, network: str) -> str:
    [config] = engine.networks.get(network).attrs["IPAM"]["Config"]
    return str(config["Gateway"])


@pytest.fixture
def open_listener() -> Iterator[int]:
    """A host listener on every address: what a function *can* reach (the positive control)."""
    server = socket.create_server(("0.0.0.0", 0))
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


async def test_platform_services_and_the_docker_engine_are_unreachable(
    harness: Harness, engine: docker.DockerClient, open_listener: int
) -> None:
    ports = [service_port(v) for v in ("STRATUS_REDIS_URL", "STRATUS_MYSQL_URL", "STRATUS_MONGO_URL")] + [2375, 2376]
    hosts = [network_gateway(engine, harness.settings.network), "172.17.0.1"]
    targets = [[host, port] for host in hosts for port in ports]
    record = await harness.run(harness.action(PROBE), {"targets": targets + [[hosts[0], open_listener]]})
    reached = record.response.result
    assert reached.pop(f"{hosts[0]}:{open_listener}") == "connected"  # the probe does see an open door
    assert reached and all(outcome != "connected" for outcome in reached.values()), reached
    socket_check = "import os\ndef main(a):\n    return {'sock': os.path.exists('/var/run/docker.sock')}\n"
    assert (await harness.run(harness.action(socket_check))).response.result == {"sock": False}


async def test_another_namespaces_container_is_unreachable(harness: Harness) -> None:
    whoami = "import socket\ndef main(a):\n    return {'ip': socket.gethostbyname(socket.gethostname())}\n"
    victim = await harness.run(harness.action(whoami), namespace="victim")
    ip = victim.response.result["ip"]
    record = await harness.run(harness.action(PROBE), {"targets": [[ip, 8080]]}, namespace="attacker")
    assert record.response.result[f"{ip}:8080"] == "timeout"  # inter-container traffic is dropped
    assert (await harness.run(harness.action(whoami), namespace="victim")).response.status == "success"


async def test_another_actions_files_are_invisible(harness: Harness) -> None:
    writer = harness.action("def main(a):\n    open('/tmp/secret', 'w').write('s3cret')\n    return {}\n")
    reader = harness.action(
        "import os\n"
        "def main(a):\n"
        "    try:\n        found = open('/tmp/secret').read()\n"
        "    except FileNotFoundError:\n        found = None\n"
        "    procs = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "    return {'found': found, 'tmp': os.listdir('/tmp'), 'processes': len(procs)}\n"
    )
    await harness.run(writer)
    record = await harness.run(reader)
    result = record.response.result
    assert record.response.status == "success", (record.response, record.logs)
    assert result["found"] is None and "secret" not in result["tmp"]
    assert result["processes"] < 5  # its own pid namespace: the proxy, not the host's processes


async def test_writing_outside_tmp_fails_even_to_the_runtime_itself(harness: Harness) -> None:
    code = (
        "def main(a):\n"
        "    failed = []\n"
        "    for path in ('/etc/passwd', '/opt/stratus/actionproxy/app.py', '/root/x', '/x'):\n"
        "        try:\n            open(path, 'a').write('owned')\n"
        "        except OSError as exc:\n            failed.append(type(exc).__name__)\n"
        "    return {'failed': failed}\n"
    )
    assert len((await harness.run(harness.action(code))).response.result["failed"]) == 4


async def test_a_fork_bomb_hits_the_pids_limit(harness: Harness) -> None:
    code = (
        "import os, time\n"
        "def main(a):\n"
        "    children, error = 0, None\n"
        "    for _ in range(500):\n"
        "        try:\n            pid = os.fork()\n"
        "        except OSError as exc:\n            error = str(exc)\n            break\n"
        "        if pid == 0:\n            time.sleep(2)\n            os._exit(0)\n"
        "        children += 1\n"
        "    return {'children': children, 'error': error}\n"
    )
    record = await harness.run(harness.action(code))
    result = record.response.result
    assert "Resource temporarily unavailable" in str(result["error"]), result  # EAGAIN: the pids cgroup said no
    assert result.get("children", 0) < CONTAINER_PIDS
    assert (await harness.run(harness.action("def main(a):\n    return {'ok': 1}\n"))).response.result == {"ok": 1}


async def test_a_spinning_function_is_stopped_at_its_time_limit(harness: Harness) -> None:
    action = harness.action("def main(a):\n    while True:\n        pass\n", timeout=1000)
    record = await harness.run(action)
    assert record.response.status == "action developer error" and notes(record)["timeout"] is True
    assert harness.containers(action) == []


async def test_allocating_past_the_memory_limit_is_reported_and_contained(harness: Harness) -> None:
    hog = harness.action("def main(a):\n    x = bytearray(600 * 1024 * 1024)\n    return {'n': len(x)}\n", memory=128)
    neighbour = harness.action("def main(a):\n    return {'alive': True}\n")
    hog_record, neighbour_record = await asyncio.gather(harness.run(hog), harness.run(neighbour))
    assert hog_record.response.status == "action developer error"
    assert "memory limit of 128 MB" in hog_record.response.result["error"]
    assert neighbour_record.response.result == {"alive": True}


CODE_HOME = """
import os, shutil, subprocess
def mounted(point):
    return next(line.split()[3].split(",") for line in open("/proc/mounts") if line.split()[1] == point)
def runs(path):
    shutil.copy("/bin/true", path)
    try:
        return subprocess.run([path]).returncode == 0
    except PermissionError:
        return False
def main(a):
    home = os.getcwd()
    info = os.stat("/action")
    return {
        "home": home, "owner": info.st_uid, "mode": oct(info.st_mode & 0o777),
        "size_mb": os.statvfs("/action").f_blocks * os.statvfs("/action").f_frsize // 2**20,
        "action": mounted("/action"), "tmp": mounted("/tmp"),
        "exec_home": runs(os.path.join(home, "t")), "exec_tmp": runs("/tmp/t"),
    }
"""


async def test_code_lives_on_its_own_exec_tmpfs_and_tmp_stays_noexec(harness: Harness) -> None:
    result = (await harness.run(harness.action(CODE_HOME))).response.result
    assert result["home"].startswith("/action/") and result["exec_home"] is True and result["exec_tmp"] is False
    assert result["owner"] == 65534 and result["mode"] == "0o700"  # only the function user writes there
    assert {"nosuid", "nodev"} <= set(result["action"]) and "noexec" not in result["action"]
    assert {"noexec", "nosuid", "nodev"} <= set(result["tmp"])
    assert result["size_mb"] == 256


async def test_filling_the_code_space_counts_against_the_memory_limit(harness: Harness) -> None:
    code = "def main(a):\n    f = open('fill', 'wb')\n    for _ in range(200):\n        f.write(bytes(2**20))\n"
    record = await harness.run(harness.action(code + "    return {}\n", memory=128))
    assert record.response.status == "action developer error"
    assert "memory limit of 128 MB" in record.response.result["error"]
