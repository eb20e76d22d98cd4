"""The one HTTP client every connector uses: GET-only, authenticated, rate-budgeted, retried, secret-free.

Every request — data GETs, OAuth token POSTs, the replay after a 401 — passes through one transport, `_Guard`,
which refuses anything but GET (POST only to the configured token endpoints: invariant 7), takes a call from the
connector's shared rate budget and counts it. Above it, `HttpClient.get` retries 429, 5xx, timeouts, dropped
connections, HTML pages and cut-off JSON with full-jitter exponential backoff, honouring `Retry-After` and rate-limit
reset headers exactly (every thread of the connector waits), and spends the run's retry budget; when that is used
up the run fails cleanly with `RetryBudgetExceeded` and every page stored so far stays committed.
"""

from __future__ import annotations

import errno
import functools
import logging
import random
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from udc import secrets
from udc.config import Auth, Pipeline
from udc.errors import RetryBudgetExceeded, SourceError
from udc.http.auth import OAuth, TokenErrorMapper, build_auth
from udc.http.budget import RateBudget, RetryBudget, reset_delay, shared_budget
from udc.http.errors import (
    BATCH_SENSITIVE,
    RETRY_STATUSES,
    HttpError,
    OtherOrigin,
    ReadOnlyViolation,
    TokenError,
    source_message,
)
from udc.http.redis_budget import budget_url, shared_redis_budget
from udc.secrets import ScrubFilter, scrub

__all__ = ["BATCH_SENSITIVE", "RETRY_STATUSES", "CallStats", "HttpClient", "HttpError", "OtherOrigin", "preload",
           "ReadOnlyViolation", "TokenError", "endpoint"]

log = logging.getLogger("udc.http")
log.addFilter(ScrubFilter())  # whatever handler is attached (files, pytest, a host app's), secrets are masked

MAX_WAIT = 3600.0  # the longest Retry-After honoured; beyond it the run stops checkpointed


@dataclass
class CallStats:
    calls: int = 0
    retries: int = 0
    bytes: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)  # responses per HTTP status (for monitoring)
    waited: float = 0.0  # seconds spent waiting for the rate budget (limits, Retry-After pauses, pacing)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def call(self) -> None:
        with self._lock:
            self.calls += 1

    def retry(self) -> None:
        with self._lock:
            self.retries += 1

    def received(self, size: int) -> None:
        with self._lock:
            self.bytes += size

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] = self.faults.get(kind, 0) + 1

    def answered(self, status: int) -> None:
        with self._lock:
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def wait(self, seconds: float) -> None:
        if seconds:
            with self._lock:
                self.waited += seconds


def origin(url: str | httpx.URL) -> str:
    """scheme://host:port of a URL (default port explicit): where its credentials may go."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{parsed.host.lower()}:{port}"


def endpoint(url: str | httpx.URL) -> str:
    """scheme://host:port/path of a URL, normalised (query dropped, default port explicit, no trailing slash)."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    return f"{origin(parsed)}{parsed.path.rstrip('/') or '/'}"


