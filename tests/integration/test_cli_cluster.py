"""`stratus admin invokers` and `stratus admin namespace limits` against real Redis and a real entity store."""

import time
from pathlib import Path

import redis
from typer.testing import CliRunner

from core.ids import InvokerId
from core.messages import INVOKERS_KEY, Heartbeat
from standalone.cli.main import app
from tests.conftest import require_service


def test_admin_invokers_prints_state_load_and_warm_pools() -> None:
    url = require_service("STRATUS_REDIS_URL").rsplit("/", 1)[0] + "/12"
    raw: redis.Redis[bytes] = redis.Redis.from_url(url)
    raw.flushdb()
    try:
        beat = Heartbeat(
            invoker_id=InvokerId("invoker-7"),
            sent_ms=int(time.time() * 1000),
            user_memory_mb=2048,
            busy_memory_mb=0,
            containers=1,
            pool={"idle": 1},
            warm={"ns/hello": 1},
        )
        raw.hset(INVOKERS_KEY, beat.invoker_id, beat.model_dump_json())
        raw.hset("stratus:slots:invoker-7", "mem", 1024)
        result = CliRunner().invoke(app, ["admin", "invokers", "--redis-url", url], env={"COLUMNS": "200"})
    finally:
        raw.flushdb()
        raw.close()
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "invoker-7" in line)
    assert "healthy" in line and "50%" in line and "ns/hello 1" in line and "idle 1" in line


def test_admin_namespace_limits_are_stored(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'entities.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["admin", "namespace", "create", "team", "--entities-url", url]).exit_code == 0
    done = runner.invoke(app, ["admin", "namespace", "limits", "team", "--concurrent", "5", "--entities-url", url])
    assert done.exit_code == 0, done.output
    assert "concurrent 5, per minute default" in done.output
    missing = runner.invoke(app, ["admin", "namespace", "limits", "nobody", "--per-minute", "1", "--entities-url", url])
    assert missing.exit_code == 1
