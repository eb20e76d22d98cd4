"""Authentication schemes as httpx.Auth flows: basic, bearer/PAT, OAuth2 client credentials and password grant.

Secrets are encoded once, here, the way the sources decode them: Basic as base64 of UTF-8 `user:password`;
bearer tokens as UTF-8 header bytes; OAuth forms `application/x-www-form-urlencoded` (every reserved character
percent-encoded, UTF-8). Backticks, `&`, `%`, `+`, quotes, spaces and non-ASCII survive every scheme.

OAuth tokens are cached per client and fetched again on expiry or on a 401 (Salesforce issues no refresh token and
no expiry: a 401 INVALID_SESSION_ID is the signal). A refresh token, when the source gives one, is tried first; if
it is refused the full grant runs again.

Token failures: a 4xx from the token endpoint raises `TokenError` (or what the connector's `map_error` makes of
it) — wrong client id/secret, username/password or token URL, which no retry fixes; 429/5xx, HTML or cut-off
bodies raise a retryable `HttpError` so the client's retry loop handles them like any other transient failure.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Generator

import httpx
import orjson

from udc import secrets
from udc.config import Auth, BasicAuth, BearerAuth, ClientCredentialsAuth, PasswordGrantAuth
from udc.errors import SourceError
from udc.http.errors import RETRY_STATUSES, HttpError, TokenError

TokenErrorMapper = Callable[[httpx.Response], SourceError | None]
EXPIRY_MARGIN = 60.0  # refresh this long before expiry (at most a tenth of the token's life)


class _Basic(httpx.Auth):
    def __init__(self, username: str, password: str) -> None:
        # UTF-8 before base64, so non-ASCII passwords match what the source stored (a latin-1 client is a classic
        # cause of "401 only with special characters").
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        secrets.register(token)
        self._header = "Basic " + token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}".encode()  # header bytes: httpx would refuse a non-ASCII str

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        # New Headers: the old object may have settled on ASCII for decoding; these bytes are UTF-8.
        raw = [(k, v) for k, v in request.headers.raw if k.lower() != b"authorization"]
        request.headers = httpx.Headers([*raw, (b"Authorization", self._header)])
        yield request


class OAuth(httpx.Auth):
    """Fetches a bearer token with a form-encoded POST, caches it, and fetches a new one on 401 or expiry."""

    def __init__(self, token_url: str, form: dict[str, str], map_error: TokenErrorMapper | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = token_url
        self._form = form
        self._map_error = map_error
        self.clock = clock  # replaceable in tests
        self._token: str | None = None
        self._refresh_token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.fetches = 0  # tokens obtained (grants and refreshes)

    def _token_request(self) -> httpx.Request:
        form = dict(self._form)
        if self._refresh_token:
            form = {k: v for k, v in form.items() if k in ("client_id", "client_secret")}
            form |= {"grant_type": "refresh_token", "refresh_token": self._refresh_token}
        return httpx.Request("POST", self.token_url, data=form, headers={"Accept": "application/json"})

    def _accept(self, response: httpx.Response) -> None:
        response.read()
        refreshing = self._refresh_token is not None
        if response.status_code in RETRY_STATUSES:
            raise HttpError(f"OAuth token endpoint {self.token_url} answered HTTP {response.status_code}",
                            kind="status", status=response.status_code, url=self.token_url, body=response.text,
                            headers=response.headers)
        if response.status_code != 200:
            if refreshing:  # refresh token expired or revoked: the next try uses the full grant
                self._refresh_token = None
                return
            raise self._refused(response)
        try:
            payload = orjson.loads(response.content)
            token = payload["access_token"]
            if not isinstance(token, str) or not token:
                raise KeyError("access_token")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            html = b"<" in response.content[:200] or "html" in response.headers.get("content-type", "")
            raise HttpError(
                f"OAuth token endpoint {self.token_url} answered 200 without an access_token"
                f" ({'an HTML page' if html else 'not a JSON token'})",
                "check the token URL: it must be the instance's OAuth token endpoint (ServiceNow: "
                "https://<instance>/oauth_token.do); an HTML page can also mean a hibernating instance or a proxy",
                kind="html" if html else "invalid_json", status=200, url=self.token_url, body=response.text[:300],
            ) from None
        secrets.register(token)
        self._token = token
        refresh = payload.get("refresh_token")
        if isinstance(refresh, str) and refresh:
            secrets.register(refresh)
            self._refresh_token = refresh
        else:
            self._refresh_token = None
        expires_in = payload.get("expires_in")
        try:
            life = float(expires_in) if expires_in is not None else None
        except (TypeError, ValueError):
            life = None
        # Refresh early; no expires_in (Salesforce) means "until a 401 says otherwise".
        self._expires_at = self.clock() + life - min(EXPIRY_MARGIN, life / 10) if life else float("inf")
        self.fetches += 1

    def _refused(self, response: httpx.Response) -> SourceError:
        mapped = self._map_error(response) if self._map_error else None
        if mapped is not None:
            return mapped
        error = description = ""
        try:
            body = orjson.loads(response.content)
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                error, description = body["error"], str(body.get("error_description") or "")
        except orjson.JSONDecodeError:
            pass
        said = f" ({error}{': ' + description if description else ''})" if error else ""
        if response.status_code in (404, 405) or not error:  # not an OAuth endpoint's answer
            hint = ("the token URL is wrong: it must match your instance (ServiceNow: https://<instance>/oauth_token.do;"
                    " Salesforce: https://<my_domain>.my.salesforce.com/services/oauth2/token)")
        elif error == "invalid_grant" and self._form.get("grant_type") == "password":
            hint = ("the username or password is wrong, or the account is locked or its password was reset; "
                    "also check client_id and client_secret")
        else:
            hint = ("check both client_id and client_secret (and username/password for the password grant), and "
                    "that the OAuth token endpoint URL matches your instance")
        return TokenError(f"OAuth token request to {self.token_url} was refused with HTTP {response.status_code}{said}",
                          hint, status=response.status_code, token_url=self.token_url, error=error,
                          description=description)

    def _fresh(self) -> bool:
        return self._token is not None and self.clock() < self._expires_at

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            for _ in range(2):  # a refused refresh token falls back to the full grant
                if self._fresh():
                    break
                self._accept((yield self._token_request()))
            sent = self._token
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code != 401:
            return
        with self._lock:
            if self._token == sent:  # nobody refreshed meanwhile: this token is dead
                self._token, self._expires_at = None, 0.0
                for _ in range(2):
                    if self._token is not None:
                        break
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
