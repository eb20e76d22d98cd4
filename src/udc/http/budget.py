"""Source protection: one call log per connector, shared by every thread of the process.

A `CallLog` is the connector's memory of what was sent: the time of every call still inside a window, pauses the
source asked for (`Retry-After`, a rate-limit reset), the pacing its headers ask for, and its quota usage. A
`RateBudget` is a set of limits (`max_calls_per_minute`; `rate_limit` calls per `rate_limit_timeout_ms`) applied
to that log. Every pipeline, table and backfill chunk of one connector holds a `RateBudget` over the same log
(`shared_budget`), so a call counts against every limit wherever it was sent from; two pipelines of one connector
with different limits each keep their own promise ("never more than N calls a minute to this source while I run")
counting the other's calls too. Nothing is ever replaced, so no window is forgotten.

Each window is widened by a small margin (0.5 %, at most 250 ms) so a limit still holds when the source timestamps
the requests a few milliseconds later than we sent them.
"""

from __future__ import annotations

import re
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

from udc.timeutil import parse_time

Clock = Callable[[], float]
Sleep = Callable[[float], None]

MINUTE = 60.0
LOW_SHARE = 0.1  # slow down when less than this share of an X-RateLimit-Limit remains
LOW_ABSOLUTE = 5  # ... or, when the limit is not sent, this many calls
QUOTA_SLOW_SHARE = 0.9  # Sforce-Limit-Info: past this share of the daily quota, space calls out...
QUOTA_MAX_GAP = 2.0  # ...up to this many seconds apart as the quota runs out (the connector stops at max_api_share)
_SFORCE_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")
_SECONDS = re.compile(r"\d+(\.\d+)?")


def _margin(window: float) -> float:
    return min(0.25, window * 0.005)


class CallLog:
    """Calls sent to one source, and how the source asked us to behave. Thread-safe; shared per connector."""

    def __init__(self, clock: Clock = time.monotonic, sleep: Sleep = time.sleep,
                 quota_slow_share: float = QUOTA_SLOW_SHARE) -> None:
        self.lock = threading.Lock()
        self.clock, self.sleep = clock, sleep
        self.times: list[float] = []  # send times, non-decreasing (appended under the lock)
        self.retention = MINUTE + _margin(MINUTE)
        self.paused_until = 0.0
        self.gap, self.gap_until = 0.0, 0.0  # minimum spacing between calls, while the source is near its limit
        self.quota_gap = 0.0  # spacing while a daily quota is nearly used (re-evaluated on every response)
        self.quota: tuple[int, int] | None = None  # (used, limit) as the source last reported it
        self.quota_slow_share = quota_slow_share
        self.calls = 0


