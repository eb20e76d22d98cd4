"""Errors of the HTTP layer. Every message is scrubbed of secrets before it is stored on the exception."""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from udc.errors import SourceError
from udc.secrets import scrub

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A page too large for the gateway fails the same way every time: a caller that can shrink its batch wants to know
# after one retry instead of burning the retry budget.
BATCH_SENSITIVE = frozenset({413, 502, 504})
# Kinds of failure worth another attempt: the source or the network may behave next time.
TRANSIENT_KINDS = frozenset({"timeout", "connect", "refused", "reset", "html", "invalid_json"})


class HttpError(SourceError):
    """A request failed. `kind` says how:

    status (HTTP >= 400, see `status`), timeout, connect (unreachable), refused (connection refused), reset (dropped
    mid-request), dns, tls, html (an HTML page instead of JSON), invalid_json (cut off or garbled), redirect (3xx:
    a proxy, SSO page or wrong URL), too_large (over the configured response size cap).
    """

    def __init__(self, message: str, hint: str = "", *, kind: str = "status", status: int | None = None,
                 url: str = "", body: str = "", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(scrub(message), scrub(hint))
        self.kind, self.status, self.url, self.body = kind, status, scrub(url), scrub(body[:4000])
        self.headers = dict(headers or {})

    @property
    def batch_sensitive(self) -> bool:
        """The page may be too large for the source: a smaller batch may succeed where a retry will not."""
        return (self.status in BATCH_SENSITIVE or self.kind == "too_large"
                or "maximum execution time exceeded" in self.body.lower())

    @property
    def retryable(self) -> bool:
        return self.kind in TRANSIENT_KINDS or (self.kind == "status" and self.status in RETRY_STATUSES)


class TokenError(SourceError):
    """The token endpoint refused the credentials (HTTP 4xx): retrying will not help.

    `status` is the HTTP status, `error`/`description` the OAuth error fields when the body had them.
    """

    def __init__(self, message: str, hint: str = "", *, status: int, token_url: str, error: str = "",
                 description: str = "") -> None:
        super().__init__(scrub(message), scrub(hint))
        self.status, self.token_url, self.error, self.description = status, token_url, error, scrub(description)


class ReadOnlyViolation(SourceError):
    """Something tried to send a request other than GET (or POST to a configured token endpoint)."""


def source_message(body: str) -> str:
    """The source's own error text from a JSON error body (ServiceNow, Jira, Salesforce, Confluence, OAuth)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    parts: list[str] = []
    if isinstance(data, list) and data and isinstance(data[0], dict):  # Salesforce [{"message","errorCode"}]
        data = data[0]
    if not isinstance(data, dict):
        return ""
    error = data.get("error")
    if isinstance(error, dict):  # ServiceNow {"error":{"message","detail"}}
        parts += [str(error.get(k)) for k in ("message", "detail") if error.get(k)]
    elif isinstance(error, str):  # OAuth {"error","error_description"}
        parts += [error] + ([str(data["error_description"])] if data.get("error_description") else [])
    if isinstance(data.get("errorMessages"), list):  # Jira
        parts += [str(m) for m in data["errorMessages"]]
    if isinstance(data.get("errors"), dict):
        parts += [f"{k}: {v}" for k, v in data["errors"].items()]
    elif isinstance(data.get("errors"), list):  # Confluence v2
        parts += [str(e.get("title") or e.get("detail") or e) for e in data["errors"] if isinstance(e, dict)]
    if data.get("errorCode"):
        parts += [str(data["errorCode"]), str(data.get("message") or "")]
    return scrub("; ".join(p for p in parts if p)[:300])


class OtherOrigin(SourceError):
    """A request to a scheme, host or port other than the source's own and its token endpoints' (a `next` link or a
    redirect target elsewhere): it would carry the source's credentials there, so it is never sent."""
