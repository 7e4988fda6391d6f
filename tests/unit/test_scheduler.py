"""core.sharding: pure placement, including fairness when invokers differ in size."""

from collections import Counter
from dataclasses import replace

from core.ids import InvokerId
from core.invokers import Registry
from core.messages import Heartbeat
from core.sharding import (
    Choice,
    InvokerState,
    choose_invoker,
    extra_memory_mb,
    probe_order,
    step_sizes,
)


def state(name: str, booked: int = 0, *, healthy: bool = True, total: int = 2048, n: int = 0) -> InvokerState:
    return InvokerState(InvokerId(name), healthy, total, booked, n)


def test_no_healthy_invoker_gives_none() -> None:
    assert choose_invoker("ns/a", 256, 1, [state("i0", healthy=False)]) is None
    assert choose_invoker("ns/a", 256, 1, []) is None


def test_step_sizes_are_pairwise_coprime_and_coprime_with_n() -> None:
    assert step_sizes(10) == [1, 3, 7]
    assert step_sizes(1) == [1]
    assert step_sizes(6) == [1, 5]


def test_probe_order_visits_every_invoker_once() -> None:
    for n in range(1, 12):
        for fqn in ("ns/a", "ns/b", "other/pkg/c"):
            assert sorted(probe_order(fqn, n)) == list(range(n))


def test_same_action_always_goes_home_whatever_the_listing_order() -> None:
    invokers = [state(f"i{n}") for n in range(4)]
    home = choose_invoker("ns/hello", 256, 1, invokers)
    assert home == choose_invoker("ns/hello", 256, 1, list(reversed(invokers)))
    assert home is not None and not home.forced


def test_home_stays_when_another_invoker_goes_down() -> None:
    invokers = [state(f"i{n}") for n in range(4)]
    home = choose_invoker("ns/hello", 256, 1, invokers)
    assert home is not None
    others_down = [replace(i, healthy=False) if i.invoker_id != home.invoker_id else i for i in invokers]
    assert choose_invoker("ns/hello", 256, 1, others_down) == home


def test_full_home_overflows_along_the_walk_to_one_with_room() -> None:
    invokers = [state(f"i{n}") for n in range(3)]
    home = choose_invoker("ns/hello", 256, 1, invokers)
    assert home is not None
    order = probe_order("ns/hello", 3)
    crowded = [replace(i, booked_mb=2048) if i.invoker_id == home.invoker_id else i for i in invokers]
    assert choose_invoker("ns/hello", 256, 1, crowded) == Choice(InvokerId(f"i{order[1]}"), forced=False)


def test_unhealthy_home_is_skipped() -> None:
    invokers = [state(f"i{n}") for n in range(3)]
    home = choose_invoker("ns/hello", 256, 1, invokers)
    assert home is not None
    sick = [replace(i, healthy=False) if i.invoker_id == home.invoker_id else i for i in invokers]
    chosen = choose_invoker("ns/hello", 256, 1, sick)
    assert chosen is not None and chosen.invoker_id != home.invoker_id


def test_when_all_are_full_the_least_loaded_takes_it_forced() -> None:
    invokers = [state("i0", 2048), state("i1", 1900, total=2048), state("i2", 600, total=512)]
    assert choose_invoker("ns/a", 256, 1, invokers) == Choice(InvokerId("i1"), forced=True)


def test_concurrency_slots_are_used_before_more_memory() -> None:
    assert extra_memory_mb(0, 3, 256) == 256
    assert extra_memory_mb(1, 3, 256) == 0
    assert extra_memory_mb(2, 3, 256) == 0
    assert extra_memory_mb(3, 3, 256) == 256
    # a full invoker still takes an activation that fits in a free slot of a booked container
    full_with_slot = [state("i0", 2048, n=1)]
    assert choose_invoker("ns/a", 256, 3, full_with_slot) == Choice(InvokerId("i0"), forced=False)
    assert choose_invoker("ns/a", 256, 1, full_with_slot) == Choice(InvokerId("i0"), forced=True)


def simulate(
    totals: dict[str, int], actions: int, per_action: int, memory_mb: int
) -> tuple[Counter[str], dict[str, int]]:
    """Place `actions` x `per_action` long-running activations, booking as the ledger does."""
    booked = dict.fromkeys(totals, 0)
    placed: Counter[str] = Counter()
    forced = 0
    for a in range(actions):
        for _ in range(per_action):
            ring = [state(name, booked[name], total=total) for name, total in totals.items()]
            choice = choose_invoker(f"ns/action-{a}", memory_mb, 1, ring)
            assert choice is not None
            forced += choice.forced
            booked[choice.invoker_id] += memory_mb
            placed[choice.invoker_id] += 1
    return placed, booked | {"forced": forced}


def test_uneven_invokers_are_filled_to_capacity_before_any_is_oversubscribed() -> None:
    totals = {"small": 512, "medium": 1024, "large": 2048}  # 14 slots of 256 MB in all
    placed, books = simulate(totals, actions=7, per_action=2, memory_mb=256)
    assert books["forced"] == 0
    assert {name: books[name] for name in totals} == totals  # everyone exactly full, nobody over
    assert placed == Counter(small=2, medium=4, large=8)


def test_overload_spreads_in_proportion_to_size() -> None:
    totals = {"small": 512, "medium": 1024, "large": 2048}
    _, books = simulate(totals, actions=14, per_action=4, memory_mb=256)  # 56 activations, 4x capacity
    loads = {name: books[name] / totals[name] for name in totals}
    assert max(loads.values()) - min(loads.values()) <= 256 / 512  # within one activation of the smallest
    assert books["forced"] == 56 - 14


def test_many_actions_spread_their_homes_over_every_invoker() -> None:
    invokers = [state(f"i{n}", total=1 << 20) for n in range(3)]
    homes = Counter(choose_invoker(f"ns/action-{a}", 256, 1, invokers) for a in range(300))
    assert len(homes) == 3 and min(homes.values()) > 60


def test_registry_ring_marks_stale_failing_and_draining_invokers_not_healthy() -> None:
    def beat(name: str, sent_ms: int, **extra: object) -> Heartbeat:
        return Heartbeat(
            invoker_id=InvokerId(name), sent_ms=sent_ms, user_memory_mb=1024, busy_memory_mb=0, containers=0, **extra
        )  # type: ignore[arg-type]

    registry = Registry(heartbeat_ttl_ms=10_000, forget_after_ms=60_000)
    registry.update(
        [
            beat("fresh", 100_000),
            beat("stale", 85_000),
            beat("sick", 100_000, failing="containers do not start"),
            beat("leaving", 100_000, state="draining"),
            beat("gone", 1_000),
        ]
    )
    assert registry.health(101_000) == {
        "fresh": "healthy",
        "gone": "offline",
        "leaving": "offline",
        "sick": "unhealthy",
        "stale": "offline",
    }
    assert [healthy for _, healthy in registry.ring(101_000)] == [True, False, False, False, False]
    assert registry.forgotten(101_000) == ["gone"]
