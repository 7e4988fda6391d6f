"""The client side of Stratus: the Python SDK (`stratus.Client`, `stratus.AsyncClient`, remote functions, typed
errors; stratus.client) and the user's `stratus` commands (stratus.cli). It talks to the platform through the
HTTP API only and imports nothing of it (core, the services, images, standalone); the operator commands join
the user's in the composition root (standalone.cli.main)."""

from stratus.client import ActivationFailed, ActivationHandle, AsyncClient, Client, RemoteFunctionError

__all__ = ["ActivationFailed", "ActivationHandle", "AsyncClient", "Client", "RemoteFunctionError"]
