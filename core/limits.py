"""System limits, their defaults and their validation: the one place that knows them.

Values follow OpenWhisk's stock deployment (reference/openwhisk.md §3.1), except `concurrency`:
Stratus keeps each activation's logs separate, so intra-container concurrency is allowed up to 100.
"""

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Bound:
    field: str
    unit: str
    minimum: int
    default: int
    maximum: int

    def check(self, value: int) -> str | None:
        """The error message for an out-of-range value, or None when it is fine."""
        if value < self.minimum:
            return f"{self.field} {value} {self.unit} is below the allowed minimum of {self.minimum} {self.unit}."
        if value > self.maximum:
            return f"{self.field} {value} {self.unit} exceeds the allowed maximum of {self.maximum} {self.unit}."
        return None


TIMEOUT = Bound("timeout", "ms", 100, 60_000, 300_000)
MEMORY = Bound("memory", "MB", 128, 256, 512)
LOGS = Bound("logs", "MB", 0, 10, 10)
CONCURRENCY = Bound("concurrency", "activations", 1, 1, 100)
ACTION_BOUNDS = (TIMEOUT, MEMORY, LOGS, CONCURRENCY)

# Tasks (processes and threads) per function container: a fork bomb stops here. The proxy serves each
# connection on a thread and the invoker opens one per concurrent activation, so the limit leaves room
# for a full `concurrency` on top of what a function itself may start.
CONTAINER_PIDS = 64 + CONCURRENCY.maximum

EXEC_MAX_BYTES = 48 * MB
CODE_UNPACKED_MAX_MB = 256  # the container's code tmpfs (/action); what is written there counts as memory
PARAMETERS_MAX_BYTES = 1 * MB
ANNOTATIONS_MAX_BYTES = 1 * MB
PAYLOAD_MAX_BYTES = 1 * MB  # invoke body; also the result size before truncation
RESULT_MAX_BYTES = 1 * MB

ENTITY_PUT_MAX_BYTES = 3 * MB  # a package, trigger or rule: parameters and annotations of 1 MB each, and room
SEQUENCE_MAX_ACTIONS = 50  # atomic actions of a sequence, nested sequences inlined (OpenWhisk's limit)

BLOCKING_WAIT_MAX_MS = 60_000
# While the entity store is unreachable, the gateway goes on with the keys and actions it read up to this
# long ago (a store restart refuses nothing that was in use; a revocation then takes this long)
ENTITY_OUTAGE_GRACE_S = 60.0
LIST_LIMIT_DEFAULT = 30
LIST_LIMIT_MAX = 200

# JSON from callers (every request body; core/json_values.py checks them). Each consumer parses what the
# gateway accepted, inside envelopes that add a few levels: the controller and the invoker with pydantic's
# parser (jiter: at most 200 levels), the runtime with json.loads, and the activation store keeps a function's
# result, often its parameters, as a BSON document (at most 100 levels, integers of 64 bits). 64 levels (as
# .NET's System.Text.Json allows by default) leaves room for every envelope.
JSON_MAX_DEPTH = 64

# Integers in JSON and in query strings (skip, since, upto): 64-bit signed, what the stores keep (BSON, SQL
# BIGINT) and every consumer reads back exactly.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
