"""Who may see the operator dashboard, and protection of its forms.

Rule: when the web app is bound to a loopback address (the default, ``127.0.0.1``), only
people on this machine can reach it, so the dashboard is open. Bound anywhere else (Docker's
``0.0.0.0``, a LAN address) it requires ``BRIEFCAST_API_TOKEN``: as ``Authorization: Bearer``
(scripts) or through the login form, which sets a cookie. Without a configured token a
non-loopback dashboard stays closed and says how to open it.

The decision uses the *bind* address, not the client's address: behind a reverse proxy on the
same host every client looks like 127.0.0.1, and that must not open the dashboard.

The cookie holds ``HMAC(token, "dashboard-session")``, never the token itself; it is
HttpOnly and SameSite=Strict. Every form that changes something also carries a CSRF token
(``HMAC(key, "csrf")``, key = the API token or a per-process random key when open), because
an open loopback dashboard could otherwise be driven by any web page the operator visits.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from starlette.requests import Request

from briefcast.config import Settings

COOKIE = "briefcast_dashboard"
SESSION_LABEL = b"dashboard-session"
CSRF_LABEL = b"csrf"
COOKIE_MAX_AGE = 12 * 3600


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost`` and the rest of 127/8; not ``0.0.0.0`` or ``::``."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _mac(key: bytes, label: bytes) -> str:
    return hmac.new(key, label, hashlib.sha256).hexdigest()


class DashboardAuth:
    """Access decisions for one settings object."""

    def __init__(self, settings: Settings, *, process_key: bytes | None = None) -> None:
        self.open = is_loopback(settings.http_host)
        self._token = settings.api_token.get()
        self._key = self._token.encode("utf-8") if self._token else (process_key or secrets.token_bytes(32))

    @property
    def configured(self) -> bool:
        """True when a login is possible (a token exists) or not needed (loopback)."""
        return self.open or bool(self._token)

    def session_value(self) -> str:
        return _mac(self._key, SESSION_LABEL)

    def csrf_token(self) -> str:
        return _mac(self._key, CSRF_LABEL)

    def check_token(self, given: str) -> bool:
        """Constant-time comparison with the API token (False when none is configured)."""
        if not self._token:
            return False
        return hmac.compare_digest(given.strip().encode("utf-8"), self._token.encode("utf-8"))

    def via_bearer(self, request: Request) -> bool:
        """The request carries the API token in an Authorization header (scripts; no CSRF risk)."""
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.check_token(given)

    def allowed(self, request: Request) -> bool:
        """May this request see the dashboard?"""
        if self.open:
            return True
        if not self._token:
            return False
        if self.via_bearer(request):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie, self.session_value())

    def csrf_ok(self, request: Request, form_token: str) -> bool:
        """The form's CSRF token matches, and a present Origin header is this site (bearer: exempt)."""
        if self.via_bearer(request):
            return True
        origin = request.headers.get("origin")
        if origin is not None and origin != "null":
            expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
            if origin.rstrip("/") != expected:
                return False
        return hmac.compare_digest(form_token.encode("utf-8"), self.csrf_token().encode("utf-8"))
