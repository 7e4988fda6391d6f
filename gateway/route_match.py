"""API routes: checking a route's paths, and finding the route a request path and method hit. Pure.

A route's path is `base_path + rel_path`, e.g. `/shop` + `/items/{id}`. A `{name}` segment matches any one
non-empty segment and becomes the string parameter `name`. When several routes match a path, the one with
the most literal segments wins (`/items/new` beats `/items/{id}`). HEAD falls back to a GET route.
OPTIONS reaches an OPTIONS route, else any route of that path that has CORS settings (a preflight).

Example: routes GET `/shop/items/{id}` and GET `/shop/items/new`; `GET /shop/items/7` -> the first with
{"id": "7"}; `GET /shop/items/new` -> the second; `POST /shop/items/7` -> a path hit, but no method (405).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import BadRequest
from core.models import WEB_METHODS, Route

PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%-]+")


@dataclass(frozen=True)
class RouteHit:
    route: Route
    path_params: dict[str, str]
    rel_path: str  # the concrete relative path, e.g. /items/7


def check_path(path: str, what: str, *, max_length: int, templates: bool) -> str:
    """A normalised path ("/a/b", no trailing slash) or BadRequest."""
    if not path.startswith("/") or len(path) > max_length:
        raise BadRequest(f"{what} must start with '/' and be at most {max_length} characters.")
    segments = [s for s in path.split("/") if s]
    for segment in segments:
        if not SEGMENT.fullmatch(segment) and not (templates and PARAM.fullmatch(segment)):
            raise BadRequest(f"{what} has a segment that is not allowed: '{segment}'.")
    return "/" + "/".join(segments)


def check_verb(verb: str) -> str:
    upper = verb.upper()
    if upper not in WEB_METHODS:
        raise BadRequest(f"The verb must be one of {', '.join(WEB_METHODS)}.")
    return upper


def match_path(route: Route, segments: Sequence[str]) -> tuple[dict[str, str], int] | None:
    """(path parameters, number of literal segments) when the path's segments fit the route."""
    template = [s for s in (route.base_path + route.rel_path).split("/") if s]
    if len(template) != len(segments):
        return None
    params: dict[str, str] = {}
    literals = 0
    for pattern, segment in zip(template, segments, strict=True):
        if name := PARAM.fullmatch(pattern):
            params[name.group(1)] = segment
        elif pattern == segment:
            literals += 1
        else:
            return None
    return params, literals


def find_route(routes: Sequence[Route], path: str, method: str) -> RouteHit | None:
    """The route for `method` on `path`; None when no route has that path.
    Raises LookupError when the path exists but not for this method."""
    segments = [s for s in path.split("/") if s]
    candidates = []
    for route in routes:
        matched = match_path(route, segments)
        if matched is not None:
            candidates.append((matched[1], route, matched[0]))
    if not candidates:
        return None
    candidates.sort(key=lambda c: -c[0])
    for wanted in _acceptable(method):
        for _, route, params in candidates:
            if route.verb == wanted or (method == "OPTIONS" and wanted == "*" and route.cors is not None):
                base = len([s for s in route.base_path.split("/") if s])
                return RouteHit(route, params, "/" + "/".join(segments[base:]))
    raise LookupError(method)


def _acceptable(method: str) -> tuple[str, ...]:
    if method == "HEAD":
        return ("HEAD", "GET")
    if method == "OPTIONS":
        return ("OPTIONS", "*")
    return (method,)
