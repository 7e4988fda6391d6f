"""What the SDK raises: one class per answer a caller handles differently.

Every error from the API carries the HTTP status, OpenWhisk's error text and the transaction id (`code`)
that the gateway logged; errors about one activation also carry its id.
"""

from typing import Any


class ClientError(Exception):
    """Root of the SDK's errors."""


class ConfigError(ClientError):
    """No API host or key configured, or a value that cannot be used."""


class ConnectionFailed(ClientError):
    """The API host did not answer at all."""


# One class per HTTP status, as core/errors.py has per error: the client side imports nothing of the platform.
class ApiError(ClientError):
    """The API answered with an error status."""

    def __init__(self, status: int, error: str, code: str = "", activation_id: str | None = None) -> None:
        super().__init__(f"{error} (HTTP {status}{f', activation {activation_id}' if activation_id else ''})")
        self.status = status
        self.error = error
        self.code = code
        self.activation_id = activation_id


class BadRequestError(ApiError):
    """400: the request was malformed or the action is not valid."""


class AuthenticationError(ApiError):
    """401: the key is missing or wrong."""


class ForbiddenError(ApiError):
    """403: the key may not touch that entity."""


class NotFoundError(ApiError):
    """404: no such action, activation or namespace."""


class ConflictError(ApiError):
    """409: the entity exists already (create without overwrite) or changed meanwhile."""


class PayloadTooLargeError(ApiError):
    """413: the body, code or parameters are too large."""


class ThrottledError(ApiError):
    """429: a namespace limit tripped; retry later."""


class ServerError(ApiError):
    """5xx other than a failed activation: the platform itself failed."""


class ActivationFailed(ApiError):
    """The function ran and failed: `application error`, `action developer error` or `whisk internal error`."""

    def __init__(
        self,
        status: int,
        error: str,
        code: str = "",
        activation_id: str | None = None,
        result: Any = None,
        record: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(status, error, code, activation_id)
        self.result = result
        self.record = record  # the whole activation record, when the answer carried it


class RemoteFunctionError(ActivationFailed):
    """A function deployed with `Client.function` raised; `remote_type` and `remote_traceback` say what."""

    def __init__(self, activation_id: str, remote_type: str, message: str, remote_traceback: str) -> None:
        super().__init__(502, f"{remote_type}: {message}", activation_id=activation_id)
        self.remote_type = remote_type
        self.message = message
        self.remote_traceback = remote_traceback


class ActivationPending(ClientError):
    """The activation has not finished within the wait; it goes on, poll it again with its id."""

    def __init__(self, activation_id: str, waited_s: float) -> None:
        super().__init__(f"activation {activation_id} has no result after {waited_s:g}s; it is still running")
        self.activation_id = activation_id


STATUS_ERRORS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: ThrottledError,
}


def error_for(status: int, error: str, code: str = "", activation_id: str | None = None) -> ApiError:
    kind = STATUS_ERRORS.get(status, ServerError if status >= 500 else ApiError)
    return kind(status, error, code, activation_id)
