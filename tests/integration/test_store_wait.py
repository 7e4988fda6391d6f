"""core.stores.wait against real stores: what a compose service waits for before it starts."""

import asyncio
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from core.stores.wait import entities_answer, mongo_answers, redis_answers, wait_for
from standalone.embedded import free_port
from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


async def test_running_stores_answer_at_once() -> None:
    probes = {
        "redis": functools.partial(redis_answers, require_service("STRATUS_REDIS_URL")),
        "mongo": functools.partial(mongo_answers, require_service("STRATUS_MONGO_URL")),
        "mysql": functools.partial(entities_answer, require_service("STRATUS_MYSQL_URL")),
    }
    reports: list[str] = []
    assert await wait_for(probes, 10, reports.append) == []
    assert reports == []


async def test_a_store_that_starts_late_is_waited_for_and_one_that_never_does_is_named(tmp_path: Path) -> None:
    late, never = free_port(), free_port()
    binary = shutil.which("redis-server")
    assert binary, "redis-server is installed by tests/run.sh"
    command = [binary, "--port", str(late), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)]
    reports: list[str] = []

    async def start_late() -> asyncio.subprocess.Process:
        await asyncio.sleep(1.5)
        return await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.DEVNULL)

    starting = asyncio.create_task(start_late())
    probes = {"late": functools.partial(redis_answers, f"redis://127.0.0.1:{late}/0")}
    try:
        assert await wait_for(probes, 30, reports.append) == []
    finally:
        server = await starting
        server.terminate()
        await server.wait()
    probes = {"never": functools.partial(redis_answers, f"redis://127.0.0.1:{never}/0")}
    assert await wait_for(probes, 2, reports.append) == ["never"]
    assert len(reports) == 1 and reports[0].startswith("never did not answer within 2 s: ConnectionError")


def test_the_command_exits_1_and_says_what_to_do_when_a_store_does_not_answer() -> None:
    env = os.environ | {
        "STRATUS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "STRATUS_MONGO_URL": require_service("STRATUS_MONGO_URL"),
        "STRATUS_ENTITIES_URL": "",  # not named: not waited for
        "STRATUS_STORES_WAIT_S": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "core.stores.wait"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "redis did not answer within 1 s" in done.stderr
    assert "activation store did not answer" not in done.stderr
    assert "docker compose ps" in done.stderr


def test_a_wait_limit_that_is_not_a_number_of_seconds_is_refused_before_any_wait() -> None:
    for bad in ("soon", "0", "-5", "inf"):
        env = os.environ | {"STRATUS_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "STRATUS_STORES_WAIT_S": bad}
        done = subprocess.run(
            [sys.executable, "-m", "core.stores.wait"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, bad
        assert f"STRATUS_STORES_WAIT_S must be a number of seconds above 0, not {bad!r}" in done.stderr


async def test_a_store_refusing_the_services_user_is_not_ready() -> None:
    url = require_service("STRATUS_MYSQL_URL").replace("root@", "stratus_nobody:wrong@")
    assert await wait_for({"mysql": functools.partial(entities_answer, url)}, 0.5, lambda _: None) == ["mysql"]
