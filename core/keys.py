"""API keys: `uuid:secret`, of which only a hash of the secret is stored.

Secrets are 64 random alphanumerics (~380 bits), so a fast hash is as safe as a slow KDF
here and keeps authentication off the hot path's budget.
"""

import hashlib
import hmac

from core.ids import new_auth_key


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), key_hash)


def new_key() -> tuple[str, str, str]:
    """(uuid, secret, hash of the secret)."""
    uuid, secret = new_auth_key()
    return uuid, secret, hash_secret(secret)
