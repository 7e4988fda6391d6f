"""Creating namespaces and their keys (used by `stratus admin` and `stratus standalone`)."""

from stratus.errors import Conflict
from stratus.keys import new_key
from stratus.models import Namespace
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
