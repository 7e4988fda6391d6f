from collections import Counter

from controller.registry import Registry
from controller.scheduler import InvokerState, choose_invoker, coprime_steps
from stratus.ids import ActivationId, InvokerId
from stratus.messages import Heartbeat


def state(name: str, free: int, *, healthy: bool = True, total: int = 2048) -> InvokerState:
    return InvokerState(InvokerId(name), healthy, total, free)


def test_no_healthy_invoker_gives_none() -> None:
    assert choose_invoker("ns/a", 256, [state("i0", 2048, healthy=False)]) is None
    assert choose_invoker("ns/a", 256, []) is None


def test_same_action_always_goes_home_when_it_has_room() -> None:
    invokers = [state(f"i{n}", 2048) for n in range(3)]
    homes = {choose_invoker("ns/hello", 256, invokers) for _ in range(10)}
    assert len(homes) == 1


def test_home_is_independent_of_the_order_invokers_are_listed() -> None:
    invokers = [state(f"i{n}", 2048) for n in range(4)]
    assert choose_invoker("ns/x", 256, invokers) == choose_invoker("ns/x", 256, list(reversed(invokers)))


def test_full_home_overflows_to_one_with_room() -> None:
    invokers = [state(f"i{n}", 2048) for n in range(3)]
    home = choose_invoker("ns/hello", 256, invokers)
    crowded = [state(i.invoker_id, 0 if i.invoker_id == home else 2048) for i in invokers]
    chosen = choose_invoker("ns/hello", 256, crowded)
    assert chosen is not None and chosen != home


def test_unhealthy_invoker_is_never_chosen() -> None:
    invokers = [state("i0", 2048, healthy=False), state("i1", 0), state("i2", 0)]
    assert choose_invoker("ns/a", 256, invokers) in {"i1", "i2"}


def test_everyone_full_goes_to_the_least_loaded() -> None:
    invokers = [state("i0", 100, total=2048), state("i1", 200, total=2048)]
    assert choose_invoker("ns/a", 256, invokers) == "i1"


def test_many_actions_spread_over_all_invokers() -> None:
    invokers = [state(f"i{n}", 2048) for n in range(3)]
    homes = Counter(choose_invoker(f"ns/action{n}", 256, invokers) for n in range(300))
    assert set(homes) == {"i0", "i1", "i2"}
    assert min(homes.values()) > 50


def test_coprime_steps() -> None:
    assert coprime_steps(1) == [1]
    assert coprime_steps(4) == [1, 3]
    assert coprime_steps(5) == [1, 2, 3, 4, 5][:4]


def test_registry_books_in_flight_memory_and_expires_silent_invokers() -> None:
    registry = Registry(heartbeat_ttl_ms=10_000)
    beat = Heartbeat(invoker_id=InvokerId("i0"), sent_ms=1_000, user_memory_mb=1024, busy_memory_mb=0, containers=0)
    registry.update([beat])
    registry.dispatched(ActivationId("a" * 32), InvokerId("i0"), 256)
    [fresh] = registry.states(now_ms=2_000)
    assert fresh.healthy and fresh.free_memory_mb == 768
    registry.completed(ActivationId("a" * 32))
    assert registry.states(now_ms=2_000)[0].free_memory_mb == 1024
    assert not registry.states(now_ms=20_000)[0].healthy
