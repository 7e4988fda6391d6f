"""core.placement: the three policies as pure logic (the cluster-level effect is in bench_sim)."""

import random
from collections import Counter
from dataclasses import replace

import pytest

from core.ids import InvokerId
from core.messages import Heartbeat
from core.placement import (
    POLICIES,
    Request,
    cold_start_ms,
    expected_wait_ms,
    place,
    run_time_ms,
    spread_width,
    walk,
)
from core.sharding import Choice, InvokerState, fits, probe_order

MB = 256


def ring(n: int, total: int = 2048) -> list[InvokerState]:
    return [InvokerState(InvokerId(f"i{k}"), True, total) for k in range(n)]


def home_and_next(shard: str, n: int) -> tuple[str, str]:
    order = probe_order(shard, n)
    return f"i{order[0]}", f"i{order[1]}"


def with_(states: list[InvokerState], name: str, **changes: object) -> list[InvokerState]:
    return [replace(s, **changes) if s.invoker_id == name else s for s in states]  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_goes_home_when_it_is_empty_and_none_without_a_healthy_invoker(policy: str) -> None:
    home, _ = home_and_next("ns|a", 4)
    chosen = place(policy, Request("ns|a", MB), ring(4))  # type: ignore[arg-type]
    assert chosen == Choice(InvokerId(home), forced=False)
    sick = [replace(s, healthy=False) for s in ring(4)]
    assert place(policy, Request("ns|a", MB), sick) is None  # type: ignore[arg-type]
    assert place(policy, Request("ns|a", MB), []) is None  # type: ignore[arg-type]


def test_warm_prefers_an_invoker_with_an_idle_warm_container_over_the_empty_home() -> None:
    home, other = home_and_next("ns|a", 3)
    states = with_(ring(3), other, warm=2, action_in_flight=1, booked_mb=MB)  # one of its 2 is idle
    assert place("warm", Request("ns|a", MB), states) == Choice(InvokerId(other), forced=False)
    busy = with_(ring(3), other, warm=2, action_in_flight=2, booked_mb=2 * MB)  # both busy: a cold start at home
    assert place("warm", Request("ns|a", MB), busy) == Choice(InvokerId(home), forced=False)


def test_warm_container_slots_count_concurrency() -> None:
    _, other = home_and_next("ns|a", 3)
    states = with_(ring(3), other, warm=1, action_in_flight=3, booked_mb=MB)  # 1 container x 4 slots, 3 taken
    assert place("warm", Request("ns|a", MB, concurrency=4), states) == Choice(InvokerId(other), forced=False)


def test_warm_queues_at_a_full_warm_invoker_when_the_wait_is_shorter_than_a_cold_start() -> None:
    home, other = home_and_next("ns|a", 2)
    states = with_(ring(2), home, warm=2, action_in_flight=2, booked_mb=2048)
    quick = Request("ns|a", MB, run_ms=100, cold_ms=900)
    assert expected_wait_ms(states[0] if states[0].invoker_id == home else states[1], quick) == 50
    assert place("warm", quick, states) == Choice(InvokerId(home), forced=True)
    slow = Request("ns|a", MB, run_ms=5000, cold_ms=900)  # waiting costs more: cold start where there is room
    assert place("warm", slow, states) == Choice(InvokerId(other), forced=False)
    unknown = Request("ns|a", MB, run_ms=None, cold_ms=900)  # nothing measured yet: no queueing
    assert place("warm", unknown, states) == Choice(InvokerId(other), forced=False)


def test_warm_queues_one_at_a_time_a_longer_queue_means_grow_elsewhere() -> None:
    home, other = home_and_next("ns|a", 2)
    queued = with_(ring(2), home, warm=2, action_in_flight=3, booked_mb=2048)  # one waits there already
    quick = Request("ns|a", MB, run_ms=100, cold_ms=900)
    assert place("warm", quick, queued) == Choice(InvokerId(other), forced=False)


def test_warm_counts_the_queue_ahead_in_the_expected_wait() -> None:
    inv = InvokerState(InvokerId("i0"), True, 2048, 2048, action_in_flight=5, warm=2)  # 3 queued already
    assert expected_wait_ms(inv, Request("ns|a", MB, run_ms=100)) == 100 * 4 / 2


