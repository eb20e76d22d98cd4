"""Who may read the dashboard: with `UDC_SERVE_TOKEN` set, a request carries the token as a bearer header (the API,
Prometheus) or a session cookie set by the login form (the pages). The cookie holds an HMAC of the token, never the
token itself, and is HttpOnly and SameSite=Strict."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from starlette.requests import Request

from udc.errors import ConfigError
from udc.serve.settings import TOKEN_ENV

SESSION_COOKIE = "udc_session"
MIN_TOKEN = 16
LOOPBACK_NAMES = ("localhost",)


class Guard:
    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None
        self.session = hmac.new(self._token, b"udc serve session", hashlib.sha256).hexdigest() if self._token else ""

    @property
    def open(self) -> bool:
        """No token: loopback only, no login."""
        return self._token is None

    def token_ok(self, given: str) -> bool:
        return self._token is not None and hmac.compare_digest(given.encode(), self._token)

    def allows(self, request: Request) -> bool:
        if self._token is None:
            return True
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.token_ok(value.strip()):
            return True
        return hmac.compare_digest(request.cookies.get(SESSION_COOKIE, ""), self.session)


def check_binding(host: str, token: str | None) -> None:
    """Refuse to serve beyond this machine without a token, or with a token too short to resist guessing."""
    if token is not None and len(token) < MIN_TOKEN:
        raise ConfigError(f"{TOKEN_ENV} is {len(token)} characters long; it needs {MIN_TOKEN} or more",
                          f"set a long random one: export {TOKEN_ENV}=$(python -c 'import secrets; "
                          "print(secrets.token_urlsafe(32))')")
    if token is None and not is_loopback(host):
        raise ConfigError(f"refusing to serve on {host} without a token: anyone who can reach it could read the "
                          "dashboard", f"set {TOKEN_ENV} (a long random value; the API takes it as `Authorization: "
                          "Bearer …`, the pages through a login form), or serve on --host 127.0.0.1")


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


__all__ = ["SESSION_COOKIE", "Guard", "check_binding", "is_loopback"]
