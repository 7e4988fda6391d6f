"""Alarm schedules (core.alarms): which tick is due when, and what a feed CREATE may hold."""

import pytest

from core.alarms import CATCH_UP_MS, due_tick, from_params, latest_tick
from core.errors import BadRequest

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def test_cron_with_seconds_first_fires_on_each_tick() -> None:
    alarm = from_params("alarm", "ns", "t", {"cron": "*/5 * * * * *"}, T0)
    assert due_tick(alarm, T0 + 11_000) == T0 + 10_000
    assert due_tick(alarm, T0 + 14_999) == T0 + 10_000
    assert due_tick(alarm, T0 + 15_000) in (T0 + 10_000, T0 + 15_000)  # the boundary: the next round sees it


def test_five_field_cron_and_time_zones() -> None:
    hourly = from_params("alarm", "ns", "t", {"cron": "0 * * * *"}, T0)
    assert latest_tick(hourly, T0 + 3_600_000 + 5) == T0 + 3_600_000
    paris = from_params("alarm", "ns", "t", {"cron": "0 9 * * *", "timezone": "Europe/Paris"}, T0)
    assert latest_tick(paris, T0 + 9 * 3_600_000) == T0 + 8 * 3_600_000  # 09:00 in Paris is 08:00 UTC in winter


def test_no_tick_before_creation_outside_the_window_or_long_missed() -> None:
    alarm = from_params("alarm", "ns", "t", {"cron": "*/5 * * * * *"}, T0 + 12_000)
    assert due_tick(alarm, T0 + 13_000) is None  # the tick at +10 s was before the alarm existed
    assert due_tick(alarm, T0 + 15_500) == T0 + 15_000
    assert due_tick(alarm, T0 + 15_000 + CATCH_UP_MS + 4_000) is not None  # a later tick is in the window
    windowed = from_params("alarm", "ns", "t", {"cron": "*/5 * * * * *", "stopDate": T0 + 20_000}, T0)
    assert due_tick(windowed, T0 + 26_000) is None
    started = from_params("alarm", "ns", "t", {"cron": "*/5 * * * * *", "startDate": "2026-01-01T00:01:00Z"}, T0)
    assert due_tick(started, T0 + 30_000) is None and due_tick(started, T0 + 61_000) == T0 + 60_000


def test_interval_and_once() -> None:
    every = from_params("interval", "ns", "t", {"minutes": 2}, T0)
    assert latest_tick(every, T0 + 60_000) is None
    assert latest_tick(every, T0 + 250_000) == T0 + 240_000
    once = from_params("once", "ns", "t", {"date": T0 + 5_000, "deleteAfterFire": True}, T0)
    assert once.fire_once and once.delete_after_fire
    assert due_tick(once, T0 + 4_000) is None and due_tick(once, T0 + 6_000) == T0 + 5_000


@pytest.mark.parametrize(
    ("feed", "params"),
    [
        ("alarm", {"cron": "not cron"}),
        ("alarm", {}),
        ("alarm", {"cron": "* * * * *", "timezone": "Nowhere/City"}),
        ("alarm", {"cron": "* * * * *", "startDate": "yesterday"}),
        ("alarm", {"cron": "* * * * *", "trigger_payload": [1]}),
        ("interval", {"minutes": "5"}),
        ("once", {}),
        ("hourly", {}),
    ],
)
def test_bad_parameters_are_refused(feed: str, params: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        from_params(feed, "ns", "t", params, T0)
