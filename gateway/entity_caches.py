"""The gateway's caches of entities, so that a hot path costs no entity-store read per request:
actions (invocations), namespaces by name (web actions' owners) and each namespace's API routes.

All are core.ttl_cache.TTLCache. Writes through this gateway invalidate their entry at once; a write
through another gateway becomes visible here within `ttl_s` (STRATUS_ACTION_CACHE_S, 2 s by default; 0
disables). While the entity store is unreachable, what was read up to ENTITY_OUTAGE_GRACE_S ago is still
served. (Keys are cached by gateway.auth.Authenticator, on the same class.)
"""

from core.limits import ENTITY_OUTAGE_GRACE_S
from core.models import Action, Namespace, Route
from core.packages import resolve_action
from core.stores.entities import EntityStore
from core.ttl_cache import TTLCache


class ActionCache:
    """Actions as invocations need them: without their code (what an Invocation carries)."""

    def __init__(self, entities: EntityStore, ttl_s: float) -> None:
        self._entities = entities
        self._cache: TTLCache[tuple[str, str], Action | None] = TTLCache(ttl_s, stale_s=ENTITY_OUTAGE_GRACE_S)

    async def get(self, namespace: str, name: str) -> Action | None:
        """`name`: "[pkg/]name" or "/ns/[pkg/]name", resolved through packages and bindings (core.packages).
        Not kept when missing: an action created through another gateway is found at once."""
        return await self._cache.get((namespace, name), lambda: self._load(namespace, name))

    async def _load(self, namespace: str, name: str) -> Action | None:
        action = await resolve_action(self._entities, namespace, name)
        return action.without_code() if action is not None else None

    def invalidate(self, namespace: str, name: str) -> None:
        self._cache.invalidate((namespace, name))

    def clear(self) -> None:
        """After a package write: every action reached through it may have changed."""
        self._cache.clear()


class OwnerCache:
    """Namespaces by name, missing ones included: a warm web action costs no entity-store read."""

    def __init__(self, entities: EntityStore, ttl_s: float) -> None:
        self._entities = entities
        self._cache: TTLCache[str, Namespace | None] = TTLCache(ttl_s, stale_s=ENTITY_OUTAGE_GRACE_S)

    async def get(self, name: str) -> Namespace | None:
        return await self._cache.get(name, lambda: self._entities.get_namespace(name), keep=lambda _: True)


class RouteTable:
    """Each namespace's API routes (an empty list included)."""

    def __init__(self, entities: EntityStore, ttl_s: float) -> None:
        self._entities = entities
        self._cache: TTLCache[str, list[Route]] = TTLCache(ttl_s, stale_s=ENTITY_OUTAGE_GRACE_S)

    async def of(self, namespace: str) -> list[Route]:
        return await self._cache.get(namespace, lambda: self._entities.list_routes(namespace), keep=lambda _: True)

    def invalidate(self, namespace: str) -> None:
        self._cache.invalidate(namespace)
