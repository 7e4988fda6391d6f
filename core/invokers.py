"""The cluster's view of its invokers, from their heartbeats: health state, and a listing for operators.

States (OpenWhisk's, simplified):
- `healthy`: a heartbeat younger than the TTL, reporting nothing wrong. The only schedulable state.
- `unhealthy`: alive (fresh heartbeat) but failing: the invoker reports why, e.g. containers do not start.
- `offline`: no heartbeat for the TTL, or it announced it is draining (shutting down).
A node that beats again (same id) is back in the state its heartbeat says: it rejoins by itself.
`Registry` holds the latest heartbeats of every invoker for whoever places activations.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.bus import MessageBus
from core.ids import InvokerId
from core.ledger import Ledger
from core.messages import Heartbeat

InvokerHealth = Literal["healthy", "unhealthy", "offline"]


def health_of(beat: Heartbeat, now_ms: int, ttl_ms: int) -> InvokerHealth:
    if beat.state == "draining" or now_ms - beat.sent_ms > ttl_ms:
        return "offline"
    return "unhealthy" if beat.failing else "healthy"


@dataclass(frozen=True)
class InvokerStatus:
    """One line of `stratus admin invokers` and of GET /api/v1/admin/invokers."""

    invoker_id: InvokerId
    state: InvokerHealth
    user_memory_mb: int
    booked_memory_mb: int  # booked by in-flight activations (all controllers)
    busy_memory_mb: int  # held by the invoker's busy or starting containers (its own report)
    containers: int
    last_seen_ms: int
    reason: str | None = None
    pool: dict[str, int] = field(default_factory=dict)
    warm: dict[str, int] = field(default_factory=dict)
    metrics: str | None = None

    @property
    def load(self) -> float:
        return round(self.booked_memory_mb / max(self.user_memory_mb, 1), 3)

    def to_api(self) -> dict[str, object]:
        return {
            "invoker": self.invoker_id,
            "state": self.state,
            "load": self.load,
            "userMemoryMB": self.user_memory_mb,
            "bookedMemoryMB": self.booked_memory_mb,
            "busyMemoryMB": self.busy_memory_mb,
            "containers": self.containers,
            "pool": self.pool,
            "warm": self.warm,
            "metrics": self.metrics,
            "lastSeen": self.last_seen_ms,
            "reason": self.reason,
        }


def statuses(beats: Sequence[Heartbeat], booked_mb: Sequence[int], now_ms: int, ttl_ms: int) -> list[InvokerStatus]:
    """`booked_mb[i]` belongs to `beats[i]`; sorted by invoker id."""
    rows = [
        InvokerStatus(
            invoker_id=beat.invoker_id,
            state=health_of(beat, now_ms, ttl_ms),
            user_memory_mb=beat.user_memory_mb,
            booked_memory_mb=booked,
            busy_memory_mb=beat.busy_memory_mb,
            containers=beat.containers,
            last_seen_ms=beat.sent_ms,
            reason=beat.failing if beat.state != "draining" else "draining",
            pool=dict(beat.pool),
            warm=dict(beat.warm),
            metrics=beat.metrics,
        )
        for beat, booked in zip(beats, booked_mb, strict=True)
    ]
    return sorted(rows, key=lambda row: row.invoker_id)


async def list_invokers(bus: MessageBus, ledger: Ledger, now_ms: int, ttl_ms: int) -> list[InvokerStatus]:
    """Every invoker that sent a heartbeat (and was not forgotten), with its state and booked load."""
    beats = await bus.heartbeats()
    books = await ledger.books([beat.invoker_id for beat in beats])
    return statuses(beats, [b.memory_mb for b in books], now_ms, ttl_ms)


@dataclass
class Registry:
    """A controller's (or a placing gateway's) view of invokers, from their heartbeats: the ring, who is healthy,
    who is gone."""

    heartbeat_ttl_ms: int
    forget_after_ms: int = 600_000  # an invoker offline this long leaves the ring (scaled-down replicas)
    beats: dict[InvokerId, Heartbeat] = field(default_factory=dict)
    seen: set[InvokerId] = field(default_factory=set)  # every invoker met since start, until its stream is clear

    def update(self, beats: list[Heartbeat]) -> None:
        self.beats = {b.invoker_id: b for b in beats}
        self.seen |= self.beats.keys()

    def gone(self) -> list[InvokerId]:
        """Seen, but without a heartbeat entry any more (it shut down, or was forgotten)."""
        return sorted(self.seen - self.beats.keys())

    def health(self, now_ms: int) -> dict[InvokerId, InvokerHealth]:
        return {i: health_of(b, now_ms, self.heartbeat_ttl_ms) for i, b in sorted(self.beats.items())}

    def ring(self, now_ms: int) -> list[tuple[Heartbeat, bool]]:
        """Every known invoker, by id, and whether it is healthy."""
        return [(self.beats[i], state == "healthy") for i, state in self.health(now_ms).items()]

    def offline(self, now_ms: int) -> list[InvokerId]:
        return [i for i, state in self.health(now_ms).items() if state == "offline"]

    def forgotten(self, now_ms: int) -> list[InvokerId]:
        """Offline for so long that they leave the registry (their heartbeat entry is removed)."""
        return [i for i, b in self.beats.items() if now_ms - b.sent_ms > self.forget_after_ms]
