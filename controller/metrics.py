"""The controller's Prometheus metrics: placement, the invocation queue, the load it books on each invoker,
and the recorder's writes of records to the activation store (conventions: core.metrics).

Events are counted where they happen, once per batch where a batch is the unit; gauges of the queue and
of the invokers' books are read every LOAD_INTERVAL_S by the controller (one Redis round trip), not on
the invocation path.
"""

from prometheus_client import Counter, Gauge, Histogram

from core.metrics import BATCH_BUCKETS, BUCKETS

LOAD_INTERVAL_S = 5.0

PLACE = Histogram(
    "stratus_controller_place_seconds",
    "Placing one batch of invocations: choosing invokers and booking them (one ledger round trip).",
    buckets=BUCKETS,
)
QUEUE_WAIT = Histogram(
    "stratus_controller_queue_wait_seconds",
    "From the gateway accepting an invocation to its Dispatch being handed to an invoker.",
    buckets=BUCKETS,
)
PLACED = Counter("stratus_controller_placed", "Invocations handed to an invoker.")
FAILED = Counter("stratus_controller_failed", "Invocations ended by the controller (no invoker, a dead invoker).")
QUEUE_DEPTH = Gauge(
    "stratus_controller_queue_depth",
    "Invocations in stratus:invocations not yet placed (waiting, or being placed).",
    multiprocess_mode="max",
)
INVOKERS = Gauge("stratus_controller_invokers", "Invokers known, by health.", ["state"], multiprocess_mode="max")
BOOKED = Gauge(
    "stratus_controller_invoker_booked_mb",
    "Memory booked on each invoker by activations in flight (the ledger's books).",
    ["invoker"],
    multiprocess_mode="max",
)
CAPACITY = Gauge(
    "stratus_controller_invoker_capacity_mb",
    "Each invoker's user memory, as its heartbeat says.",
    ["invoker"],
    multiprocess_mode="max",
)
IN_FLIGHT = Gauge(
    "stratus_controller_invoker_in_flight",
    "Activations in flight on each invoker (the ledger's books).",
    ["invoker"],
    multiprocess_mode="max",
)
RECORD_BATCH = Histogram(
    "stratus_recorder_batch_records", "Records per write to the activation store.", buckets=BATCH_BUCKETS
)
RECORD_WRITE = Histogram(
    "stratus_recorder_write_seconds",
    "One write of a batch of records to the activation store (retries after an outage included).",
    buckets=BUCKETS,
)
RECORDS = Counter("stratus_recorder_records", "Records written to the activation store.")
