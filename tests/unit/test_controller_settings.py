"""The controller's settings refuse a retention that would delete every record as soon as it is written."""

import pytest
from pydantic import ValidationError

from core.config import ControllerSettings

CONNECTIONS = {"controller_id": "c", "redis_url": "unused", "mongo_url": "unused", "entities_url": "unused"}


@pytest.mark.parametrize("seconds", ["0", "-60"])
def test_a_retention_of_zero_or_less_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, seconds: str) -> None:
    monkeypatch.setenv("STRATUS_ACTIVATION_TTL_S", seconds)
    with pytest.raises(ValidationError, match="activation_ttl_s"):
        ControllerSettings(**CONNECTIONS)  # type: ignore[arg-type]


def test_a_retention_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATUS_ACTIVATION_TTL_S", "3600")
    assert ControllerSettings(**CONNECTIONS).activation_ttl_s == 3600  # type: ignore[arg-type]
