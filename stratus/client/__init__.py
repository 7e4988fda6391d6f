"""The Python SDK: `Client` / `AsyncClient` for the REST API, remote functions, typed errors."""

from stratus.client.client import AsyncClient, Client
from stratus.client.errors import (
    ActivationFailed,
    ActivationPending,
    ApiError,
    ClientError,
    ConfigError,
    ConnectionFailed,
    NotFoundError,
    RemoteFunctionError,
)
from stratus.client.remote import ActivationHandle, RemoteFunction

__all__ = [
    "ActivationFailed",
    "ActivationHandle",
    "ActivationPending",
    "ApiError",
    "AsyncClient",
    "Client",
    "ClientError",
    "ConfigError",
    "ConnectionFailed",
    "NotFoundError",
    "RemoteFunction",
    "RemoteFunctionError",
]
