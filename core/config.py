"""Settings of every service, read from STRATUS_* environment variables; nowhere else reads os.environ."""

from typing import Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import kinds

PlacementPolicy = Literal["warm", "sharding", "openwhisk"]  # see core.placement
Eviction = Literal["lru", "gdsf"]  # see invoker.pool.pick_victims


class ConnectionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STRATUS_", frozen=True)

    redis_url: str
    mongo_url: str
    mongo_db: str = "stratus"
    entities_url: str  # mysql+aiomysql://user:pass@host/db or sqlite+aiosqlite:///path
    log_level: str = "INFO"  # INFO logs every activation at every hop; WARNING for the most throughput


class PlacementSettings(BaseSettings):
    """How activations are placed on invokers: the same in every gateway and controller (core.placer)."""

    model_config = SettingsConfigDict(env_prefix="STRATUS_", frozen=True)

    heartbeat_ttl_s: float = 10.0  # an invoker silent this long is offline
    placement: PlacementPolicy = "warm"  # core.placement: warm, sharding or openwhisk


class GatewaySettings(ConnectionSettings, PlacementSettings):
    gateway_id: str
    host: str = "127.0.0.1"
    port: int = 3233
    listen_fd: int | None = None  # a listening socket inherited from a supervisor (host and port unused)
    blocking_wait_s: float = 60.0
    auth_cache_s: float = 5.0
    action_cache_s: float = 2.0
    admin_key: str = ""  # Bearer token of the /api/v1/admin routes; empty: those routes are off
    concurrent_invocations: int = 0  # per namespace, unless the namespace sets its own (0: no limit)
    invocations_per_minute: int = 0  # per namespace, unless the namespace sets its own (0: no limit)
    # web actions and routes on <namespace>.<web_domain> (gateway/web_hosts.py); empty: path-based, one origin
    web_domain: str = ""


class ControllerSettings(ConnectionSettings, PlacementSettings):
    controller_id: str
    # activation records are deleted this long after they were written (0 or less would delete each at once)
    activation_ttl_s: float = Field(default=7 * 24 * 3600, gt=0)
    max_in_flight: int = 256
    no_invoker_grace_s: float = 30.0  # how long an activation waits for a healthy invoker before it fails
    # an invocation left pending this long by a dead controller is taken over (a live one renews what it holds
    # every 0.5 s, so this must be well above that)
    claim_idle_ms: int = Field(default=30_000, ge=1_000)
    dead_invoker_grace_s: float = 10.0  # after an activation's timeout, its dead invoker's entry is failed
    forget_invoker_s: float = 600.0  # an invoker offline this long leaves the registry
    # Prometheus /metrics of `python -m controller` (port 0: one the OS picks), advertised in Redis for the
    # gateway's GET /api/v1/admin/metrics-targets; 0.0.0.0 advertises this host's address.
    metrics_addr: str = "127.0.0.1"
    metrics_port: int = 9101


class StemCells(BaseModel, frozen=True):
    """Keep `count` started, not yet initialised containers of `kind`, `memory_mb` each."""

    kind: str
    count: int
    memory_mb: int  # started with this much; a take-over sets the action's own memory

    @field_validator("kind")
    @classmethod
    def _runtime_kind(cls, kind: str) -> str:
        return kinds.runtime(kind).kind  # ValueError (a validation error) for blackbox or an unknown kind


class PoolSettings(BaseSettings):
    """The invoker's container pool (also settable on `stratus standalone`)."""

    model_config = SettingsConfigDict(env_prefix="STRATUS_", frozen=True)

    user_memory_mb: int = 2048  # containers of this invoker, stem cells included, hold at most this
    idle_ttl_s: float = 600.0  # remove a container unused this long
    pause_grace_s: float = 10.0  # pause a container idle this long (0: never pause)
    # JSON in STRATUS_STEM_CELLS, e.g. [{"kind": "python:3.11", "count": 2, "memory_mb": 256}]; [] for none.
    # Matched by kind: an action of another memory size takes one over and gets its own limit.
    stem_cells: tuple[StemCells, ...] = (StemCells(kind=kinds.DEFAULT.kind, count=2, memory_mb=256),)
    eviction: Eviction = "gdsf"  # which idle container a cold start evicts (invoker.pool)


class EgressSettings(BaseSettings):
    """What function containers may reach besides the internet (invoker/egress.py)."""

    model_config = SettingsConfigDict(env_prefix="STRATUS_", frozen=True)

    # JSON list of ADDRESS[/BITS][:PORT]; `gateway` is the function network's gateway (the host as functions
    # see it). Empty: no host service, no link-local address (cloud metadata) is reachable.
    egress_allow: tuple[str, ...] = ()
    # required: the invoker does not start without its iptables rules; auto: it logs a warning; off: no rules
    egress_guard: Literal["required", "auto", "off"] = "auto"


class InvokerSettings(ConnectionSettings, PoolSettings, EgressSettings):
    invoker_id: str
    # Prometheus /metrics of `python -m invoker`, advertised in its heartbeats (port 0: one the OS picks,
    # for several invokers on one host). Loopback by default: functions reach a host's 0.0.0.0 services.
    metrics_addr: str = "127.0.0.1"
    metrics_port: int = 9102
    runtime_repository: str = kinds.RUNTIME_REPOSITORY  # each kind's image is <repository>:<version>
    network: str = "stratus-functions"
    heartbeat_interval_s: float = 1.0
    api_host: str = ""  # what functions see as __OW_API_HOST


class StandaloneSettings(PoolSettings, EgressSettings):
    model_config = SettingsConfigDict(env_prefix="STRATUS_", frozen=True)

    data_dir: str = ""  # default: the user's data dir
    host: str = "127.0.0.1"
    port: int = 3233
    redis_url: str = ""  # empty: start an embedded redis-server on loopback
    mongo_url: str = ""  # empty: start the embedded MongoDB-wire server on loopback
    mongo_db: str = "stratus"
    entities_url: str = ""  # empty: SQLite in the data dir
    runtime_repository: str = kinds.RUNTIME_REPOSITORY
    base_image: str = ""  # empty: each kind's python:<version>-slim (a local Debian base when it cannot be pulled)
    gateway_workers: int = 1  # API server processes (beside the controller's and the invoker's)
