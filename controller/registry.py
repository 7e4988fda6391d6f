"""The controller's view of invokers, from their heartbeats: the ring, who is healthy, who is gone."""

from dataclasses import dataclass, field

from core.ids import InvokerId
from core.invokers import InvokerHealth, health_of
from core.messages import Heartbeat


@dataclass
class Registry:
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
