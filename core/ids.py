"""Identifier types and how they are minted."""

import re
import secrets
import string
import uuid
from typing import NewType

ActivationId = NewType("ActivationId", str)
InvokerId = NewType("InvokerId", str)
GatewayId = NewType("GatewayId", str)
ControllerId = NewType("ControllerId", str)

ACTIVATION_ID_RE = re.compile(r"^[0-9a-f]{32}$")
KEY_ALPHABET = string.ascii_letters + string.digits


def new_activation_id() -> ActivationId:
    """32 lowercase hex digits, as OpenWhisk renders a v4 UUID without dashes."""
    return ActivationId(uuid.uuid4().hex)


def new_auth_key() -> tuple[str, str]:
    """A fresh (uuid, secret) pair: the secret is 64 alphanumerics, as OpenWhisk's."""
    return str(uuid.uuid4()), "".join(secrets.choice(KEY_ALPHABET) for _ in range(64))
