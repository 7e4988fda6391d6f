"""Rotating and revoking a namespace's key, in every entity store, through the gateway's own Authenticator;
the key it replaced is the hostile caller, the key in use the positive control."""

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import NotFound, Unauthorized
from core.namespaces import create_namespace, revoke_key, rotate_key
from core.stores.entities import SqlEntityStore
from gateway.auth import Authenticator


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(key.encode()).decode()


async def test_a_rotated_key_replaces_the_old_one_and_a_revoked_one_lets_nobody_in(entities: SqlEntityStore) -> None:
    auth = Authenticator(entities, cache_s=0)
    old = await create_namespace(entities, "team")
    assert (await auth.authenticate(basic(old))).name == "team"  # the control: a good key does get in
    new = await rotate_key(entities, "team")
    assert new.partition(":")[0] != old.partition(":")[0]
    with pytest.raises(Unauthorized):
        await auth.authenticate(basic(old))
    assert (await auth.authenticate(basic(new))).name == "team"
    await revoke_key(entities, "team")
    for key in (old, new, "revoked-x:", "revoked-x:anything"):
        with pytest.raises(Unauthorized):
            await auth.authenticate(basic(key))
    stored = await entities.get_namespace("team")
    assert stored is not None and stored.key_hash == "" and stored.uuid.startswith("revoked-")
    assert (await auth.authenticate(basic(await rotate_key(entities, "team")))).name == "team"


async def test_rotating_or_revoking_a_missing_namespace_is_not_found(entities: SqlEntityStore) -> None:
    with pytest.raises(NotFound):
        await rotate_key(entities, "nobody")
    with pytest.raises(NotFound):
        await revoke_key(entities, "nobody")


def test_the_admin_cli_rotates_and_revokes(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'entities.db'}"

    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "standalone", "admin", "namespace", *args, "--entities-url", url]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    first = admin("create", "cli-team").stdout.strip()
    rotated = admin("rotate-key", "cli-team")
    assert rotated.returncode == 0 and ":" in rotated.stdout and rotated.stdout.strip() != first
    assert admin("revoke", "cli-team").returncode == 0
    missing = admin("revoke", "nobody")
    assert missing.returncode == 1 and "nobody" in missing.stdout
