"""Prometheus metrics: the conventions every service follows, and how `/metrics` is answered.

- Names: `stratus_<component>_<what>[_<unit>]`; components `gateway`, `controller`, `recorder` (the
  records' writes to the activation store, in each controller), `invoker`. Durations are histograms in
  seconds (`_seconds`) over BUCKETS; counters end in `_total`; sizes say their unit (`_mb`, `_records`).
- Labels are bounded sets only: a route template (never a path), a method, a status code, a start type, a
  throttle, an invoker id. No namespace or action label: their number is the users' to choose.
- The hot paths use children bound once (`Counter.labels(...)` looked up at import or first use, kept in a
  dict), never a label lookup per request.
- `/metrics`: the gateway on its API port, the controller and the invoker on STRATUS_METRICS_PORT. In
  `stratus standalone` the API workers and the controller are processes beside each other: they share a
  prometheus_client multiprocess directory (PROMETHEUS_MULTIPROC_DIR) and the API's `/metrics` answers for
  all of them, summed; the invoker serves its own (printed as `Metrics`).
"""

import os
import shutil
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable, read when it is imported
CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


def _registry() -> CollectorRegistry:
    if multiprocess_dir() is None:
        return REGISTRY
    shared = CollectorRegistry()
    MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
    return shared


_EXPOSED: CollectorRegistry | None = None


def exposition() -> bytes:
    """This process's metrics, or those of every process sharing its multiprocess directory."""
    global _EXPOSED
    if _EXPOSED is None:
        _EXPOSED = _registry()
    return generate_latest(_EXPOSED)


def fresh_multiprocess_dir(path: Path) -> Path:
    """An empty directory for the processes about to start (files of an earlier run would be summed in)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
