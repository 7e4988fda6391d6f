"""Stratus core. `stratus.Client` and the other SDK names load on first use, so services never import httpx here."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stratus.client import ActivationFailed, ActivationHandle, AsyncClient, Client, RemoteFunctionError

__all__ = ["ActivationFailed", "ActivationHandle", "AsyncClient", "Client", "RemoteFunctionError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import stratus.client

        return getattr(stratus.client, name)
    raise AttributeError(f"module 'stratus' has no attribute {name!r}")
