"""The controller's view of invokers, from their heartbeats and its own in-flight work."""

from dataclasses import dataclass, field

from controller.scheduler import InvokerState
from stratus.ids import ActivationId, InvokerId
from stratus.messages import Heartbeat


@dataclass(frozen=True)
class InFlight:
    invoker_id: InvokerId
    memory_mb: int


@dataclass
class Registry:
    heartbeat_ttl_ms: int
    beats: dict[InvokerId, Heartbeat] = field(default_factory=dict)
    in_flight: dict[ActivationId, InFlight] = field(default_factory=dict)

    def update(self, beats: list[Heartbeat]) -> None:
        self.beats = {b.invoker_id: b for b in beats}

    def states(self, now_ms: int) -> list[InvokerState]:
        booked: dict[InvokerId, int] = {}
        for work in self.in_flight.values():
            booked[work.invoker_id] = booked.get(work.invoker_id, 0) + work.memory_mb
        return [
            InvokerState(
                invoker_id=b.invoker_id,
                healthy=b.state == "up" and now_ms - b.sent_ms <= self.heartbeat_ttl_ms,
                user_memory_mb=b.user_memory_mb,
                free_memory_mb=b.user_memory_mb - max(booked.get(b.invoker_id, 0), b.busy_memory_mb),
            )
            for b in self.beats.values()
        ]

    def dispatched(self, activation_id: ActivationId, invoker_id: InvokerId, memory_mb: int) -> None:
        self.in_flight[activation_id] = InFlight(invoker_id, memory_mb)

    def completed(self, activation_id: ActivationId) -> None:
        self.in_flight.pop(activation_id, None)
