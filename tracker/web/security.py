"""Security headers on every response, with a per-request nonce for scripts."""

import secrets

from flask import Flask, g

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    # plotly.js sets inline styles on the elements it draws.
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def csp_nonce() -> str:
    """This response's script nonce, for the few inline script blocks."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def register(app: Flask) -> None:
    """Send the headers with every response, error pages included."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
            nonce=csp_nonce()
        )
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers.setdefault("Referrer-Policy", "same-origin")  # a page may be stricter
        headers.setdefault("Cache-Control", "no-store")
        if app.config.get("BEHIND_HTTPS"):
            headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
