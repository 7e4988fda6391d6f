"""Keys and web secrets never travel or persist in clear: a platform of its own (embedded Redis with its AOF,
the embedded MongoDB-wire server, SQLite, all in one data dir) serves calls that carry the namespace key and a
`require-whisk-auth` secret; then every Redis key and stream, every file of the data dir (the AOF, the record
store's files, the logs) and the activation records are searched for them. The positive control: a canary
value sent the same way in an ordinary header is found, so the search does look where the secrets would be."""

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
import redis

from tests.standalone_process import start_standalone_printing, stop

pytestmark = pytest.mark.docker

HEADERS = """
def main(args):
    print("headers", args.get("__ow_headers"))
    return {"seen": args.get("__ow_headers"), "user": args.get("__ow_user")}
"""


@dataclass(frozen=True)
class Run:
    data_dir: Path
    redis_url: str
    key: str
    web_secret: str
    canary: str
    records: list[dict[str, object]]


def redis_dump(url: str) -> bytes:
    """Every key's name and value, streams entry by entry, as one blob."""
    client = redis.Redis.from_url(url)
    blob = []
    for name in client.scan_iter(count=1000):
        kind = client.type(name)
        blob.append(name)
        if kind == b"stream":
            blob += [repr(entry).encode() for entry in client.xrange(name)]
        elif kind in (b"string", b"hash", b"list", b"set", b"zset"):
            blob.append(client.dump(name) or b"")
    client.close()
    return b"\n".join(blob)


def files_of(data_dir: Path) -> Iterator[tuple[Path, bytes]]:
    for path in data_dir.rglob("*"):
        if path.is_file() and path.name != "guest.key":  # the one place the key is kept, on purpose (0600)
            yield path, path.read_bytes()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    data_dir = tmp_path_factory.mktemp("secrets")
    env = {"STRATUS_REDIS_URL": "", "STRATUS_MONGO_URL": "", "STRATUS_ENTITIES_URL": "", "STRATUS_STEM_CELLS": "[]"}
    process, printed, port = start_standalone_printing(data_dir, env, log_level="DEBUG")
    try:
        key, web_secret, canary = printed["STRATUS_KEY"], f"ws-{secrets.token_hex(16)}", f"c-{secrets.token_hex(16)}"
        uuid, _, secret = key.partition(":")
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=(uuid, secret), timeout=90, trust_env=False)
        web = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=90, trust_env=False)
        names = {"by_key": True, "by_secret": web_secret, "plain": None}
        for label, required in list(names.items()):
            name = f"{label}-{uuid4().hex[:6]}"
            notes = [{"key": "web-export", "value": True}] + (
                [{"key": "require-whisk-auth", "value": required}] if required is not None else []
            )
            body = {"exec": {"kind": "python:3.11", "code": HEADERS}, "annotations": notes}
            api.put(f"/api/v1/namespaces/_/actions/{name}", json=body).raise_for_status()
            names[label] = name
        basic = {"Authorization": f"Basic {base64.b64encode(key.encode()).decode()}", "X-Canary": canary}
        answers = [
            web.get(f"/api/v1/web/guest/default/{names['by_key']}.json", headers=basic),
            web.get(
                f"/api/v1/web/guest/default/{names['by_secret']}.json",
                headers=basic | {"X-Require-Whisk-Auth": web_secret},
            ),
            web.get(f"/api/v1/web/guest/default/{names['plain']}.json", headers=basic),
            api.post(
                f"/api/v1/namespaces/_/actions/{names['plain']}?blocking=true", json={}, headers={"X-Canary": canary}
            ),
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 200], [a.text for a in answers]
        assert answers[0].json()["user"] == "guest"
        records = [
            api.get(f"/api/v1/namespaces/_/activations/{a.headers['x-openwhisk-activation-id']}").json()
            for a in answers[:3]
        ]
        yield Run(data_dir, printed["STRATUS_REDIS_URL"], key, web_secret, canary, records)
        api.close()
        web.close()
    finally:
        stop(process)


def secrets_of(run: Run) -> list[bytes]:
    uuid, _, secret = run.key.partition(":")
    return [secret.encode(), base64.b64encode(run.key.encode()), run.web_secret.encode()]


def test_no_redis_key_or_stream_holds_a_key_or_secret(run: Run) -> None:
    dump = redis_dump(run.redis_url)
    assert run.canary.encode() in dump  # the control: what the caller sends does reach Redis
    assert [s for s in secrets_of(run) if s in dump] == []


def test_no_file_of_the_platform_holds_one_aof_records_and_logs_included(run: Run) -> None:
    seen = dict(files_of(run.data_dir))
    assert any(p.name.endswith(".aof") or "appendonly" in str(p) for p in seen), sorted(map(str, seen))
    assert any(run.canary.encode() in blob for blob in seen.values())  # the control: the AOF does hold the canary
    leaks = {path.name: [s[:6] for s in secrets_of(run) if s in blob] for path, blob in seen.items()}
    # the web secret is the action's own configuration, stored with it in the entity store (as its parameters
    # are) and read by the gateway alone; the namespace key is stored nowhere but as a hash
    web_secret = run.web_secret.encode()[:6]
    in_entities = {name: hits for name, hits in leaks.items() if name.startswith("entities.db")}
    assert [web_secret] in in_entities.values()  # a second control: the search does find it where it is kept
    assert {name: hits for name, hits in leaks.items() if hits and name not in in_entities} == {}
    assert [hits for hits in in_entities.values() if set(hits) - {web_secret}] == []


def test_no_activation_record_or_log_holds_one(run: Run) -> None:
    text = repr(run.records).encode()
    assert run.canary.encode() in text  # the control: the function logged the headers it saw
    assert [s for s in secrets_of(run) if s in text] == []
