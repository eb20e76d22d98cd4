"""Diagnostics helpers for sources' `check` (see `udc.check`), so every connector words common failures the same way.

- `Finding(level, title, detail, fix)`: one line of `udc check`'s verdict. `level` is `ok`, `warn`, `fail` or
  `skip`; `title` names what was checked (e.g. "credentials", "table incident"), `detail` says what was seen, `fix`
  what to do (empty when nothing to do). Only `fail` makes the connector unhealthy.
- `connection_findings(exc, ...)` turns the error of a source's first request into the doc's verdicts — DNS
  failure, TLS failure, refused connection or unreachable host (proxy, IP allow-list), timeout, HTML instead of JSON
  (hibernating instance, proxy, wrong URL), 401 (credentials wrong, rotated or locked; shell-meaningful characters in
  a secret; OAuth client id/secret or token URL), 403, rate limiting, 5xx.
- `special_characters(auth)` names the shell-meaningful characters found in the configured secrets.
- `check_client(...)` builds an `HttpClient` for diagnostics: few retries, a short timeout, the connector's budget.

Below the source modules (they import it) and above http and config; it knows no source.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from udc.config import Auth, BasicAuth, BearerAuth, ClientCredentialsAuth, PasswordGrantAuth, Pipeline
from udc.errors import RetryBudgetExceeded, UdcError
from udc.http.client import HttpClient, HttpError, TokenError
from udc.secrets import scrub

SHELL_CHARACTERS = "`&$\\\"'!|;<>()*?#~%+^{}[]= "
CHECK_TIMEOUT = 20.0  # seconds: a check should answer quickly even when the configured timeout is long
_THROTTLED = "the source is throttling this account: wait, then lower max_calls_per_minute"


@dataclass(frozen=True)
class Finding:
    """One line of the verdict."""

    level: str  # ok, warn, fail, skip
    title: str
    detail: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def check_client(base_url: str, auth: Auth, pipeline: Pipeline, name: str, **kwargs: Any) -> HttpClient:
    """A client for diagnostics: the connector's shared budget, one retry, a short timeout."""
    quick = pipeline.model_copy(update={"max_retries": min(pipeline.max_retries, 1),
                                        "request_timeout": min(pipeline.request_timeout, CHECK_TIMEOUT)})
    return HttpClient.for_pipeline(name, base_url, auth, quick, **kwargs)


def secret_values(auth: Auth) -> dict[str, str]:
    """The configured secrets by what they are (for advice only; never printed)."""
    if isinstance(auth, BasicAuth):
        return {"password": auth.password.get_secret_value()}
    if isinstance(auth, BearerAuth):
        return {"token": auth.token.get_secret_value()}
    values = {"client_id": auth.client_id.get_secret_value(), "client_secret": auth.client_secret.get_secret_value()}
    if isinstance(auth, PasswordGrantAuth):
        values["password"] = auth.password.get_secret_value()
    return values


def special_characters(auth: Auth) -> dict[str, str]:
    """Which secrets hold shell-meaningful or non-ASCII characters, and which ones (the characters only)."""
    found = {}
    for what, value in secret_values(auth).items():
        chars = sorted({c for c in value if c in SHELL_CHARACTERS or not c.isascii()})
        if chars:
            found[what] = " ".join("space" if c == " " else c if c.isascii() else "non-ASCII" for c in chars)
    return found


def _special_advice(auth: Auth) -> str:
    found = special_characters(auth)
    if not found:
        return ""
    which = "; ".join(f"the {what} contains {chars}" for what, chars in found.items())
    return (f" Special characters in secrets ({which}) can be URL-encoded inconsistently by some clients: if the "
            "source accepts the secret elsewhere but not here, regenerate it without them and re-submit.")


