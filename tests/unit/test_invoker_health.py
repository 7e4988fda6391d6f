"""invoker.health: when an invoker reports itself failing, and how it heals."""

from dataclasses import dataclass

from invoker.health import Health, warm_pools


def test_more_than_three_system_errors_in_ten_make_it_failing() -> None:
    health = Health(retry_after_s=30)
    for n in range(3):
        health.record(True, "container did not start", now=n)
    assert health.failing(now=3) is None
    health.record(False, "", now=4)
    health.record(True, "container did not start", now=5)
    reason = health.failing(now=6)
    assert reason is not None and "4 of the last 5" in reason and "container did not start" in reason


def test_successes_push_old_errors_out_of_the_window() -> None:
    health = Health()
    for n in range(4):
        health.record(True, "boom", now=n)
    for n in range(7):
        health.record(False, "", now=10 + n)
    assert health.failing(now=17) is None


def test_after_the_retry_period_it_is_half_open_and_one_error_closes_it() -> None:
    health = Health(retry_after_s=30)
    for n in range(5):
        health.record(True, "boom", now=n)
    assert health.failing(now=10) is not None
    assert health.failing(now=40) is None  # 30 s without a new error: try again
    health.record(True, "boom", now=41)
    assert health.failing(now=42) is not None


def test_an_unreachable_engine_is_failing_until_it_answers() -> None:
    health = Health()
    health.engine("connection refused")
    assert health.failing(now=0) == "the container engine is unreachable: connection refused"
    health.engine(None)
    assert health.failing(now=1) is None


@dataclass
class Box:
    key: tuple[str, str, str] | None
    ready: bool


def test_warm_pools_count_ready_containers_per_action() -> None:
    boxes = [Box(("ns", "ns/a", "r1"), True), Box(("ns", "ns/a", "r1"), True), Box(("ns", "ns/b", "r1"), False)]
    assert warm_pools(boxes + [Box(None, True)]) == {"ns/a": 2}
