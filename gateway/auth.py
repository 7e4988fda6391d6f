"""HTTP Basic `uuid:key` -> the namespace it belongs to."""

import base64

from core.errors import Unauthorized
from core.keys import secret_matches
from core.limits import ENTITY_OUTAGE_GRACE_S
from core.models import Namespace
from core.stores.entities import EntityStore
from core.ttl_cache import TTLCache


def parse_basic(header: str | None) -> tuple[str, str]:
    if not header or not header.lower().startswith("basic "):
        raise Unauthorized("The resource requires authentication, which was not supplied with the request.")
    try:
        uuid, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except ValueError as exc:  # not base64 (binascii.Error), not ASCII (a header may carry any byte), not UTF-8
        raise Unauthorized("The supplied authentication is invalid.") from exc
    if not uuid or not secret:
        raise Unauthorized("The supplied authentication is invalid.")
    return uuid, secret


class Authenticator:
    """Looks keys up by uuid, caching the stored hash for a few seconds (revocation takes that long).

    While the entity store is unreachable, a key read up to ENTITY_OUTAGE_GRACE_S ago still answers."""

    def __init__(self, entities: EntityStore, cache_s: float) -> None:
        self._entities = entities
        self._cache: TTLCache[str, Namespace | None] = TTLCache(cache_s, stale_s=ENTITY_OUTAGE_GRACE_S)

    async def authenticate(self, header: str | None) -> Namespace:
        uuid, secret = parse_basic(header)
        namespace = await self._lookup(uuid)
        if namespace is None or not secret_matches(secret, namespace.key_hash):
            raise Unauthorized("The supplied authentication is invalid.")
        return namespace

    async def _lookup(self, uuid: str) -> Namespace | None:
        return await self._cache.get(uuid, lambda: self._entities.namespace_by_uuid(uuid), keep=lambda _: True)
