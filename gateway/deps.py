"""What routes get injected: the backends, and the caller's namespace."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from core.backends import CoreBackends
from core.bus import MessageBus
from core.config import GatewaySettings
from core.errors import Forbidden
from core.invokers import Registry
from core.ledger import Ledger
from core.messages import reply_stream
from core.models import Namespace
from core.placer import GatewayPlacer, Placer
from core.replies import ReplyWaiter
from core.stores.activations import ActivationStore
from core.stores.entities import EntityStore
from gateway.auth import Authenticator
from gateway.entity_caches import ActionCache, OwnerCache, RouteTable


@dataclass
class Backends:
    settings: GatewaySettings
    entities: EntityStore
    activations: ActivationStore
    bus: MessageBus
    replies: ReplyWaiter
    auth: Authenticator
    actions: ActionCache
    owners: OwnerCache  # web actions' namespaces
    routes: RouteTable  # API routes by namespace
    ledger: Ledger  # throttle counts and invoker books, shared with every gateway and controller
    placer: GatewayPlacer  # puts what this gateway accepts on an invoker's stream itself (core.placer)


async def backends(request: Request) -> Backends:  # async: a sync dependency would cost a thread hop
    found: Backends = request.app.state.backends
    return found


BackendsDep = Annotated[Backends, Depends(backends)]


async def caller(request: Request, found: BackendsDep) -> Namespace:
    return await found.auth.authenticate(request.headers.get("authorization"))


Caller = Annotated[Namespace, Depends(caller)]


async def own_namespace(ns: str, who: Caller) -> Namespace:
    return check_own(ns, who)


def check_own(ns: str, who: Namespace) -> Namespace:
    """The `{ns}` path segment must be `_` or the caller's own namespace."""
    if ns not in ("_", who.name):
        raise Forbidden(f"The supplied authentication is not authorized to access '{ns}'.")
    return who


OwnNamespace = Annotated[Namespace, Depends(own_namespace)]


def backends_from_core(settings: GatewaySettings, core: CoreBackends) -> Backends:
    registry = Registry(heartbeat_ttl_ms=int(settings.heartbeat_ttl_s * 1000))
    return Backends(
        settings=settings,
        entities=core.entities,
        activations=core.activations,
        bus=core.bus,
        replies=ReplyWaiter(core.bus, reply_stream(settings.gateway_id)),  # type: ignore[arg-type]
        auth=Authenticator(core.entities, settings.auth_cache_s),
        actions=ActionCache(core.entities, settings.action_cache_s),
        owners=OwnerCache(core.entities, settings.action_cache_s),
        routes=RouteTable(core.entities, settings.action_cache_s),
        ledger=core.ledger,
        placer=GatewayPlacer(Placer(f"gateway:{settings.gateway_id}", core.ledger, registry, settings.placement)),
    )
