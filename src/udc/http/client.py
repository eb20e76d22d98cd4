"""The one HTTP client every connector uses: GET-only, authenticated, rate-budgeted, retried, secret-free."""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from udc.config import Auth, Pipeline
from udc.errors import RetryBudgetExceeded, SourceError
from udc.http.auth import OAuth, TokenErrorMapper, build_auth
from udc.http.budget import RateBudget, RetryBudget, reset_delay, shared_budget
from udc.secrets import scrub

log = logging.getLogger("udc.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A page too large for the gateway fails the same way every time: retry once (it may be a blip), then let the
# stream shrink its batch instead of burning the retry budget.
BATCH_SENSITIVE = frozenset({413, 502, 504})


class HttpError(SourceError):
    """A request failed for good. `kind`: status, timeout, connect, dns, tls, html, invalid_json."""

    def __init__(self, message: str, hint: str = "", *, kind: str = "status", status: int | None = None,
                 url: str = "", body: str = "", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(scrub(message), hint)
        self.kind, self.status, self.url, self.body = kind, status, url, scrub(body[:2000])
        self.headers = dict(headers or {})

    @property
    def batch_sensitive(self) -> bool:
        return self.status in BATCH_SENSITIVE or "maximum execution time exceeded" in self.body.lower()


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    bytes: int = 0
    faults: dict[str, int] = field(default_factory=dict)

    def fault(self, kind: str) -> None:
        self.faults[kind] = self.faults.get(kind, 0) + 1


class HttpClient:
    """GET requests to one source. Token endpoints are the only other requests that may leave (invariant 7)."""

    def __init__(
        self,
        base_url: str,
        auth: Auth | None,
        *,
        name: str = "source",
        timeout: float = 60.0,
        budget: RateBudget | None = None,
        retries: RetryBudget | None = None,
        max_retries: int = 8,
        token_url: str = "",
        verify_tls: bool = True,
        map_token_error: TokenErrorMapper | None = None,
        observe: Callable[[httpx.Response], None] | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.budget = budget or RateBudget()
        self.retries = retries or RetryBudget(10_000)
        self.max_retries = max_retries
        self.stats = CallStats()
        self._observe = observe
        self._backoff = (backoff_base, backoff_cap)
        self.auth = build_auth(auth, token_url or self.base_url, map_token_error) if auth else None
        allowed = {self.auth.token_url} if isinstance(self.auth, OAuth) else set()
        self._http = httpx.Client(
            auth=self.auth,
            timeout=httpx.Timeout(timeout),
            verify=verify_tls,
            headers={"Accept": "application/json", "User-Agent": "udc/0.1 (read-only data connector)"},
            event_hooks={"request": [lambda request: _read_only(request, allowed)]},
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )

    @classmethod
    def for_pipeline(cls, connector_name: str, base_url: str, auth: Auth, pipeline: Pipeline, **kwargs: Any
                     ) -> HttpClient:
        interval = pipeline.rate_limit_timeout_ms / 1000
        budget = shared_budget(connector_name, pipeline.max_calls_per_minute, pipeline.rate_limit, interval)
        return cls(base_url, auth, name=connector_name, timeout=pipeline.request_timeout, budget=budget,
                   retries=RetryBudget(pipeline.retry_budget), max_retries=pipeline.max_retries, **kwargs)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
            *, expect_json: bool = True) -> httpx.Response:
        """GET with retries. Returns a 2xx response (JSON-checked when `expect_json`); raises HttpError otherwise."""
        url = self.url(path)
        attempt = 0
        while True:
            failure = self._attempt(url, params, headers, expect_json)
            if isinstance(failure, httpx.Response):
                return failure
            retryable, wait = failure.kind not in ("dns", "tls", "status") or failure.status in RETRY_STATUSES, None
            if failure.status in BATCH_SENSITIVE and attempt >= 1:
                retryable = False
            if failure.status in (429, 503):
                wait = reset_delay(failure.headers)
                if wait is not None:
                    self.budget.pause(wait)
            if not retryable or attempt >= self.max_retries:
                raise failure
            if not self.retries.take():
                raise RetryBudgetExceeded(
                    f"{self.name}: retry budget of {self.retries.limit} retries for this run is used up "
                    f"(last failure: {failure.message})",
                    "progress up to the last stored page is kept; run again later, or raise retry_budget "
                    "once the source is healthy",
                )
            attempt += 1
            self.stats.retries += 1
            delay = wait if wait is not None else self._delay(attempt)
            log.warning("%s: %s; retry %d/%d in %.1fs", self.name, failure.message, attempt, self.max_retries, delay)
            if wait is None and delay > 0:
                time.sleep(delay)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        return orjson.loads(self.get(path, params, headers).content)

    def _delay(self, attempt: int) -> float:
        base, cap = self._backoff
        return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # full jitter

    def _attempt(self, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None,
                 expect_json: bool) -> httpx.Response | HttpError:
        self.budget.acquire()
        self.stats.calls += 1
        try:
            response = self._http.get(url, params=params, headers=headers)
        except SourceError:
            raise
        except httpx.TimeoutException:
            self.stats.fault("timeout")
            return HttpError(f"{self.name}: request timed out ({url})", "raise request_timeout, or lower batch_size "
                             "so each page is quicker to build", kind="timeout", url=url)
        except httpx.ConnectError as exc:
            return _connect_error(self.name, url, exc)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            self.stats.fault("connection")
            return HttpError(f"{self.name}: connection dropped ({type(exc).__name__}) on {url}", kind="connect",
                             url=url)
        self.stats.bytes += len(response.content)
        if self._observe:
            self._observe(response)
        self.budget.observe(response.headers)
        if response.status_code >= 400:
            self.stats.fault(str(response.status_code))
            return HttpError(f"{self.name}: HTTP {response.status_code} from {_path(url)}", kind="status",
                             status=response.status_code, url=url, body=response.text, headers=response.headers)
        if expect_json:
            problem = _json_problem(response)
            if problem:
                self.stats.fault(problem)
                return HttpError(*_json_message(self.name, url, problem), kind=problem, status=response.status_code,
                                 url=url, body=response.text[:500])
        return response

    def close(self) -> None:
        self._http.close()


def _read_only(request: httpx.Request, allowed: set[str]) -> None:
    if request.method != "GET" and str(request.url.copy_with(query=None)) not in allowed:
        raise SourceError(f"refused to send {request.method} {request.url.path}: udc is read-only",
                          "udc only reads from sources (GET), apart from OAuth token requests")


def _path(url: str) -> str:
    return httpx.URL(url).path


def _json_problem(response: httpx.Response) -> str | None:
    content_type = response.headers.get("content-type", "")
    body = response.content.lstrip()[:1]
    if "html" in content_type or body == b"<":
        return "html"
    try:
        orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return "invalid_json"
    return None


def _json_message(name: str, url: str, problem: str) -> tuple[str, str]:
    if problem == "html":
        return (f"{name}: got an HTML page instead of JSON from {_path(url)}",
                "the instance may be hibernating (wake it by signing in), a proxy may be answering, or the URL is "
                "not the instance's API URL")
    return f"{name}: response from {_path(url)} is not valid JSON (cut off?)", "retry; if it persists, lower batch_size"


def _connect_error(name: str, url: str, exc: httpx.ConnectError) -> HttpError:
    text = str(exc)
    host = httpx.URL(url).host
    if isinstance(exc.__cause__, ssl.SSLError) or "SSL" in text or "CERTIFICATE" in text.upper():
        return HttpError(f"{name}: TLS handshake with {host} failed ({text})",
                         "a proxy may be intercepting TLS: install its CA certificate, or check the URL's host name",
                         kind="tls", url=url)
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return HttpError(f"{name}: cannot resolve host {host}", "check the URL for typos, and DNS or proxy settings",
                         kind="dns", url=url)
    return HttpError(f"{name}: connection to {host} refused or unreachable ({text})",
                     "check the URL and port, the proxy, and that this machine's IP is on the source's allow-list",
                     kind="connect", url=url)
