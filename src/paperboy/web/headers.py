"""Security headers on every response: pages, the JSON API, Atom feeds, static files, errors.

    app.add_middleware(SecurityHeaders)

The Content-Security-Policy lets pages run only the scripts served from /static (app.js, KaTeX,
Swagger UI): no inline script, no `javascript:` URL, no event-handler attribute, no eval. So
even a link that slipped past the allow-list (paperboy.links) could not run script here. The
templates hold no inline script or style for that reason. Pages may not be framed
(clickjacking), files are never sniffed into another type, and other sites learn nothing of
what was read here from the Referer header (a search or a subscription token in a URL).

A plain ASGI middleware rather than Starlette's `BaseHTTPMiddleware`: it only adds headers to
the response start, so streaming responses and background tasks run exactly as before.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no 'unsafe-inline': inline scripts and javascript: URLs are refused
        "style-src 'self'",
        "img-src 'self' data:",  # Swagger UI's and KaTeX's icons are data: SVGs
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",  # frame-ancestors' older twin, for browsers before CSP 2
    "cross-origin-opener-policy": "same-origin",
}
_ENCODED = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()]


class SecurityHeaders:
    """Adds `HEADERS` to every HTTP response; a header a route set itself is left as it is."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in _ENCODED if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