def connection_findings(exc: BaseException, *, request: str, auth: Auth, url: str,
                        token_hint: str = "") -> list[Finding]:
    """The doc's verdict for a failed first request (`request` is what was sent, e.g. `GET /api/now/table/...`)."""
    if isinstance(exc, TokenError):
        return [_token_finding(exc, auth, token_hint)]
    if isinstance(exc, RetryBudgetExceeded):
        return [Finding("fail", "rate limited", scrub(exc.message), _THROTTLED)]
    if not isinstance(exc, HttpError):
        if isinstance(exc, UdcError):
            return [Finding("fail", "connection", scrub(exc.message), scrub(exc.hint))]
        return [Finding("fail", "connection", scrub(f"{type(exc).__name__}: {exc}"), "")]
    host = url.split("://", 1)[-1].split("/", 1)[0]
    proxy = ("if you connect through a proxy, check HTTPS_PROXY/NO_PROXY; if the source has an IP allow-list (or you "
             "go through a reverse proxy with a static-IP requirement), confirm this machine's or the proxy's IP is "
             "on it and has not changed")
    kind = exc.kind
    if kind == "dns":
        return [Finding("fail", "DNS failure", f"cannot resolve {host}: {request} never left this machine",
                        "check the URL for typos (ServiceNow: https://<instance>.service-now.com), then this "
                        "machine's DNS settings; " + proxy)]
    if kind == "tls":
        return [Finding("fail", "TLS failure", scrub(exc.message),
                        "the server's certificate is not trusted here: a proxy inspecting TLS needs its CA "
                        "certificate installed (or SSL_CERT_FILE pointed at it); a self-signed certificate or a host "
                        "name that does not match it means the URL is wrong")]
    if kind in ("refused", "connect"):
        what = "refused the connection" if kind == "refused" else "could not be reached"
        return [Finding("fail", "connection refused" if kind == "refused" else "host unreachable",
                        f"{host} {what} ({scrub(exc.message)})", "check the URL and port; " + proxy)]
    if kind == "timeout":
        return [Finding("fail", "no answer", scrub(exc.message),
                        "the source or a proxy in between is not answering in time: check the proxy, then raise "
                        "request_timeout")]
    if kind in ("html", "redirect"):
        return [Finding("fail", "HTML instead of JSON", f"{request}: {scrub(exc.message)}",
                        "a hibernating developer instance answers with an HTML page (sign in to the instance to "
                        "wake it); otherwise a proxy or SSO login page is answering, or the URL is not the "
                        "instance's own (https://<instance>.service-now.com, no path)")]
    if kind == "status" and exc.status == 401:
        return [_unauthorized(exc, auth, request, proxy)]
    if kind == "status" and exc.status == 403:
        return [Finding("fail", "403 Forbidden", f"{request}: {scrub(exc.message)}",
                        "the account is authenticated but may not use this API: give it the role your instance "
                        "requires for REST access and read access to the data")]
    if kind == "status" and exc.status == 429:
        return [Finding("fail", "rate limited", f"{request}: {scrub(exc.message)}", _THROTTLED)]
    return [Finding("fail", "source error", f"{request}: {scrub(exc.message)}",
                    scrub(exc.hint) or "the source failed; try again later, and check its status page")]


def _unauthorized(exc: HttpError, auth: Auth, request: str, proxy: str) -> Finding:
    oauth = isinstance(auth, ClientCredentialsAuth | PasswordGrantAuth)
    fix = ("confirm the service account is still active and has not been rotated, locked, or had its password reset "
           "since the connector was configured")
    if oauth:
        fix += ("; for OAuth, double-check both client_id and client_secret, and that the token URL matches your "
                "instance")
    fix += "; " + proxy + "." + _special_advice(auth)
    return Finding("fail", "401 Unauthorized",
                   f"{request} returned 401 ({scrub(exc.message)}). This is the call the product doc asks you to "
                   "re-test: when it fails, the problem is on the source side (the account or its credentials), not "
                   "the connector", fix)


def _token_finding(exc: TokenError, auth: Auth, token_hint: str) -> Finding:
    said = f" ({exc.error}{': ' + exc.description if exc.description else ''})" if exc.error else ""
    if exc.status in (404, 405) or not exc.error:  # the answer is not an OAuth endpoint's
        return Finding("fail", "OAuth token URL wrong",
                       f"POST {exc.token_url} answered HTTP {exc.status}{said}: this is not the instance's token "
                       "endpoint", token_hint or "confirm the OAuth token endpoint URL matches your instance")
    who = "client_id and client_secret"
    if isinstance(auth, PasswordGrantAuth):
        who += ", and the username and password"
    return Finding("fail", "401 Unauthorized (OAuth)",
                   f"the token endpoint {exc.token_url} refused the credentials with HTTP {exc.status}{said}",
                   f"double-check both {who}; confirm the account is active, not locked, and its password was not "
                   f"rotated or reset; confirm the OAuth token endpoint URL matches your instance."
                   + _special_advice(auth))
