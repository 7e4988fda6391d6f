"""Creating namespaces and their keys (used by `stratus admin` and `stratus standalone`)."""

from stratus.errors import BadRequest, Conflict, NotFound
from stratus.keys import new_key
from stratus.models import Namespace, NamespaceLimits
from stratus.names import check_name
from stratus.stores.entities import EntityStore


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
