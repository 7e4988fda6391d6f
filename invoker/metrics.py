"""The invoker's Prometheus metrics, labelled by invoker id (several invokers may share one process).

Events (starts, durations) are counted where they happen; pool gauges (containers by state, memory,
queue length) are read from the live pools when scraped, so they can never drift from the pool.
"""

import weakref
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from invoker.pool import STATES, ContainerPool

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

STARTS = Counter("stratus_invoker_starts", "Activations by how their container was obtained.", ["invoker", "start"])
CONTAINER_CREATE = Histogram(
    "stratus_invoker_container_create_seconds", "Creating and starting a container.", ["invoker"], buckets=BUCKETS
)
CONTAINER_INIT = Histogram("stratus_invoker_init_seconds", "The /init of an action.", ["invoker"], buckets=BUCKETS)
CONTAINER_RUN = Histogram("stratus_invoker_run_seconds", "The /run of an activation.", ["invoker"], buckets=BUCKETS)
UNPAUSE = Histogram(
    "stratus_invoker_unpause_seconds", "Resuming a paused container before a run.", ["invoker"], buckets=BUCKETS
)


class PoolCollector(Collector):
    def __init__(self) -> None:
        self._pools: weakref.WeakKeyDictionary[ContainerPool, str] = weakref.WeakKeyDictionary()

    def track(self, pool: ContainerPool, invoker_id: str) -> None:
        self._pools[pool] = invoker_id

    def collect(self) -> Iterator[Metric]:
        containers = GaugeMetricFamily(
            "stratus_invoker_containers", "Containers in the pool by state.", labels=["invoker", "state"]
        )
        memory = GaugeMetricFamily(
            "stratus_invoker_memory_mb",
            "User memory: the budget, held by containers, held by busy ones.",
            labels=["invoker", "kind"],
        )
        queue = GaugeMetricFamily(
            "stratus_invoker_queue_length", "Activations waiting for container capacity.", labels=["invoker"]
        )
        for pool, invoker_id in list(self._pools.items()):
            states = pool.states()
            for state in STATES:
                containers.add_metric([invoker_id, state], states[state])
            memory.add_metric([invoker_id, "budget"], pool.user_memory_mb)
            memory.add_metric([invoker_id, "used"], pool.total_memory_mb)
            memory.add_metric([invoker_id, "busy"], pool.busy_memory_mb)
            queue.add_metric([invoker_id], pool.waiting)
        yield from (containers, memory, queue)


POOLS = PoolCollector()
REGISTRY.register(POOLS)