class RateBudget:
    """At most `per_minute` calls in any 60-second window and at most `per_interval` calls in any `interval_s`
    window, counted over every call of the shared `CallLog`; plus the pauses and pacing the source asks for."""

    def __init__(self, per_minute: int | None = None, per_interval: int | None = None, interval_s: float = 1.0, *,
                 calls: CallLog | None = None, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.log = calls or CallLog(clock, sleep)
        self.windows = tuple((n, w + _margin(w)) for n, w in ((per_minute, MINUTE), (per_interval, interval_s)) if n)
        with self.log.lock:
            self.log.retention = max([self.log.retention, *(w for _, w in self.windows)])

    @property
    def quota(self) -> tuple[int, int] | None:
        """(used, limit) of the source's quota from its last response headers, if it sends them."""
        return self.log.quota

    def acquire(self) -> float:
        """Block until one more call fits every window, the source's pause and its pacing; record it.

        Returns the seconds waited."""
        log, waited = self.log, 0.0
        while True:
            with log.lock:
                now = log.clock()
                wait = log.paused_until - now
                gap = max(log.gap if now < log.gap_until else 0.0, log.quota_gap)
                if gap and log.times:
                    wait = max(wait, log.times[-1] + gap - now)
                for limit, span in self.windows:
                    first = bisect_right(log.times, now - span)
                    inside = len(log.times) - first
                    if inside >= limit:  # the call that must leave the window before this one may go
                        wait = max(wait, log.times[first + inside - limit] + span - now)
                if wait <= 0:
                    log.times.append(now)
                    log.calls += 1
                    if log.times[0] < now - log.retention:
                        del log.times[:bisect_right(log.times, now - log.retention)]
                    return waited
            waited += wait
            log.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every caller of this connector for `seconds` (the source said so)."""
        with self.log.lock:
            self.log.paused_until = max(self.log.paused_until, self.log.clock() + seconds)

    def pace(self, gap: float, for_seconds: float) -> None:
        """Space calls at least `gap` seconds apart for the next `for_seconds` seconds."""
        with self.log.lock:
            now = self.log.clock()
            if now >= self.log.gap_until or gap >= self.log.gap:
                self.log.gap, self.log.gap_until = gap, max(now + for_seconds, self.log.gap_until)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Slow down before the source answers 429, from the rate-limit headers of any response.

        - `X-RateLimit-Remaining` 0: pause until `X-RateLimit-Reset` (or one refill interval).
        - Remaining below 10 % of `X-RateLimit-Limit` (or under 5 without a limit), or `X-RateLimit-NearLimit: true`:
          spread the remaining calls until the reset (Jira Data Center: one call per refill at `X-RateLimit-FillRate`
          per `X-RateLimit-Interval-Seconds`).
        - `Sforce-Limit-Info: api-usage=U/L` (a rolling 24-hour quota, answered with 403 REQUEST_LIMIT_EXCEEDED
          rather than 429): past 90 % of it, space calls out, from 0.1 s up to 2 s apart as it runs out, leaving
          room to the org's other integrations. Stopping is the connector's job (`max_api_share`, using `quota`).
        """
        headers = {k.lower(): v for k, v in headers.items()}
        usage = _SFORCE_USAGE.search(headers.get("sforce-limit-info") or "")
        if usage:
            used, limit = int(usage.group(1)), int(usage.group(2))
            share, slow_from = (used / limit if limit else 0.0), self.log.quota_slow_share
            headroom = max(1e-6, 1.0 - slow_from)  # a connector may move the threshold up to 100 %
            gap = QUOTA_MAX_GAP * min(1.0, (share - slow_from) / headroom) if share >= slow_from else 0.0
            with self.log.lock:
                self.log.quota = (used, limit)
                self.log.quota_gap = max(gap, 0.1) if share >= slow_from else 0.0
        remaining = _int(headers.get("x-ratelimit-remaining"))
        near = (headers.get("x-ratelimit-nearlimit") or "").strip().lower() == "true"
        if remaining is None and not near:
            return
        limit_ = _int(headers.get("x-ratelimit-limit"))
        if remaining is not None and limit_:
            self.log.quota = (max(0, limit_ - remaining), limit_)
        reset = reset_delay({"x-ratelimit-reset": headers.get("x-ratelimit-reset") or ""})
        fill, every = _float(headers.get("x-ratelimit-fillrate")), _float(headers.get("x-ratelimit-interval-seconds"))
        refill = every / fill if fill and every else None
        if remaining == 0:
            self.pause(reset if reset is not None else refill or 1.0)
            return
        low = near or remaining is not None and remaining <= (max(1, limit_ * LOW_SHARE) if limit_ else LOW_ABSOLUTE)
        if not low:
            return
        gap = reset / remaining if reset is not None and remaining else refill or 1.0
        self.pace(gap, reset if reset is not None else max(gap * 10, MINUTE))


def _int(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() else None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def reset_delay(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset` (Unix seconds or
    milliseconds, or an ISO time as Jira sends it)."""
    wall = time.time() if now is None else now
    lower = {k.lower(): v for k, v in headers.items()}
    retry_after = (lower.get("retry-after") or "").strip()
    if retry_after:
        if _SECONDS.fullmatch(retry_after):
            return float(retry_after)
        try:
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - wall)
        except (TypeError, ValueError):
            pass
    reset = (lower.get("x-ratelimit-reset") or "").strip()
    if reset:
        try:
            at = float(reset) if _SECONDS.fullmatch(reset) else parse_time(reset).timestamp()
        except ValueError:
            return None
        if at > 1e11:  # milliseconds
            at /= 1000
        return max(0.0, at - wall)
    return None


class RetryBudget:
    """Retries allowed in one run, across every request and thread; spent retries are reported in the summary."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.used >= self.limit:
                return False
            self.used += 1
            return True


_logs: dict[str, CallLog] = {}
_logs_lock = threading.Lock()


def shared_log(key: str) -> CallLog:
    """The process-wide call log of one connector."""
    with _logs_lock:
        log = _logs.get(key)
        if log is None:
            log = _logs[key] = CallLog()
        return log


def shared_budget(key: str, per_minute: int | None, per_interval: int | None, interval_s: float) -> RateBudget:
    """These limits over the connector's process-wide call log: pipelines, tables and backfill chunks all count."""
    return RateBudget(per_minute, per_interval, interval_s, calls=shared_log(key))
