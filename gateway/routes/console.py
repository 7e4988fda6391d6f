"""The web console: the static files of `gateway/console/`, served under `/console/` from memory.

The console runs on the API's origin and talks only to the public REST API (HTTP Basic `uuid:key`) and
the admin API (Bearer admin key). Every answer carries a strict Content-Security-Policy: scripts only
from this origin (no inline script, no eval), no framing, no form posts, fetches only to this origin.
The files are read once, at import: no disk access per request, and nothing here runs on the invoke path
(the router is included after every API router).
"""

from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from core.errors import NotFound

router = APIRouter(tags=["console"], include_in_schema=False)

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",  # a page of another browsing context group cannot script it
    "Cache-Control": "no-cache",  # revalidate: an upgraded gateway serves its own console at once
}


def load_files(folder: Traversable) -> dict[str, tuple[bytes, str]]:
    """File name -> (content, content type), for the files of known types directly in `folder`."""
    found: dict[str, tuple[bytes, str]] = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in CONTENT_TYPES:
            found[entry.name] = (entry.read_bytes(), CONTENT_TYPES[suffix])
    return found


FILES = load_files(files("gateway") / "console")


def _serve(name: str) -> Response:
    found = FILES.get(name)
    if found is None:
        raise NotFound("console file", name)
    content, media_type = found
    return Response(content, media_type=media_type, headers=SECURITY_HEADERS)


@router.get("/console")
async def console_root() -> RedirectResponse:
    # relative, so that the console also works behind a proxy that mounts the API under a prefix
    return RedirectResponse("console/", status_code=307, headers=SECURITY_HEADERS)


@router.get("/console/")
async def console_index() -> Response:
    return _serve("index.html")


@router.get("/console/{name}")
async def console_file(name: str) -> Response:
    return _serve(name)
