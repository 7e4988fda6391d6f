"""What the gateway's metrics cost per invocation on the fast path: in-flight up and down, the request
counter and the latency histogram (children bound once). Run it as is, and with PROMETHEUS_MULTIPROC_DIR
set to an empty directory for the cost in `stratus standalone` (values in shared files).

    python tests/bench/bench_metrics.py
"""

import time
import timeit

from core.metrics import multiprocess_dir
from gateway.metrics import IN_FLIGHT, INVOKE


def one_request() -> None:
    started = time.perf_counter()
    IN_FLIGHT.inc()
    IN_FLIGHT.dec()
    INVOKE.count(200, time.perf_counter() - started)


def main() -> None:
    n = 200_000
    best = min(timeit.repeat(one_request, number=n, repeat=5)) / n
    mode = "multiprocess" if multiprocess_dir() else "single process"
    print(f"metrics per fast-path request ({mode}): {best * 1e6:.2f} µs (best of 5 x {n})")


if __name__ == "__main__":
    main()