def test_a_quiet_action_stays_near_home_a_hot_one_spreads_to_the_least_loaded_of_its_first_k() -> None:
    states = ring(8)
    path = walk("ns|hot", states)
    assert spread_width(Request("ns|hot", MB), path) == 2  # the home and the next: two choices
    _, second = home_and_next("ns|hot", 8)
    home_busier = with_(states, path[0].invoker_id, booked_mb=MB)
    assert place("warm", Request("ns|hot", MB), home_busier) == Choice(InvokerId(second), forced=False)
    hot = [replace(s, action_in_flight=4, booked_mb=4 * MB) for s in states[:3]]  # 12 in flight = 3 GB
    hot += states[3:]
    path = walk("ns|hot", hot)
    k = spread_width(Request("ns|hot", MB), path)
    assert k == 7  # 13 x 256 MB over 512 MB per node (a quarter of 2048)
    chosen = place("warm", Request("ns|hot", MB), hot)
    assert chosen is not None and not chosen.forced
    assert chosen.invoker_id == min(path[:k], key=lambda s: (s.load, path.index(s))).invoker_id


def test_warm_when_all_are_full_queues_at_the_warm_holder_else_the_least_loaded() -> None:
    states = [InvokerState(InvokerId(f"i{k}"), True, 1024, 1024 + k * MB) for k in range(3)]
    assert place("warm", Request("ns|a", MB), states) == Choice(InvokerId("i0"), forced=True)
    holder = with_(states, "i2", warm=1, action_in_flight=1)
    assert place("warm", Request("ns|a", MB, run_ms=50_000, cold_ms=10), holder) == Choice(InvokerId("i2"), True)


def test_warm_skips_dead_invokers_and_a_rejoined_one_is_used_again() -> None:
    home, _ = home_and_next("ns|a", 3)
    dead = with_(ring(3), home, healthy=False, warm=5)
    chosen = place("warm", Request("ns|a", MB), dead)
    assert chosen is not None and chosen.invoker_id != home
    rejoined = with_(ring(3), home, warm=0)  # back with an empty pool: an ordinary home again
    assert place("warm", Request("ns|a", MB), rejoined) == Choice(InvokerId(home), forced=False)


def test_warm_is_the_same_whatever_order_the_ring_is_listed_in() -> None:
    states = with_(ring(5), "i3", warm=1)
    for shard in ("ns|a", "ns|b", "x|y"):
        request = Request(shard, MB)
        assert place("warm", request, states) == place("warm", request, list(reversed(states)))


def test_openwhisk_overflows_to_a_random_healthy_invoker_when_all_are_full() -> None:
    full = [InvokerState(InvokerId(f"i{k}"), True, 1024, 1024) for k in range(4)]
    picks = Counter(place("openwhisk", Request("ns|a", MB), full, random.Random(seed)) for seed in range(200))
    assert {c.forced for c in picks if c} == {True}
    assert len(picks) == 4  # not always the least loaded (sharding's rule)


def test_many_actions_spread_homes_under_warm_as_under_sharding() -> None:
    homes = Counter(place("warm", Request(f"ns|action-{a}", MB), ring(3)) for a in range(300))
    assert len(homes) == 3 and min(homes.values()) > 60


def beat(name: str, **extra: object) -> Heartbeat:
    return Heartbeat(
        invoker_id=InvokerId(name), sent_ms=0, user_memory_mb=1024, busy_memory_mb=0, containers=0, **extra
    )  # type: ignore[arg-type]


def test_run_and_cold_start_times_come_from_healthy_invokers_heartbeats() -> None:
    beats = [
        (beat("i0", run_ms={"ns/a": 100}, cold_ms=800), True),
        (beat("i1", run_ms={"ns/a": 300}, cold_ms=1200), True),
        (beat("i2", run_ms={"ns/a": 9000}, cold_ms=9000), False),
    ]
    assert run_time_ms(beats, "ns/a") == 200
    assert run_time_ms(beats, "ns/b") is None
    assert cold_start_ms(beats) == 1200
    assert cold_start_ms([]) == 1000


@pytest.mark.parametrize("policy", POLICIES)
def test_with_one_healthy_invoker_every_policy_picks_it_forced_exactly_when_it_has_no_room(policy: str) -> None:
    """What lets core.placer skip reading the books when one invoker is healthy: the answer is known."""
    rng = random.Random(11)
    for _ in range(500):
        n = rng.randint(1, 4)
        only = rng.randrange(n)
        states = [
            InvokerState(
                InvokerId(f"i{k}"),
                healthy=k == only,
                user_memory_mb=2048,
                booked_mb=rng.choice([0, MB, 1024, 2048, 2048 + MB]),
                action_in_flight=rng.randint(0, 9),
                warm=rng.randint(0, 3),
            )
            for k in range(n)
        ]
        request = Request("ns|a", MB, concurrency=rng.choice([1, 4]), run_ms=rng.choice([None, 5.0, 5000.0]))
        choice = place(policy, request, states, random.Random(1))  # type: ignore[arg-type]
        assert choice is not None and choice.invoker_id == f"i{only}"
        assert choice.forced == (not fits(states[only], MB, request.concurrency))
