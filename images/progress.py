"""How long image operations report progress: a callable taking one line of text."""

from collections.abc import Callable

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """A Progress that says nothing."""
