"""Placement policies in a simulated cluster of 1 -> 32 invokers (tests/simulated_cluster.py; no Docker).

    PYTHONPATH=$PWD python3 tests/bench/bench_sim.py [--invokers 1,2,4,8,16,32] [--policies warm,sharding,openwhisk]

Per policy and invoker count: activations/s, the share of linear scaling (throughput per invoker over that
with one invoker), the cold-start rate, the p99 wait (accepted -> /run starts, cold starts included) and the
busiest invoker's load over the mean. The defaults: 200 actions of 256 MB with Zipf(1) popularity and run
times log-uniform in 0.1-1 s, 3 of them also in bursts; 8 blocking callers and 4096 MB per invoker; cold
start = 0.5 s create + 0.3 s /init; 20 s of warm-up then 60 s measured (virtual time).
"""

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.placement import POLICIES
from tests.simulated_cluster import Result, Scenario, simulate


def row(result: Result, per_invoker_at_1: float) -> str:
    s = result.scenario
    linear = result.throughput / s.invokers / per_invoker_at_1
    return (
        f"| {s.policy} | {s.eviction} | {s.invokers} | {result.throughput:.1f} | {linear:.2f} | {result.cold_rate:.1%} "
        f"| {result.p99_wait_ms:.0f} | {result.imbalance:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invokers", default="1,2,4,8,16,32")
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--evictions", default="gdsf")
    parser.add_argument("--memory", type=int, default=4096, help="user memory per invoker, MB")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--measure", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--callers", type=int, default=8, help="blocking callers per invoker")
    args = parser.parse_args()
    counts = [int(n) for n in args.invokers.split(",")]
    print("| policy | eviction | invokers | activations/s | × linear | cold starts | p99 wait ms | max/mean load |")
    print("|---|---|---|---|---|---|---|---|")
    for policy in args.policies.split(","):
        for eviction in args.evictions.split(","):
            base = Scenario(policy, 1, args.memory, args.warmup, args.measure, args.seed)  # type: ignore[arg-type]
            workload = replace(base.workload, callers_per_invoker=args.callers)
            base = replace(base, eviction=eviction, workload=workload)  # type: ignore[arg-type]
            per_invoker_at_1 = 0.0
            for n in counts:
                began = time.perf_counter()
                result = simulate(replace(base, invokers=n))
                per_invoker_at_1 = per_invoker_at_1 or result.throughput / n
                print(row(result, per_invoker_at_1), f"<!-- {time.perf_counter() - began:.0f} s -->", flush=True)


if __name__ == "__main__":
    main()
