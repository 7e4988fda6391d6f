"""A real platform for e2e tests: `stratus standalone` as a subprocess, on the suite's real services."""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import require_service
from tests.standalone_process import start_standalone, stop


@dataclass(frozen=True)
class Platform:
    url: str
    key: str
    data_dir: Path
    entities_url: str
    admin_key: str  # Bearer key of the admin API (/api/v1/admin/...)

    def client(self, key: str | None = None) -> httpx.Client:
        uuid, _, secret = (key or self.key).partition(":")
        return httpx.Client(base_url=self.url, auth=(uuid, secret), timeout=90, trust_env=False)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One platform for the e2e session, on MariaDB, the MongoDB wire server and a redis-server of its own
    (the standalone's embedded one: stream names are global, so platforms must not share a Redis)."""
    mongo_url = require_service("STRATUS_MONGO_URL")
    mysql_url = require_service("STRATUS_MYSQL_URL")
    database = f"e2e_{uuid4().hex[:12]}"
    admin = create_engine(mysql_url.replace("+aiomysql", "+pymysql"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {database}"))
    data_dir = tmp_path_factory.mktemp("standalone")
    entities_url = mysql_url.rstrip("/") + "/" + database
    admin_key = secrets.token_hex(16)
    process, key, port = start_standalone(
        data_dir,
        {
            "STRATUS_REDIS_URL": "",
            "STRATUS_MONGO_URL": mongo_url,
            "STRATUS_ENTITIES_URL": entities_url,
            "STRATUS_MONGO_DB": database,
            "STRATUS_IDLE_TTL_S": "120",
            "STRATUS_ADMIN_KEY": admin_key,
        },
    )
    try:
        yield Platform(f"http://127.0.0.1:{port}", key, data_dir, entities_url, admin_key)
    finally:
        stop(process)
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE {database}"))
        admin.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.e2e.browser import ARTIFACTS, SAVED  # only loaded when the console tests ran

    if SAVED:
        terminalreporter.write_line(f"console screenshots ({len(SAVED)}): {ARTIFACTS}")
