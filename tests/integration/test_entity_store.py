"""One behaviour suite for EntityStore, run against MariaDB and SQLite."""

from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from core.errors import Conflict, NotFound
from core.models import Exec, Namespace
from core.stores.entities import SqlEntityStore
from tests.conftest import require_service
from tests.factories import make_action


async def test_create_then_get_round_trips(entities: SqlEntityStore) -> None:
    action = make_action()
    await entities.create_action(action)
    assert await entities.get_action("ns", action.name) == action
    assert await entities.get_action("other", action.name) is None


async def test_any_unicode_round_trips_and_names_are_case_sensitive(entities: SqlEntityStore) -> None:
    code = "def main(args):\n    return {'text': 'é 中 \U0001f600 \U0005bfb6'}\n"
    lower = make_action(name="echo", exec=Exec(kind="python:3.11", code=code))
    upper = make_action(name="Echo")  # another action, as in OpenWhisk (and on SQLite)
    await entities.create_action(lower)
    await entities.create_action(upper)
    assert await entities.get_action("ns", "echo") == lower
    assert await entities.get_action("ns", "Echo") == upper
    assert await entities.get_action("ns", "ECHO") is None


async def test_tables_made_in_a_latin1_database_are_converted_at_start() -> None:
    admin_url = require_service("STRATUS_MYSQL_URL")
    database = f"t_{uuid4().hex[:16]}"
    admin = create_async_engine(admin_url)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE DATABASE {database} CHARACTER SET latin1"))
        await conn.execute(text(f"CREATE TABLE {database}.actions (namespace VARCHAR(256), name VARCHAR(256), "
                                "root VARCHAR(256) NOT NULL, updated BIGINT NOT NULL, doc LONGTEXT NOT NULL, "
                                "PRIMARY KEY (namespace, name))"))  # fmt: skip
    store = SqlEntityStore(admin_url.rstrip("/") + "/" + database)
    try:
        await store.start()
        action = make_action(name="中", exec=Exec(kind="python:3.11", code="# \U0001f600"))
        await store.create_action(action)
        assert await store.get_action("ns", "中") == action
    finally:
        await store.close()
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP DATABASE {database}"))
        await admin.dispose()


async def test_create_twice_conflicts(entities: SqlEntityStore) -> None:
    action = make_action()
    await entities.create_action(action)
    with pytest.raises(Conflict):
        await entities.create_action(action)


async def test_replace_checks_the_revision_it_read(entities: SqlEntityStore) -> None:
    action = make_action()
    await entities.create_action(action)
    newer = action.model_copy(update={"version": "0.0.2", "updated": action.updated + 1})
    await entities.replace_action(newer, expected_updated=action.updated)
    assert await entities.get_action("ns", action.name) == newer
    stale = action.model_copy(update={"version": "0.0.9", "updated": action.updated + 2})
    with pytest.raises(Conflict):
        await entities.replace_action(stale, expected_updated=action.updated)
    with pytest.raises(NotFound):
        await entities.replace_action(make_action(), expected_updated=0)


async def test_list_is_newest_first_with_paging_and_includes_packages(entities: SqlEntityStore) -> None:
    made = [make_action(name=f"a{i}", updated=1000 + i) for i in range(5)]
    made.append(make_action(namespace="ns/pkg", name="inpkg", updated=2000))
    made.append(make_action(namespace="elsewhere", name="x", updated=3000))
    for action in made:
        await entities.create_action(action)
    names = [a.name for a in await entities.list_actions("ns", limit=10, skip=0)]
    assert names == ["inpkg", "a4", "a3", "a2", "a1", "a0"]
    assert [a.name for a in await entities.list_actions("ns", limit=2, skip=1)] == ["a4", "a3"]
    assert await entities.count_actions("ns") == 6


async def test_delete_returns_what_was_deleted(entities: SqlEntityStore) -> None:
    action = make_action()
    await entities.create_action(action)
    assert await entities.delete_action("ns", action.name) == action
    assert await entities.delete_action("ns", action.name) is None
    assert await entities.get_action("ns", action.name) is None


async def test_large_code_round_trips(entities: SqlEntityStore) -> None:
    code = "# " + "x" * (2 * 1024 * 1024) + "\ndef main(args):\n    return {}\n"
    action = make_action(exec=Exec(kind="python:3.11", code=code))
    await entities.create_action(action)
    found = await entities.get_action("ns", action.name)
    assert found is not None and found.exec.code == code


async def test_namespaces_by_name_and_uuid(entities: SqlEntityStore) -> None:
    ns = Namespace(name="tenant", uuid="u-1", key_hash="h", subject="s")
    await entities.create_namespace(ns)
    assert await entities.get_namespace("tenant") == ns
    assert await entities.namespace_by_uuid("u-1") == ns
    assert await entities.namespace_by_uuid("u-2") is None
    with pytest.raises(Conflict):
        await entities.create_namespace(ns.model_copy(update={"name": "another"}))  # same uuid
    assert await entities.list_namespaces() == [ns]


async def test_starting_twice_keeps_the_data(entities: SqlEntityStore) -> None:
    action = make_action()
    await entities.create_action(action)
    await entities.start()
    assert await entities.get_action("ns", action.name) == action
