"""Authentication schemes as httpx.Auth flows: basic, bearer/PAT, OAuth2 client credentials and password grant.

OAuth tokens are cached per client and fetched again on expiry or on a 401 (Salesforce issues no refresh token
and no expiry: a 401 INVALID_SESSION_ID is the signal).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Generator

import httpx

from udc.config import Auth, BasicAuth, BearerAuth, ClientCredentialsAuth, PasswordGrantAuth
from udc.errors import SourceError

TokenErrorMapper = Callable[[httpx.Response], SourceError | None]


class _Basic(httpx.Auth):
    def __init__(self, username: str, password: str) -> None:
        # UTF-8 before base64, so non-ASCII passwords match what the source stored (httpx's default agrees;
        # spelled out because a latin-1 client is a classic cause of "401 only with special characters").
        raw = f"{username}:{password}".encode()
        self._header = "Basic " + base64.b64encode(raw).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class OAuth(httpx.Auth):
    """Fetches a bearer token with a form-encoded POST, caches it, and fetches a new one on 401 or expiry."""

    requires_response_body = True

    def __init__(self, token_url: str, form: dict[str, str], map_error: TokenErrorMapper | None = None) -> None:
        self.token_url = token_url
        self._form = form
        self._map_error = map_error
        self._token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.fetches = 0

    def _token_request(self) -> httpx.Request:
        form = dict(self._form)
        if self._refresh_token:
            form = {k: v for k, v in form.items() if k in ("client_id", "client_secret")}
            form |= {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        return httpx.Request("POST", self.token_url, data=form, headers={"Accept": "application/json"})

    def _accept(self, response: httpx.Response) -> None:
        response.read()
        if response.status_code != 200:
            if self._refresh_token:  # refresh token expired or revoked: next try uses the full grant
                self._refresh_token = None
                return
            mapped = self._map_error(response) if self._map_error else None
            raise mapped or SourceError(
                f"OAuth token request to {self.token_url} failed with HTTP {response.status_code}",
                "check client_id, client_secret (and username/password for the password grant), and that the "
                "token URL matches your instance",
            )
        try:
            payload = response.json()
            self._token = payload["access_token"]
        except (ValueError, KeyError):
            raise SourceError(
                f"OAuth token endpoint {self.token_url} did not return an access_token",
                "check the token URL: it must be the instance's OAuth token endpoint",
            ) from None
        self._refresh_token = payload.get("refresh_token")
        expires_in = payload.get("expires_in")
        # Refresh a minute early; no expires_in (Salesforce) means "until a 401 says otherwise".
        self._expires_at = time.monotonic() + float(expires_in) - 60 if expires_in else float("inf")
        self.fetches += 1

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            for _ in range(2):
                if self._token is not None and time.monotonic() < self._expires_at:
                    break
                self._accept((yield self._token_request()))
            stale = self._token
        request.headers["Authorization"] = f"Bearer {stale}"
        response = yield request
        if response.status_code == 401:
            with self._lock:
                if self._token == stale:
                    self._token = None
                    self._accept((yield self._token_request()))
                    if self._token is None:  # refresh token was refused: use the full grant
                        self._accept((yield self._token_request()))
                request.headers["Authorization"] = f"Bearer {self._token}"
            yield request


def build_auth(auth: Auth, default_token_url: str, map_error: TokenErrorMapper | None = None) -> httpx.Auth:
    if isinstance(auth, BasicAuth):
        return _Basic(auth.username, auth.password.get_secret_value())
    if isinstance(auth, BearerAuth):
        return _Bearer(auth.token.get_secret_value())
    if isinstance(auth, ClientCredentialsAuth):
        form = {"grant_type": "client_credentials", "client_id": auth.client_id.get_secret_value(),
                "client_secret": auth.client_secret.get_secret_value()}
        if auth.scope:
            form["scope"] = auth.scope
        return OAuth(auth.token_url or default_token_url, form, map_error)
    if isinstance(auth, PasswordGrantAuth):
        form = {"grant_type": "password", "client_id": auth.client_id.get_secret_value(),
                "client_secret": auth.client_secret.get_secret_value(), "username": auth.username,
                "password": auth.password.get_secret_value()}
        return OAuth(auth.token_url or default_token_url, form, map_error)
    raise TypeError(f"unsupported auth {type(auth).__name__}")
