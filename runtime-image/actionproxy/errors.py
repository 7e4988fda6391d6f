"""The proxy's one exception type."""


class InitError(Exception):
    """The code cannot become a runnable action. `detail` is for the activation's stderr."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail or message + "\n"
