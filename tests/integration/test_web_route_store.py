"""The entity store's API routes, on MariaDB and SQLite."""

from core.models import Cors, Route
from core.stores.entities import SqlEntityStore


def route(**overrides: object) -> Route:
    fields: dict[str, object] = {
        "namespace": "ns",
        "base_path": "/shop",
        "rel_path": "/items/{id}",
        "verb": "GET",
        "action": "items",
    }
    return Route.model_validate(fields | overrides)


async def test_put_replaces_the_route_of_the_same_path_and_verb(entities: SqlEntityStore) -> None:
    await entities.put_route(route())
    await entities.put_route(route(action="other", cors=Cors(origins=["https://a.example"], max_age=60)))
    await entities.put_route(route(verb="DELETE"))
    await entities.put_route(route(namespace="elsewhere"))
    found = await entities.list_routes("ns")
    assert [(r.verb, r.action) for r in found] == [("DELETE", "items"), ("GET", "other")]
    assert found[1].cors == Cors(origins=["https://a.example"], max_age=60)


async def test_delete_by_base_path_rel_path_and_verb(entities: SqlEntityStore) -> None:
    for made in (route(), route(verb="POST"), route(rel_path="/items"), route(base_path="/other")):
        await entities.put_route(made)
    assert [r.verb for r in await entities.delete_routes("ns", "/shop", "/items/{id}", "POST")] == ["POST"]
    assert [r.rel_path for r in await entities.delete_routes("ns", "/shop")] == ["/items", "/items/{id}"]
    assert await entities.delete_routes("ns", "/shop") == []
    assert [r.base_path for r in await entities.list_routes("ns")] == ["/other"]
