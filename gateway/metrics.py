"""The gateway's Prometheus metrics: requests by route, method and status, their latency, requests in
flight, throttled invocations, who placed the accepted ones (conventions: core.metrics).

Two places count requests: RequestMetrics, an ASGI layer around the FastAPI app (the route template is
in the scope once routing matched; `other` when nothing matched), and the invoke fast path
(gateway.fast_path), which answers most invocations without the app and counts them itself on children
bound here once. Cost per request: about 3 µs, 6 µs in standalone's multiprocess mode
(tests/bench/bench_metrics.py, 2 shared cores).
"""

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.metrics import BUCKETS

INVOKE_ROUTE = "/api/v1/namespaces/{ns}/actions/{name}"  # the FastAPI route's template (gateway/routes/actions.py)
UNMATCHED = "other"

REQUESTS = Counter(
    "stratus_gateway_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "stratus_gateway_request_seconds",
    "From the request's arrival to its answer, by route and method.",
    ["route", "method"],
    buckets=BUCKETS,
)
IN_FLIGHT = Gauge("stratus_gateway_requests_in_flight", "Requests being answered now.", multiprocess_mode="livesum")
THROTTLED = Counter(
    "stratus_gateway_throttled", "Invocations refused with 429, by the namespace throttle they broke.", ["throttle"]
)
THROTTLES = {name: THROTTLED.labels(name) for name in ("per-minute", "concurrent")}
PLACED_BY = Counter(
    "stratus_gateway_invocations",
    "Invocations accepted, by who placed them on an invoker: this gateway at once, or a controller (queued).",
    ["placed_by"],
)
PLACED = {who: PLACED_BY.labels(who) for who in ("gateway", "controller")}


class RouteMetrics:
    """The children of one route and method, bound once; a status's counter on first use."""

    __slots__ = ("_route", "_method", "_statuses", "observe_latency")

    def __init__(self, route: str, method: str) -> None:
        self._route, self._method = route, method
        self._statuses: dict[int, Counter] = {}
        self.observe_latency = LATENCY.labels(route, method).observe

    def count(self, status: int, seconds: float) -> None:
        counter = self._statuses.get(status)
        if counter is None:
            counter = self._statuses[status] = REQUESTS.labels(self._route, self._method, str(status))
        counter.inc()
        self.observe_latency(seconds)


INVOKE = RouteMetrics(INVOKE_ROUTE, "POST")
_ROUTES: dict[tuple[str, str], RouteMetrics] = {(INVOKE_ROUTE, "POST"): INVOKE}


def route_metrics(route: str, method: str) -> RouteMetrics:
    found = _ROUTES.get((route, method))
    if found is None:
        found = _ROUTES[(route, method)] = RouteMetrics(route, method)
    return found


# A pure ASGI middleware (non-HTTP scopes pass through), as TransactionIdMiddleware: not worth a base class.
class RequestMetrics:
    """Counts every HTTP request the app answers (the fast path counts its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, sending)
        finally:
            IN_FLIGHT.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            route_metrics(template, scope["method"]).count(status, time.perf_counter() - started)
