"""Per-namespace web hosts: with STRATUS_WEB_DOMAIN set (say `web.example.com`), namespace `alice`'s web
actions are served at `https://alice.web.example.com/<package>/<action>[.ext][/path]` and its API routes at
`https://alice.web.example.com/api/<basePath><relPath>`, each namespace on an origin of its own, as OpenWhisk
does with subdomains and Lambda with function URLs. The API's own host serves no user content then: its
`/api/v1/web/<ns>/...` and `/api/<ns>/...` URLs answer 308 to the namespace's host. Without a web domain
(localhost development) the path-based URLs are served as before.

A host label is a DNS label in lower case, so only namespaces whose names are one (`alice`, `team-7`) have a
web host; with a web domain set, the others' web actions are not served (404 saying why). The rewrite happens
before routing: `alice.web.example.com/default/app/x` is routed as `/api/v1/web/alice/default/app/x`, with
`scope["stratus.web_host"]` set so that the web routes scope cookies and web apps to the host's own paths.
"""

import re

from starlette.datastructures import State
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import error_json, given_transaction_id

WEB_HOST_KEY = "stratus.web_host"
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_WEB_PATH = re.compile(r"/api/v1/web/([^/]+)(/.*)?")
_ROUTE_PATH = re.compile(r"/api/(?!v1(?:/|$))([^/]+)(/.*)?")


def namespace_of_host(host: str, web_domain: str) -> str | None:
    """`alice.web.example.com:443` -> `alice` when the web domain is `web.example.com`; else None."""
    name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else ""
    suffix = "." + web_domain.lower()
    label = name[: -len(suffix)] if name.endswith(suffix) else ""
    return label if _LABEL.fullmatch(label) else None


def has_web_host(namespace: str) -> bool:
    return _LABEL.fullmatch(namespace) is not None


def on_web_host(namespace: str, path: str) -> str:
    """The path a request to the namespace's host is routed as."""
    if path == "/api" or path.startswith("/api/"):
        return f"/api/{namespace}{path[4:]}"
    return f"/api/v1/web/{namespace}{path}"


def moved_to(path: str) -> tuple[str, str] | None:
    """(namespace, path on its host) for the API host's user-content URLs; None for the API's own."""
    if match := _WEB_PATH.fullmatch(path):
        return match.group(1), match.group(2) or "/"
    if match := _ROUTE_PATH.fullmatch(path):
        return match.group(1), "/api" + (match.group(2) or "")
    return None


class WebHosts:
    """Outermost ASGI layer: per-namespace hosts in, user content out of the API's host."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self._app = app
        self._state = state  # the app's state: `backends` (and its settings) is set by the lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        domain = self._domain() if scope["type"] == "http" else ""
        if not domain:
            return await self._app(scope, receive, send)
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        namespace = namespace_of_host(host, domain)
        if namespace is not None:
            path = on_web_host(namespace, scope["path"])
            routed = {**scope, "path": path, "raw_path": path.encode(), WEB_HOST_KEY: namespace}
            return await self._app(routed, receive, send)
        moved = moved_to(scope["path"])
        if moved is None:
            return await self._app(scope, receive, send)
        owner, rest = moved
        if not has_web_host(owner):
            text = f"The web actions of '{owner}' are not served: its name is not a host name (*.{domain})."
            return await error_json(404, text, given_transaction_id(headers))(scope, receive, send)
        proto = headers.get(b"x-forwarded-proto", scope.get("scheme", "http").encode()).decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        location = f"{proto}://{owner}.{domain}{rest}" + (f"?{query}" if query else "")
        await Response(status_code=308, headers={"location": location})(scope, receive, send)

    def _domain(self) -> str:
        backends = getattr(self._state, "backends", None)
        return backends.settings.web_domain if backends is not None else ""
