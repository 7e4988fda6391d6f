"""Per-namespace throttle limits are stored with the namespace, in every entity store."""

import pytest

from core.errors import BadRequest, NotFound
from core.models import NamespaceLimits
from core.namespaces import create_namespace, set_limits
from core.stores.entities import SqlEntityStore


async def test_limits_default_to_the_platform_and_can_be_set(entities: SqlEntityStore) -> None:
    key = await create_namespace(entities, "team")
    found = await entities.get_namespace("team")
    assert found is not None and found.limits == NamespaceLimits()
    await set_limits(entities, "team", NamespaceLimits(concurrent_invocations=5, invocations_per_minute=100))
    await set_limits(entities, "team", NamespaceLimits(concurrent_invocations=7))  # replaces, not merges
    by_key = await entities.namespace_by_uuid(key.split(":", 1)[0])
    assert by_key is not None and by_key.limits == NamespaceLimits(concurrent_invocations=7)
    assert [n.limits for n in await entities.list_namespaces()] == [NamespaceLimits(concurrent_invocations=7)]


async def test_limits_of_a_missing_namespace_or_negative_ones_are_refused(entities: SqlEntityStore) -> None:
    with pytest.raises(NotFound):
        await set_limits(entities, "nobody", NamespaceLimits(concurrent_invocations=1))
    await create_namespace(entities, "team")
    with pytest.raises(BadRequest):
        await set_limits(entities, "team", NamespaceLimits(invocations_per_minute=-1))
