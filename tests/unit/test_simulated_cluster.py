"""tests/simulated_cluster.py: virtual time, exact numbers for small runs (the benchmark is bench_sim.py)."""

from tests.simulated_cluster import Costs, Scenario, Workload, simulate

ONE_ACTION = Workload(actions=1, run_ms=(100.0, 100.0), callers_per_invoker=1, bursty=0)


def test_one_caller_one_action_by_hand() -> None:
    # t=0 submit; +2 ms dispatch; cold: 500 ms create + 300 ms /init, then 100 ms /run: done at 0.902 s.
    # Then each call is warm: 2 ms dispatch + 100 ms: done at 0.902 + k x 0.102 < 10 s -> k <= 89.
    result = simulate(Scenario("warm", 1, 1024, warmup_s=0.0, measure_s=10.0, costs=Costs(), workload=ONE_ACTION))
    assert result.completed == 90
    assert dict(result.starts) == {"cold": 1, "warm": 89}
    assert sorted({round(w) for w in result.waits_ms}) == [2, 802]
    assert result.p99_wait_ms == 802.0
    assert result.throughput == 9.0


def test_a_full_invoker_evicts_and_cold_starts_on_every_switch_of_action() -> None:
    # 256 MB: room for one container; 2 actions (Zipf: 2/3, 1/3), one caller. A switch costs 2 ms + 50 ms
    # to remove the other + 800 ms cold start + 100 ms run; a repeat 102 ms. 19 cold (the first removes
    # nothing) and 12 warm: 19 x 0.952 - 0.05 + 12 x 0.102 = 19.26 s; the next (cold) would end past 20 s.
    two = Workload(actions=2, run_ms=(100.0, 100.0), callers_per_invoker=1, bursty=0, memory_mb=256)
    result = simulate(Scenario("warm", 1, 256, warmup_s=0.0, measure_s=20.0, seed=3, workload=two))
    assert dict(result.starts) == {"cold": 19, "warm": 12}
    assert round(result.p99_wait_ms) == 852


SMALL = Workload(actions=20, callers_per_invoker=4, bursty=2, burst_every_s=2.0, burst_per_invoker=2)


def run_small(policy: str) -> tuple[int, int, int]:
    scenario = Scenario(policy, 3, 1024, warmup_s=5.0, measure_s=20.0, seed=7, workload=SMALL)  # type: ignore[arg-type]
    result = simulate(scenario)
    assert sum(result.starts.values()) == result.completed
    return result.completed, result.starts["cold"], round(result.p99_wait_ms)


def test_small_cluster_runs_are_deterministic_with_known_numbers() -> None:
    """3 invokers of 4 containers, 20 actions: (completed, cold starts, p99 wait ms) per policy. A change
    of any policy, of the pool or of the simulator changes these: check the bench, then update them."""
    assert {p: run_small(p) for p in ("warm", "sharding", "openwhisk")} == {
        "warm": (233, 191, 2201),
        "sharding": (232, 193, 1868),
        "openwhisk": (229, 195, 2234),
    }
