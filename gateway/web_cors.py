"""CORS: the resource API's fixed policy, and the per-web-action / per-route one.

The resource API (`/api/v1/...`) answers every origin (reference/openwhisk.md §1.3). Web actions
(`/api/v1/web/...`) and API routes (`/api/{namespace}/...`) decide for themselves: web actions allow every
origin unless annotated `web-custom-options: true` (§5.6); a route follows its own `cors` settings.
"""

from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from core.models import WEB_METHODS, Cors

DEFAULT_ALLOWED_HEADERS = ["Authorization", "Origin", "X-Requested-With", "Content-Type", "Accept", "User-Agent"]
WEB_ACTION_CORS = Cors(origins=["*"], methods=list(WEB_METHODS))


def sets_own_cors(path: str) -> bool:
    """Web actions and API routes: `/api/v1/web/...` and `/api/{namespace}/...` (any namespace but `v1`)."""
    if path.startswith("/api/v1/web/"):
        return True
    parts = path.split("/", 3)
    return len(parts) > 3 and parts[1] == "api" and parts[2] != "v1"


class ResourceCors:
    """The resource API's CORS; the paths that set their own pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "DELETE", "POST", "PUT", "HEAD"],
            allow_headers=DEFAULT_ALLOWED_HEADERS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and sets_own_cors(scope["path"]):
            await self.app(scope, receive, send)
        else:
            await self.cors(scope, receive, send)


def cors_headers(cors: Cors, origin: str | None, requested_headers: str | None) -> list[tuple[str, str]]:
    """The Access-Control-* headers for one response; none when the origin is not allowed."""
    if "*" in cors.origins and not cors.credentials:
        allowed = "*"
    elif origin and ("*" in cors.origins or origin in cors.origins):
        allowed = origin
    else:
        return []
    allowed_headers = ", ".join(cors.headers) if cors.headers is not None else requested_headers
    headers = [
        ("access-control-allow-origin", allowed),
        ("access-control-allow-methods", ", ".join(cors.methods)),
        ("access-control-allow-headers", allowed_headers or ", ".join(DEFAULT_ALLOWED_HEADERS)),
    ]
    if allowed != "*":
        headers.append(("vary", "Origin"))
    if cors.credentials:
        headers.append(("access-control-allow-credentials", "true"))
    if cors.max_age is not None:
        headers.append(("access-control-max-age", str(cors.max_age)))
    return headers
