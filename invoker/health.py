"""Whether this invoker can run activations, as its heartbeat reports it (`failing`: unhealthy).

Two signals:
- the Docker engine answers (probed every few seconds);
- the outcomes of the last 10 activations: more than 3 `whisk internal error`s (containers that do not
  start, a broken image) mean failing, as OpenWhisk's invoker health ring buffer does.
While failing, nothing is scheduled here, so no outcome would ever heal it: after `retry_after_s`
without a new error the window is trimmed to the tolerance (half-open), the invoker reports healthy,
and a single further error makes it unhealthy again.

Example: outcomes [ok, err, err, err, err] -> failing; 30 s later -> [err, err, err] -> healthy again;
the next activation errs -> failing at once.
"""

import logging
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)

WINDOW = 10
TOLERANCE = 3
RETRY_AFTER_S = 30.0
PROBE_EVERY_S = 5.0


class Pooled(Protocol):
    @property
    def key(self) -> tuple[str, str, str] | None: ...

    @property
    def ready(self) -> bool: ...


def warm_pools(containers: Iterable[Pooled]) -> dict[str, int]:
    """Ready containers by action fqn: what an operator sees as this invoker's warm pools."""
    return dict(Counter(c.key[1] for c in containers if c.key is not None and c.ready))


@dataclass
class Health:
    retry_after_s: float = RETRY_AFTER_S
    outcomes: deque[bool] = field(default_factory=lambda: deque(maxlen=WINDOW))  # True: a system error
    last_error: str = ""
    last_error_at: float = 0.0
    engine_error: str | None = None
    next_probe_at: float = 0.0

    def record(self, system_error: bool, message: str, now: float) -> None:
        self.outcomes.append(system_error)
        if system_error:
            self.last_error, self.last_error_at = message, now

    def engine(self, error: str | None) -> None:
        if error != self.engine_error:
            log.warning("docker engine %s", f"unreachable: {error}" if error else "reachable again")
        self.engine_error = error

    def failing(self, now: float) -> str | None:
        """Why this invoker should get no work now, or None."""
        if self.engine_error:
            return f"the container engine is unreachable: {self.engine_error}"
        if sum(self.outcomes) <= TOLERANCE:
            return None
        if now - self.last_error_at >= self.retry_after_s:  # half-open: one more error closes it
            errors = [True] * TOLERANCE
            self.outcomes.clear()
            self.outcomes.extend(errors)
            return None
        return f"{sum(self.outcomes)} of the last {len(self.outcomes)} activations failed: {self.last_error}"

    def probe_due(self, now: float) -> bool:
        if now < self.next_probe_at:
            return False
        self.next_probe_at = now + PROBE_EVERY_S
        return True
