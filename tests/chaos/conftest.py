"""The chaos report goes into the run's summary (a passing test's output is not shown otherwise)."""

import pytest

from tests.chaos.test_chaos import TABLE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TABLE:
        terminalreporter.section("chaos")
        for line in TABLE:
            terminalreporter.write_line(line)
