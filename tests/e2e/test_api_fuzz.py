"""Property-based fuzzing of the OpenAPI schema: no input gets a 5xx (schemathesis, a bounded run).

The gateway is the real ASGI app (the invoke fast path in front of FastAPI) served by uvicorn on a real
socket, on real backends: MariaDB, the MongoDB wire server and a redis-server of its own. Nothing consumes
the invocations: blocking calls answer 202 when their (shortened) wait runs out, and afterwards each
invocation the gateway accepted during the run is decoded as every consumer decodes it.

So that the run reaches the logic, not only 401/403/404: the key is valid, `{ns}` is pinned to `_`, the
web action path to an exported action, the schema describes the request bodies and links create -> read /
invoke / delete, and activation reads reach records the test wrote (tests/e2e/fuzz_hooks.py).
Deterministic (`--seed`, `--generation-deterministic`) and bounded (`--max-examples`; a hard stop).
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
import redis
import uvicorn
from sqlalchemy import create_engine, text

from core.backends import open_core
from core.config import GatewaySettings
from core.ids import ControllerId, InvokerId
from core.messages import INVOCATIONS, Dispatch, Invocation
from core.models import Action, Exec, KeyValue
from core.namespaces import create_namespace
from gateway.app import create_app
from gateway.deps import Backends, backends_from_core
from gateway.http_protocol import JoinedWritesProtocol
from standalone.embedded import embedded_redis, free_port
from tests.conftest import require_service
from tests.factories import make_activation

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261128
MAX_EXAMPLES = int(os.environ.get("STRATUS_FUZZ_EXAMPLES", "60"))  # per operation and phase
MAX_TIME_S = 420  # a hard stop; the run takes 1-2.5 minutes here (2,282 cases)
MIN_CASES = 1_500  # a run that generated fewer did not fuzz much: fail rather than pass quietly
ADMIN_KEY = "fuzz-admin-key"
# operations that must have answered 2xx at least once: the run reached their logic
MUST_SUCCEED = (
    "GET /api/v1/namespaces",
    "PUT /api/v1/namespaces/{ns}/actions/{name}",
    "GET /api/v1/namespaces/{ns}/actions/{name}",
    "DELETE /api/v1/namespaces/{ns}/actions/{name}",
    "POST /api/v1/namespaces/{ns}/actions/{name}",
    "GET /api/v1/namespaces/{ns}/actions",
    "GET /api/v1/namespaces/{ns}/activations",
    "GET /api/v1/namespaces/{ns}/activations/{activation_id}",
    "GET /api/v1/namespaces/{ns}/activations/{activation_id}/logs",
    "GET /api/v1/namespaces/{ns}/activations/{activation_id}/result",
    "PUT /api/v1/namespaces/{ns}/routes",
    "GET /api/v1/namespaces/{ns}/routes",
)


@dataclass(frozen=True)
class Gateway:
    url: str
    key: str
    namespace: str
    redis_url: str
    activation_ids: list[str]


@contextmanager
def serve_in_thread(app: object, port: int) -> Iterator[None]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http=JoinedWritesProtocol)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fuzzed-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(30)


async def seed(backends: Backends, namespace: str, seeded: list[str]) -> str:
    """The namespace, its key, the action of the schema's examples (`hello`), an exported web action (`echo`)
    and a few activation records."""
    key = await create_namespace(backends.entities, namespace)
    code = Exec(kind="python:3.11", code="def main(args):\n    return args\n")
    await backends.entities.create_action(Action(namespace=namespace, name="hello", exec=code))
    web = [KeyValue(key="web-export", value=True)]
    await backends.entities.create_action(Action(namespace=namespace, name="echo", exec=code, annotations=web))
    records = [make_activation(namespace=namespace, name="echo") for _ in range(3)]
    await backends.activations.put_many(records)
    seeded.extend(r.activation_id for r in records)
    return key


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    mongo_url = require_service("STRATUS_MONGO_URL")
    mysql_url = require_service("STRATUS_MYSQL_URL")
    database = f"fuzz_{uuid4().hex[:12]}"
    admin = create_engine(mysql_url.replace("+aiomysql", "+pymysql"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {database}"))
    namespace, keys, seeded = f"fuzz{uuid4().hex[:8]}", [], []
    try:
        with embedded_redis(tmp_path) as redis_url:
            settings = GatewaySettings(
                gateway_id="gw-fuzz",
                redis_url=redis_url,
                mongo_url=mongo_url,
                mongo_db=database,
                entities_url=mysql_url.rstrip("/") + "/" + database,
                blocking_wait_s=0.05,  # web actions: nothing runs them
                admin_key=ADMIN_KEY,
            )

            @asynccontextmanager
            async def open_backends() -> AsyncIterator[Backends]:
                async with open_core(settings.redis_url, mongo_url, database, settings.entities_url) as core:
                    backends = backends_from_core(settings, core)
                    keys.append(await seed(backends, namespace, seeded))
                    yield backends

            port = free_port()
            with serve_in_thread(create_app(open_backends), port):
                yield Gateway(f"http://127.0.0.1:{port}", keys[0], namespace, redis_url, seeded)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE {database}"))
        admin.dispose()


def schemathesis_config(gateway: Gateway, path: Path) -> Path:
    uuid, _, secret = gateway.key.partition(":")
    path.write_text(
        f"""
