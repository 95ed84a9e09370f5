"""The dashboard's build (web/dist) served at `/`, with index.html for any other page path.

The dashboard is a single-page app: its router owns paths like `/stores/3`, so a reload or a
shared link must get index.html rather than a 404. The API's own paths keep their behaviour: the
fallback only sees GET/HEAD requests no route matched (so 405s stay 405s), and never answers for
`/api/*`, `/ws`, `/metrics` or the docs, whose unknown paths stay JSON 404s. Without a build
(tests, a checkout where npm never ran) `/` keeps redirecting to the API docs.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# First path segments that belong to the API: never answered with the dashboard.
RESERVED = frozenset({"api", "ws", "metrics", "docs", "redoc", "openapi.json"})
# Vite names these files by content hash, so browsers may keep them for good.
IMMUTABLE = "public, max-age=31536000, immutable"


def install_dashboard(app: FastAPI, dist: Path) -> None:
    """Serve `dist` at `/` (redirect to /docs while it has no index.html) and fall back to it."""
    not_found: ASGIApp = app.router.default

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        index = dist / "index.html"
        if not index.is_file():
            return RedirectResponse("/docs")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    async def fallback(scope: Scope, receive: Receive, send: Send) -> None:
        response = _dashboard_file(dist, scope) if scope["type"] == "http" else None
        if response is None:
            await not_found(scope, receive, send)
        else:
            await response(scope, receive, send)

    # The dashboard's files only: its scripts shrink to a third (490 kB to 150 kB) on the first
    # load over a real network, and browsers keep them afterwards. The API's JSON stays plain:
    # compressing every answer would cost the server's CPU for clients mostly on a LAN.
    app.router.default = GZipMiddleware(fallback, minimum_size=1024)


def _dashboard_file(dist: Path, scope: Scope) -> Response | None:
    """The file for a GET of a non-API path: the asset itself, or index.html for a page."""
    if scope["method"] not in ("GET", "HEAD"):
        return None
    relative = scope["path"].lstrip("/")
    if relative.split("/", 1)[0] in RESERVED:
        return None
    root = dist.resolve()
    candidate = (root / relative).resolve()
    if candidate.is_relative_to(root) and candidate.is_file():
        cache = IMMUTABLE if relative.startswith("assets/") else "no-cache"
        return FileResponse(candidate, headers={"Cache-Control": cache})
    if relative.startswith("assets/"):
        return None  # a missing script must not be answered with HTML
    index = root / "index.html"
    if not index.is_file():
        return None
    return FileResponse(index, headers={"Cache-Control": "no-cache"})
