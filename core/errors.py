"""The few errors Stratus raises; gateway/errors.py turns them into OpenWhisk bodies."""


class StratusError(Exception):
    """Root of every error Stratus raises on purpose."""


class BadRequest(StratusError):
    """The caller sent something we cannot accept (400)."""


class Unauthorized(StratusError):
    """Missing or wrong credentials (401)."""


class Forbidden(StratusError):
    """Authenticated, but not entitled to the named entity (403)."""


class NotFound(StratusError):
    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"The requested {kind} '{key}' does not exist.")
        self.kind = kind
        self.key = key


class Conflict(StratusError):
    """The entity exists already (PUT without overwrite) or changed underneath us (409)."""


class TooLarge(StratusError):
    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"The {what} is larger than allowed: {size} > {limit} bytes.")
        self.size = size
        self.limit = limit


class UnsupportedMediaType(StratusError):
    """A request body of a content type the route does not take (415)."""


class Throttled(StratusError):
    """A namespace throttle tripped (429)."""


class Unavailable(StratusError):
    """Nothing can run the work now (503), e.g. no healthy invoker."""


class StoreUnavailable(StratusError):
    """A backing store failed; the operation may be retried."""


class BadMessage(StratusError):
    """A stream entry that cannot be decoded; it goes to the dead-letter stream."""
