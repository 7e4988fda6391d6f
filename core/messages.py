"""Every Redis stream name and every message that travels on them: the one place for both.

Each stream entry carries one field, `body`, holding the message as JSON. Readers ignore unknown
fields, so adding an optional field is safe; any other change bumps `version`.
"""

import time
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from core.errors import BadMessage
from core.ids import ActivationId, ControllerId, GatewayId, InvokerId, new_activation_id
from core.models import Action, Activation, ActivationResponse, KeyValue

INVOCATIONS = "stratus:invocations"  # gateway -> controllers, what it could not place (group CONTROLLERS)
RECORDS = "stratus:records"  # activation records on their way to the activation store (group RECORDERS)
DEAD_LETTER = "stratus:dead-letter"
INVOKERS_KEY = "stratus:invokers"  # hash: invoker id -> latest Heartbeat JSON
ACTION_CHANGES = "stratus:action-changes"  # pub/sub channel: gateway -> invokers, an ActionChanged each
METRICS_TARGETS = "stratus:metrics-targets"  # hash: controller id -> its MetricsTarget JSON
CONTROLLERS_GROUP = "controllers"
INVOKERS_GROUP = "invoker"
RECORDERS_GROUP = "recorders"


def invoker_stream(invoker_id: InvokerId) -> str:
    """whoever placed the activation (a gateway or a controller) -> one invoker (group INVOKERS_GROUP)."""
    return f"stratus:invoker:{invoker_id}"


REPLY_PREFIX = "stratus:replies:"


def reply_stream(gateway_id: GatewayId) -> str:
    """invoker -> the gateway holding a blocking caller."""
    return f"{REPLY_PREFIX}{gateway_id}"


def conductor_stream(controller_id: ControllerId) -> str:
    """invoker -> the controller running a sequence, for the sequence's components."""
    return f"{REPLY_PREFIX}controller-{controller_id}"


def sequence_key(activation_id: ActivationId) -> str:
    """A running sequence's progress (the ids of its components so far), while a controller conducts it."""
    return f"stratus:sequence:{activation_id}"


class StreamMessage(BaseModel):
    model_config = ConfigDict(frozen=True)  # extra fields ignored: tolerant reader

    def to_fields(self) -> dict[str, str]:
        return {"body": self.model_dump_json()}

    @classmethod
    def from_fields(cls, fields: Mapping[bytes, bytes]) -> Self:
        try:
            return cls.model_validate_json(fields[b"body"])
        except (KeyError, ValidationError) as exc:
            raise BadMessage(f"not a valid {cls.__name__}") from exc


class Invocation(StreamMessage):
    """gateway -> controllers: one accepted activation."""

    version: Literal[1] = 1
    activation_id: ActivationId
    namespace: str  # the invoking namespace: the container is never shared beyond it
    subject: str
    action: Action  # without code: the invoker loads the code when it starts a container
    params: dict[str, Any]  # merged run parameters (init parameters excluded)
    accepted_ms: int  # when the gateway accepted it: waitTime counts from here
    reply_to: str | None = None  # the gateway's reply stream, for blocking callers
    cause: ActivationId | None = None  # the enclosing sequence's activation, for a sequence's component

    @classmethod
    def accept(
        cls,
        namespace: str,
        subject: str,
        action: Action,
        params: dict[str, Any],
        *,
        reply_to: str | None = None,
        cause: ActivationId | None = None,
    ) -> Self:
        """A new activation of `action`, accepted now: a fresh id, the action as it travels (`for_dispatch`)."""
        return cls(
            activation_id=new_activation_id(),
            namespace=namespace,
            subject=subject,
            action=action.for_dispatch(),
            params=params,
            accepted_ms=int(time.time() * 1000),
            reply_to=reply_to,
            cause=cause,
        )

    def record(
        self,
        response: ActivationResponse,
        *,
        start: int,
        end: int,
        annotations: list[KeyValue],
        logs: list[str] | None = None,
        duration: int | None = None,
    ) -> Activation:
        """The activation record of this invocation (epoch ms), from parts that are valid already (built,
        not parsed): constructed without a second validation, on every activation's path. `duration` is
        `end - start` unless given (a sequence's is the sum of its components')."""
        return Activation.model_construct(
            activation_id=self.activation_id,
            namespace=self.namespace,
            name=self.action.name,
            version=self.action.version,
            subject=self.subject,
            start=start,
            end=end,
            duration=end - start if duration is None else duration,
            response=response,
            logs=logs or [],
            annotations=annotations,
            publish=False,
            cause=self.cause,
        )


class Dispatch(StreamMessage):
    """gateway or controller (whichever placed it, core.placer) -> one invoker."""

    version: Literal[1] = 1
    invocation: Invocation
    invoker_id: InvokerId
    controller_id: ControllerId  # who placed it: a controller's id, or a gateway's (`gateway:<id>`)


REPLY_INLINE_MAX_BYTES = 64 * 1024  # a larger record reaches the caller by reference (its outbox entry)


class Completion(StreamMessage):
    """invoker (or a controller that failed the activation) -> the gateway holding a blocking caller.
    Carries the record, or, when it is larger than REPLY_INLINE_MAX_BYTES (logs up to 10 MB), the id of
    its entry in the records outbox: a reply stream never holds more than small entries."""

    version: Literal[1] = 1
    activation_id: ActivationId
    activation: Activation | None = None
    record_entry: str | None = None  # in RECORDS, when `activation` is None


class Record(StreamMessage):
    """An activation record in the outbox (RECORDS): appended in the same atomic step that ends the
    activation, written to the activation store in batches by a recorder, then deleted."""

    version: Literal[1] = 1
    activation: Activation


def ending_fields(activation: Activation) -> tuple[dict[str, str], dict[str, str]]:
    """(Record, Completion) fields of one activation with its JSON rendered once, not once per message:
    the same JSON their `to_fields` gives (tests/unit/test_params_and_messages.py checks it)."""
    body = activation.model_dump_json()
    completion = f'{{"version":1,"activation_id":"{activation.activation_id}","activation":{body}}}'
    return {"body": f'{{"version":1,"activation":{body}}}'}, {"body": completion}


class ActionChanged(StreamMessage):
    """gateway -> every invoker (pub/sub on ACTION_CHANGES): an action was deleted or rewritten, so its
    containers of any other revision will never run again. Fire and forget: an invoker that misses it
    removes them at the idle timeout, as before."""

    version: Literal[1] = 1
    fqn: str
    revision: str | None = None  # the current one; None: the action was deleted


class MetricsTarget(StreamMessage):
    """controller -> METRICS_TARGETS, every few seconds: where its /metrics is (invokers say it in their
    Heartbeat). Listed for Prometheus by GET /api/v1/admin/metrics-targets."""

    version: Literal[1] = 1
    controller_id: ControllerId
    address: str  # host:port
    sent_ms: int


class Heartbeat(StreamMessage):
    """invoker -> INVOKERS_KEY, every second."""

    version: Literal[1] = 1
    invoker_id: InvokerId
    sent_ms: int
    user_memory_mb: int
    busy_memory_mb: int
    containers: int
    state: Literal["up", "draining"] = "up"
    failing: str | None = None  # why it cannot run activations now (e.g. containers do not start): unhealthy
    pool: dict[str, int] = {}  # containers by state (idle, busy, prewarm, ...)
    warm: dict[str, int] = {}  # warm containers by action fqn
    run_ms: dict[str, int] = {}  # how long a /run of each warm action usually takes (moving average)
    cold_ms: int | None = None  # how long a cold start (create + /init) usually takes here
    metrics: str | None = None  # host:port of its Prometheus /metrics
