"""Fixtures of the invoker's integration tests: the Docker engine, a runner harness."""

from tests.invoker_harness import engine, harness

__all__ = ["engine", "harness"]
