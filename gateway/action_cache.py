"""Recently read actions, so that a hot action costs no entity-store read per invocation.

Writes through this gateway invalidate their entry at once; a write through another gateway
becomes visible here within `ttl_s` (STRATUS_ACTION_CACHE_S, 2 s by default; 0 disables).
"""

import time

from stratus.models import Action
from stratus.stores.entities import EntityStore

MAX_ENTRIES = 10_000


class ActionCache:
    def __init__(self, entities: EntityStore, ttl_s: float) -> None:
        self._entities = entities
        self._ttl_s = ttl_s
        self._entries: dict[tuple[str, str], tuple[float, Action]] = {}

    async def get(self, namespace: str, name: str) -> Action | None:
        key = (namespace, name)
        now = time.monotonic()
        cached = self._entries.get(key)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        action = await self._entities.get_action(namespace, name)
        if action is None:
            self._entries.pop(key, None)
        elif self._ttl_s > 0:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (now, action)
        return action

    def invalidate(self, namespace: str, name: str) -> None:
        self._entries.pop((namespace, name), None)
