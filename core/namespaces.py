"""Creating namespaces and their keys (used by `stratus admin` and `stratus standalone`)."""

from core.errors import BadRequest, Conflict, NotFound
from core.ids import new_auth_key
from core.keys import new_key
from core.models import Namespace, NamespaceLimits
from core.names import check_name
from core.stores.entities import EntityStore


async def create_namespace(entities: EntityStore, name: str, subject: str | None = None) -> str:
    """Creates the namespace with a fresh key; returns the key as `uuid:secret` (shown once, stored hashed)."""
    check_name(name, "namespace name")
    if await entities.get_namespace(name) is not None:
        raise Conflict(f"The namespace '{name}' already exists.")
    uuid, secret, key_hash = new_key()
    await entities.create_namespace(Namespace(name=name, uuid=uuid, key_hash=key_hash, subject=subject or name))
    return f"{uuid}:{secret}"


async def set_limits(entities: EntityStore, name: str, limits: NamespaceLimits) -> None:
    """A namespace's own throttles (concurrent invocations, invocations per minute; None: default, 0: none)."""
    for value in (limits.concurrent_invocations, limits.invocations_per_minute):
        if value is not None and value < 0:
            raise BadRequest("A throttle limit must be 0 (no limit) or more.")
    if await entities.get_namespace(name) is None:
        raise NotFound("namespace", name)
    await entities.set_namespace_limits(name, limits)


async def rotate_key(entities: EntityStore, name: str) -> str:
    """A fresh key (new uuid and secret) replaces the namespace's; returns it as `uuid:secret`, shown once.
    The old key stops working once the gateways' auth caches expire (STRATUS_AUTH_CACHE_S, 5 s)."""
    uuid, secret, key_hash = new_key()
    if not await entities.set_namespace_key(name, uuid, key_hash):
        raise NotFound("namespace", name)
    return f"{uuid}:{secret}"


async def revoke_key(entities: EntityStore, name: str) -> None:
    """No key works for the namespace until `rotate_key`; its entities stay."""
    placeholder, _ = new_auth_key()
    if not await entities.set_namespace_key(name, f"revoked-{placeholder}", ""):  # no secret hashes to ""
        raise NotFound("namespace", name)