[auth.basic]
username = "{uuid}"
password = "{secret}"

[phases.stateful]
max-steps = 10

[parameters]
ns = "_"
namespace = "{gateway.namespace}"
package = "default"
rest = "echo.json"
"""
    )
    return path


def run_schemathesis(gateway: Gateway, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    log = tmp_path / "responses.log"
    config = schemathesis_config(gateway, tmp_path / "schemathesis.toml")
    argv = [
        sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(config),
        "run", f"{gateway.url}/openapi.json",
        "--checks", os.environ.get("STRATUS_FUZZ_CHECKS", "not_a_server_error,negative_data_rejection"),
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED), "--generation-deterministic",
        "--workers", "1", "--request-timeout", "20", "--suppress-health-check", "all",
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.fuzz_hooks",
        "STRATUS_FUZZ_LOG": str(log),
        "STRATUS_FUZZ_ACTIVATIONS": ",".join(gateway.activation_ids),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=MAX_TIME_S)
    return done, log


def answers_by_operation(log: Path) -> dict[str, Counter[int]]:
    found: dict[str, Counter[int]] = defaultdict(Counter)
    for line in log.read_text().split("\n")[:-1]:
        operation, status, _ = line.split("\t", 2)
        found[operation][int(status)] += 1
    return found


def decode_every_accepted_invocation(redis_url: str) -> int:
    """Each invocation on the stream, decoded as the controller, the invoker and the runtime decode it."""
    client = redis.Redis.from_url(redis_url)
    try:
        entries = client.xrange(INVOCATIONS)
    finally:
        client.close()
    for _, fields in entries:
        invocation = Invocation.from_fields(fields)
        dispatch = Dispatch(invocation=invocation, invoker_id=InvokerId("i"), controller_id=ControllerId("c"))
        decoded = Dispatch.from_fields({b"body": dispatch.to_fields()["body"].encode()}).invocation
        assert json.loads(json.dumps({"value": decoded.params}))["value"] == invocation.params
    return len(entries)


@pytest.mark.timeout(MAX_TIME_S + 120)
def test_no_input_gets_a_server_error(gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    done, log = run_schemathesis(gateway, tmp_path)
    summary = done.stdout[-6000:]
    assert log.exists(), f"schemathesis made no request:\n{summary}\n{done.stderr[-3000:]}"
    answers = answers_by_operation(log)
    table = "\n".join(f"{op}: {dict(sorted(codes.items()))}" for op, codes in sorted(answers.items()))
    print(f"{summary}\n{table}")  # shown with -s, and on failure
    assert done.returncode == 0, f"schemathesis found failures:\n{summary}\n{done.stderr[-3000:]}"
    cases = sum(sum(codes.values()) for codes in answers.values())
    assert cases >= MIN_CASES, f"only {cases} requests were made"
    assert not [op for op, codes in answers.items() if any(code >= 500 for code in codes)]
    unreached = [op for op in MUST_SUCCEED if not any(200 <= code < 300 for code in answers.get(op, {}))]
    assert not unreached, f"never answered 2xx: {unreached}\n{table}"
    accepted = decode_every_accepted_invocation(gateway.redis_url)
    assert accepted > 0
    generated = re.search(r"(\d+) generated", summary)
    assert generated, summary
    with capsys.disabled():  # the run's figures, in every test log
        print(f"\nAPI fuzzing: {generated.group(1)} cases generated, {cases} requests, 0 server errors, "
              f"{len(answers)} operations, {accepted} accepted invocations decoded by every consumer")  # fmt: skip
