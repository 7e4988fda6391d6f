"""Fixtures shared by the suite: the real backing services, each test owning its data."""

import os
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import docker
import pytest
from pymongo import AsyncMongoClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from core.config import StandaloneSettings
from core.stores.activations import Document, MongoActivationStore
from core.stores.entities import SqlEntityStore


def require_service(env_var: str, *, in_ci: bool = True) -> str:
    """URL of a real backing service: skip on a laptop without it, fail under CI if CI must have it."""
    if url := os.environ.get(env_var):
        return url
    if in_ci and os.environ.get("CI"):
        pytest.fail(f"{env_var} is required when CI is set")
    pytest.skip(f"{env_var} not set")


def runtime_repository() -> str:
    """Where the runtime images are, as the platform reads it (STRATUS_RUNTIME_REPOSITORY, else the default)."""
    return StandaloneSettings().runtime_repository


def docker_engine() -> docker.DockerClient:
    """The local Docker engine, or a skip where there is none."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    return client


@pytest.fixture
def redis_url() -> str:
    return require_service("STRATUS_REDIS_URL")


@pytest.fixture
async def mysql_entities() -> AsyncIterator[SqlEntityStore]:
    admin_url = require_service("STRATUS_MYSQL_URL")
    database = f"t_{uuid4().hex[:16]}"
    admin = create_async_engine(admin_url)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE DATABASE {database}"))
    store = SqlEntityStore(admin_url.rstrip("/") + "/" + database)
    await store.start()
    yield store
    await store.close()
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP DATABASE {database}"))
    await admin.dispose()


@pytest.fixture
async def sqlite_entities(tmp_path: Path) -> AsyncIterator[SqlEntityStore]:
    store = SqlEntityStore(f"sqlite+aiosqlite:///{tmp_path / 'entities.db'}")
    await store.start()
    yield store
    await store.close()


@pytest.fixture(params=["mariadb", "sqlite"])
def entities(request: pytest.FixtureRequest) -> SqlEntityStore:
    """The entity store behaviour suite runs against every implementation."""
    store: SqlEntityStore = request.getfixturevalue(f"{'mysql' if request.param == 'mariadb' else 'sqlite'}_entities")
    return store


@pytest.fixture
async def activations() -> AsyncIterator[MongoActivationStore]:
    url = require_service("STRATUS_MONGO_URL")
    client: AsyncMongoClient[Document] = AsyncMongoClient(url)
    db = client[f"t_{uuid4().hex}"]  # each test owns its database
    store = MongoActivationStore(db["activations"])
    await store.ensure_indexes()
    yield store
    await client.drop_database(db.name)
    await client.close()
