"""Test data builders: unique by default, any field overridable."""

import asyncio
from typing import Any
from uuid import uuid4

from core.ids import new_activation_id
from core.models import Action, Activation, ActivationResponse, Exec
from core.namespaces import create_namespace
from core.stores.entities import SqlEntityStore


def make_action(**overrides: Any) -> Action:
    fields: dict[str, Any] = {
        "namespace": "ns",
        "name": f"action-{uuid4().hex[:8]}",
        "exec": Exec(kind="python:3.11", code="def main(args):\n    return args\n"),
        "updated": 1_700_000_000_000,
    }
    return Action(**(fields | overrides))


def make_activation(**overrides: Any) -> Activation:
    fields: dict[str, Any] = {
        "activation_id": new_activation_id(),
        "namespace": "ns",
        "name": "hello",
        "version": "0.0.1",
        "subject": "ns",
        "start": 1_700_000_000_000,
        "end": 1_700_000_000_005,
        "duration": 5,
        "response": ActivationResponse(status="success", result={"ok": True}, size=11),
        "logs": ["2026-11-23T00:00:00.000000Z stdout: hi"],
    }
    return Activation(**(fields | overrides))


def namespace_key(entities_url: str, name: str) -> str:
    """A new namespace in the entity store at `entities_url` (a running platform's); its key, `uuid:secret`."""

    async def create() -> str:
        store = SqlEntityStore(entities_url)
        await store.start()
        try:
            return await create_namespace(store, name)
        finally:
            await store.close()

    return asyncio.run(create())
