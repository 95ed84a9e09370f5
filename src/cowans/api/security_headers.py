"""Browser-facing hardening headers on every HTTP response, as one pure ASGI middleware.

The dashboard's build is plain files (no inline script, see web/dist/index.html), so scripts are
limited to this origin. Styles need 'unsafe-inline': Mantine writes its CSS variables into
<style> elements at run time. Product images come from Shopify's CDN and suppliers, so images
may be any https URL. The live events WebSocket is same-origin, which 'self' covers in CSP 3.

FastAPI's /docs and /redoc load Swagger UI and ReDoc from jsDelivr with an inline bootstrap
script; they get a policy of their own rather than loosening the dashboard's.

Strict-Transport-Security is only sent over https: on plain http a browser ignores it, and a
developer's http://127.0.0.1 must not be pinned to https.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DASHBOARD_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: https:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net",
        "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
        "font-src 'self' https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
HSTS = "max-age=31536000"

_COMMON_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)


def security_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The headers a response to this request carries (a route's own values win)."""
    policy = DOCS_POLICY if scope["path"] in DOCS_PATHS else DASHBOARD_POLICY
    headers = [*_COMMON_HEADERS, (b"content-security-policy", policy.encode())]
    if scope.get("scheme") == "https":
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
