"""What a web action may see of a request's headers, and what it may set in a browser: pure functions.

Every namespace's web actions share one origin (the gateway's, unless per-namespace web hosts are configured),
so the gateway keeps tenants apart itself:
- Credentials for the platform never reach a function: `X-Require-Whisk-Auth`, and `Authorization` when it
  is a Basic credential (the form of a platform key) or when the action asked the gateway to check the caller.
  Any other scheme (an app's own Bearer token) goes through.
- Cookies are scoped to the namespace by name: a cookie the action sets as `sid` reaches the browser as
  `alice~sid` (`~` cannot occur in a namespace name), with any `Domain` attribute dropped; of the cookies a
  browser sends, only the namespace's own reach the action, under the names it gave them. So namespace A's
  action never receives the cookies that B's users hold for B, whatever their Path. A `Path` outside the
  namespace's own URLs (`Path=/`, what Flask and Django set by default) becomes the action's prefix.
- `X-Forwarded-Prefix` is set by the gateway alone: the URL prefix of the action (`/api/v1/web/ns/default/app`),
  which the web-app adapter makes the app's SCRIPT_NAME / root_path, so cookie paths and `url_for` are scoped.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

COOKIE_SEPARATOR = "~"
PREFIX_HEADER = "x-forwarded-prefix"
PLATFORM_HEADERS = frozenset({"x-require-whisk-auth", PREFIX_HEADER})
HOST_PREFIXES = ("__Host-", "__Secure-")  # browsers require these first in the name: they stay first
_PLAIN_NAMESPACE = re.compile(r"[A-Za-z0-9_.-]+")
PATH_SAFE = "/@&!$'()*+,;=:~"  # as a browser leaves a path: spaces and the like percent-encoded


def cookie_prefix(namespace: str) -> str:
    """`alice` -> `alice~`; a namespace with characters a cookie name cannot carry -> `%<hash>~`."""
    if _PLAIN_NAMESPACE.fullmatch(namespace):
        return namespace + COOKIE_SEPARATOR
    return "%" + hashlib.sha256(namespace.encode()).hexdigest()[:16] + COOKIE_SEPARATOR


def action_headers(
    headers: Mapping[str, str], namespace: str, url_prefix: str, *, checked_auth: bool
) -> dict[str, str]:
    """The `__ow_headers` of a web request (names lower-cased)."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        name = name.lower()
        if name in PLATFORM_HEADERS or (name == "authorization" and _platform_credential(value, checked_auth)):
            continue
        if name == "cookie":
            value = own_cookies(value, namespace)
            if not value:
                continue
        kept[name] = value
    kept[PREFIX_HEADER] = url_prefix
    return kept


def _platform_credential(value: str, checked_auth: bool) -> bool:
    return checked_auth or value.strip().lower().startswith("basic")


def own_cookies(header: str, namespace: str) -> str:
    """The namespace's cookies of a `Cookie` header, unprefixed; the others dropped."""
    prefix = cookie_prefix(namespace)
    kept = []
    for pair in header.split(";"):
        name, eq, value = pair.strip().partition("=")
        marker = next((m for m in HOST_PREFIXES if name.startswith(m)), "")
        bare = name[len(marker) :]
        if eq and bare.startswith(prefix) and len(bare) > len(prefix):
            kept.append(f"{marker}{bare[len(prefix) :]}={value}")
    return "; ".join(kept)


@dataclass(frozen=True)
class CookieScope:
    namespace: str
    root: str  # the namespace's URL space: `/api/v1/web/alice/` (a cookie path inside it is kept)
    url_prefix: str  # the action's: where a cookie path outside the namespace's space is moved


def scoped_set_cookie(value: str, scope: CookieScope) -> str:
    """A `Set-Cookie` value of the action, renamed into the namespace, its path inside the namespace's URLs,
    and without a `Domain` attribute."""
    first, *attributes = value.split(";")
    name, eq, cookie_value = first.strip().partition("=")
    marker = next((m for m in HOST_PREFIXES if name.startswith(m)), "")
    renamed = f"{marker}{cookie_prefix(scope.namespace)}{name[len(marker) :]}{eq}{cookie_value}"
    kept, path = [], quote(scope.url_prefix, safe=PATH_SAFE) or "/"
    for attribute in attributes:
        key, _, given = attribute.strip().partition("=")
        if key.strip().lower() == "path" and given.strip().startswith(quote(scope.root, safe=PATH_SAFE)):
            path = given.strip()
        elif key.strip().lower() not in ("domain", "path"):
            kept.append(attribute)
    return ";".join([renamed, *kept, f" Path={path}"])


def scoped_response_headers(headers: list[tuple[str, str]], scope: CookieScope) -> list[tuple[str, str]]:
    return [
        (name, scoped_set_cookie(value, scope) if name.lower() == "set-cookie" else value) for name, value in headers
    ]
