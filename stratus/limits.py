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

EXEC_MAX_BYTES = 48 * MB
CODE_UNPACKED_MAX_MB = 256  # the container's code tmpfs (/action); what is written there counts as memory
PARAMETERS_MAX_BYTES = 1 * MB
ANNOTATIONS_MAX_BYTES = 1 * MB
PAYLOAD_MAX_BYTES = 1 * MB  # invoke body; also the result size before truncation
RESULT_MAX_BYTES = 1 * MB

BLOCKING_WAIT_MAX_MS = 60_000
LIST_LIMIT_DEFAULT = 30
LIST_LIMIT_MAX = 200