class _Guard(httpx.BaseTransport):
    """The single exit: read-only check, rate budget, call count — for every request the client sends."""

    def __init__(self, inner: httpx.BaseTransport, token_endpoints: frozenset[str], origins: frozenset[str],
                 budget: RateBudget, stats: CallStats) -> None:
        self.inner, self.token_endpoints, self.budget, self.stats = inner, token_endpoints, budget, stats
        self.origins = origins

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if origin(request.url) not in self.origins:  # an absolute `next` link to elsewhere, or http:// for https://
            raise OtherOrigin(
                f"refused to send a request to {origin(request.url)}: the source pointed udc there (a next-page "
                f"link), but its credentials go only to {', '.join(sorted(self.origins))}",
                "check the connector's URL: use the exact address the source calls itself (its scheme, host and "
                "port), so its links stay on it")
        if request.method != "GET" and not (request.method == "POST"
                                            and endpoint(request.url) in self.token_endpoints):
            raise ReadOnlyViolation(
                f"refused to send {request.method} {request.url.path}: udc is read-only",
                "udc only reads from sources (GET), apart from POSTs to the configured OAuth token endpoint")
        self.stats.wait(self.budget.acquire())
        self.stats.call()
        response = self.inner.handle_request(request)
        self.stats.answered(response.status_code)
        return response

    def close(self) -> None:
        self.inner.close()


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
        token_urls: Iterable[str] = (),
        verify_tls: bool = True,
        map_token_error: TokenErrorMapper | None = None,
        observe: Callable[[httpx.Response], None] | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_response_bytes: int | None = None,
        max_wait: float = MAX_WAIT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.timeout = timeout
        self.budget = budget or RateBudget()
        self.retries = retries or RetryBudget(10_000)
        self.max_retries = max_retries
        self.max_response_bytes = max_response_bytes
        self.max_wait = max_wait
        self.stats = CallStats()
        self._answered = False  # has the source answered any request yet?
        self._observe = observe
        self._backoff = (backoff_base, backoff_cap)
        self.auth = build_auth(auth, token_url or self.base_url, map_token_error) if auth else None
        allowed = {endpoint(u) for u in token_urls}
        if isinstance(self.auth, OAuth):
            allowed.add(endpoint(self.auth.token_url))
        self.token_endpoints = frozenset(allowed)
        origins = frozenset({origin(self.base_url), *(origin(u) for u in allowed)})
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        inner = transport or httpx.HTTPTransport(verify=_tls_context() if verify_tls else False, limits=limits,
                                                 proxy=proxy_for(self.base_url))
        self._http = httpx.Client(
            auth=self.auth,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": "udc/0.1 (read-only data connector)"},
            transport=_Guard(inner, self.token_endpoints, origins, self.budget, self.stats),
            follow_redirects=False,
        )

    @classmethod
    def for_pipeline(cls, connector_name: str, base_url: str, auth: Auth, pipeline: Pipeline, **kwargs: Any
                     ) -> HttpClient:
        """A client under the pipeline's limits, drawing on the connector's process-wide rate budget."""
        interval = pipeline.rate_limit_timeout_ms / 1000
        # keyed by connector and URL: every pipeline, table and chunk of this connector counts against one log
        key = f"{connector_name}@{base_url.rstrip('/')}"
        url = budget_url()  # set: every process and host using the connector draws from one budget in Redis
        budget = (shared_redis_budget(url, key, pipeline.max_calls_per_minute, pipeline.rate_limit, interval) if url
                  else shared_budget(key, pipeline.max_calls_per_minute, pipeline.rate_limit, interval))
        cap = getattr(pipeline, "max_response_mb", None)
        kwargs.setdefault("max_response_bytes", int(cap * 1024 * 1024) if cap else None)
        return cls(base_url, auth, name=connector_name, timeout=pipeline.request_timeout, budget=budget,
                   retries=RetryBudget(pipeline.retry_budget), max_retries=pipeline.max_retries, **kwargs)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
            *, expect_json: bool = True, shrinkable: bool = False, max_retries: int | None = None,
            decode: Callable[[bytes], Any] = orjson.loads) -> httpx.Response:
        """GET with retries. Returns a 2xx response (JSON-checked when `expect_json`: `decode` parses it, for
        `json_of`, and raises ValueError when it is not JSON); raises HttpError otherwise.

        `shrinkable`: the caller can retry with a smaller page, so a batch-sensitive failure (502/504/413, "maximum
        execution time exceeded", over the size cap) is raised at once: repeating a page the gateway cannot build
        costs the source a full execution each time and spends the retry budget for nothing.
        """
        url = self.url(path)
        limit = self.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            outcome = self._attempt(url, params, headers, expect_json, decode)
            if isinstance(outcome, httpx.Response):
                return outcome
            failure = outcome
            if not failure.retryable or (shrinkable and failure.batch_sensitive) or attempt >= limit:
                raise failure
            if failure.kind in ("refused", "dns") and not self._answered:
                raise failure  # a wrong URL or port, not a blip: say so now instead of retrying for a minute
            wait = reset_delay(failure.headers) if failure.status in (429, 503) else None
            if wait is not None and wait > self.max_wait:
                raise RetryBudgetExceeded(
                    f"{self.name}: the source asked to wait {wait:,.0f}s before the next request ({failure.message})",
                    f"progress up to the last stored page is kept; run again after {wait / 60:,.0f} minutes")
            if not self.retries.take():
                raise RetryBudgetExceeded(
                    f"{self.name}: the retry budget of {self.retries.limit} retries for this run is used up "
                    f"(last failure: {failure.message})",
                    "progress up to the last stored page is kept; run again later, or raise retry_budget "
                    "once the source is healthy")
            attempt += 1
            self.stats.retry()
            delay = wait if wait is not None else self._delay(attempt)
            log.warning("%s; retry %d/%d in %.2fs", failure.message, attempt, limit, delay)
            if wait is not None:  # exactly what the source asked; every thread of this connector waits too
                self.budget.pause(wait)
            else:
                time.sleep(delay)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, *, shrinkable: bool = False) -> Any:
        return json_of(self.get(path, params, headers, shrinkable=shrinkable))

    def _delay(self, attempt: int) -> float:
        base, cap = self._backoff
        return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))  # full jitter

    def _attempt(self, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None,
                 expect_json: bool, decode: Callable[[bytes], Any]) -> httpx.Response | HttpError:
        try:
            with self._http.stream("GET", url, params=params, headers=headers) as response:
                too_large = self._read(response, url)
            # an httpx response and its stream refer to each other: cut the loop, so a page's body goes as soon as
            # it is dropped instead of waiting for the cyclic garbage collector
            response.stream = httpx.ByteStream(b"")
            self._answered = True
        except HttpError as exc:  # raised by the token flow: transient token endpoint trouble
            self.stats.fault(exc.kind)
            return exc
        except SourceError:
            raise
        except httpx.TimeoutException as exc:
            self.stats.fault("timeout")
            if isinstance(exc, httpx.ConnectTimeout):
                return HttpError(f"{self.name}: no answer from {_host(url)} while connecting (timed out after "
                                 f"{self.timeout:g}s)", "a firewall may be dropping the connection: check the proxy, "
                                 "and that this machine's IP is on the source's allow-list", kind="connect", url=url)
            return HttpError(f"{self.name}: request timed out after {self.timeout:g}s ({_path(url)})",
                             "raise request_timeout, or lower batch_size so each page is quicker to build",
                             kind="timeout", url=url)
        except httpx.ConnectError as exc:
            failure = _connect_error(self.name, url, exc)
            self.stats.fault(failure.kind)
            return failure
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            self.stats.fault("reset")
            return HttpError(f"{self.name}: connection dropped ({type(exc).__name__}) on {_path(url)}",
                             "retry; if it keeps happening, check the proxy or load balancer in between",
                             kind="reset", url=url)
        if self._observe:
            self._observe(response)
        self.budget.observe(response.headers)
        if too_large:
            self.stats.fault("too_large")
            return HttpError(f"{self.name}: response from {_path(url)} is over the {too_large / 1e6:,.1f} MB cap",
                             "lower batch_size, or raise max_response_mb", kind="too_large", status=None, url=url)
        status = response.status_code
        if status >= 400:
            self.stats.fault(str(status))
            said = source_message(response.text)
            return HttpError(f"{self.name}: HTTP {status} from {_path(url)}" + (f": {said}" if said else ""),
                             _status_hint(status), kind="status", status=status, url=url, body=response.text,
                             headers=response.headers)
        if 300 <= status < 400:
            self.stats.fault("redirect")
            where = response.headers.get("location", "")
            return HttpError(f"{self.name}: {_path(url)} redirected (HTTP {status}) to {where or 'another page'}",
                             "use the source's API URL; a redirect usually means a login (SSO) page, a proxy, or the "
                             "wrong host name", kind="redirect", status=status, url=url, headers=response.headers)
        if expect_json:
            problem = _json_problem(response, decode)
            if problem:
                self.stats.fault(problem)
                return HttpError(*_json_message(self.name, url, problem), kind=problem, status=status,
                                 url=url, body=response.text[:500])
        return response

    def _read(self, response: httpx.Response, url: str) -> int:
        """Read the body, stopping at the size cap; returns the cap when it was exceeded, else 0."""
        cap = self.max_response_bytes
        declared = response.headers.get("content-length", "")
        if cap and declared.isdigit() and int(declared) > cap:
            return cap
        if not cap or response.is_stream_consumed:
            self.stats.received(len(response.read()))
            return 0
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                return cap
            chunks.append(chunk)
        response._content = b"".join(chunks)
        self.stats.received(size)
        return 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def proxy_for(url: str) -> str | None:
    """The proxy for a source from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY, as curl and pip read them: httpx
    reads them only for clients without a transport of their own, and udc's clients have one (the guard). A proxy's
    password is scrubbed like a connector's secrets."""
    target = httpx.URL(url)
    proxies = urllib.request.getproxies_environment()
    if urllib.request.proxy_bypass(target.host):
        return None
    proxy = proxies.get(target.scheme) or proxies.get("all")
    if proxy and (password := httpx.URL(proxy).password):
        secrets.register(password)
    return proxy or None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client shares: loading the CA bundle costs 25-45 ms of CPU, once per process
    instead of once per sync, chunk runner or check."""
    return httpx.create_ssl_context()


def preload() -> None:
    """Load now what a process's first client loads: the transport's modules (httpcore, h11, trio...: 0.1-0.3 s) and
    the verifying TLS context. A Celery worker calls it before forking its pool, so its tasks inherit them."""
    "localhost".encode("idna")  # the codec the first connection's name lookup loads
    httpx.HTTPTransport(verify=_tls_context()).close()


def _path(url: str) -> str:
    return httpx.URL(url).path


def _host(url: str) -> str:
    return httpx.URL(url).host


def _status_hint(status: int) -> str:
    if status == 401:
        return ("the source rejected the credentials: the account may be locked, rotated or its password reset; "
                "run `udc check` for the full diagnosis")
    if status == 403:
        return "the account lacks a role or ACL for this request; run `udc check` for the full diagnosis"
    if status == 404:
        return "check the URL, and the table, object or project name"
    if status == 429:
        return "the source's rate limit was hit: lower max_calls_per_minute"
    return ""


def json_of(response: httpx.Response) -> Any:
    """The response's JSON document, parsed once (the JSON check in `get` already parsed it). Handed over, not
    kept: httpx responses sit in reference cycles, and a parsed page left on one would live until the next gc."""
    parsed = response.extensions.pop(_PARSED, None)
    return orjson.loads(response.content) if parsed is None else parsed


_PARSED = "udc.json"


def _json_problem(response: httpx.Response, decode: Callable[[bytes], Any]) -> str | None:
    content_type = response.headers.get("content-type", "")
    body = response.content.lstrip()[:1]
    if "html" in content_type or body == b"<":
        return "html"
    try:
        response.extensions[_PARSED] = decode(response.content)
    except ValueError:  # orjson's JSONDecodeError is one
        return "invalid_json"
    return None


def _json_message(name: str, url: str, problem: str) -> tuple[str, str]:
    if problem == "html":
        return (f"{name}: got an HTML page instead of JSON from {_path(url)}",
                "the instance may be hibernating (wake it by signing in), a proxy may be answering, or the URL is "
                "not the instance's API URL")
    return f"{name}: response from {_path(url)} is not valid JSON (cut off?)", "retry; if it persists, lower batch_size"


def _causes(exc: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _connect_error(name: str, url: str, exc: httpx.ConnectError) -> HttpError:
    chain = _causes(exc)
    text = scrub(str(exc))
    parsed = httpx.URL(url)
    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if any(isinstance(c, ssl.SSLError) for c in chain) or "SSL" in text or "CERTIFICATE" in text.upper():
        return HttpError(f"{name}: TLS handshake with {host} failed ({text})",
                         "the certificate is not trusted: a proxy may be intercepting TLS (install its CA certificate "
                         "or point SSL_CERT_FILE at it), or the host name does not match the certificate",
                         kind="tls", url=url)
    dns = any(isinstance(c, socket.gaierror) for c in chain) or any(
        s in text for s in ("Name or service not known", "nodename nor servname", "getaddrinfo",
                            "No address associated", "Temporary failure in name resolution"))
    if dns:
        return HttpError(f"{name}: cannot resolve host {host} (DNS)",
                         "check the URL for typos, and this machine's DNS or proxy settings", kind="dns", url=url)
    refused = any(isinstance(c, ConnectionRefusedError) or getattr(c, "errno", None) == errno.ECONNREFUSED
                  for c in chain) or "refused" in text.lower()
    if refused:
        return HttpError(f"{name}: connection to {host}:{port} refused",
                         "check the URL and port; if you connect through a proxy, check the proxy settings; check "
                         "that this machine's (or the proxy's) IP is on the source's IP allow-list",
                         kind="refused", url=url)
    return HttpError(f"{name}: cannot connect to {host}:{port} ({text})",
                     "check the URL and port, the proxy, and that this machine's IP is on the source's allow-list",
                     kind="connect", url=url)
