"""Source protection: one call budget per connector, shared by every thread of the process."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime

from udc.timeutil import parse_time


class RateBudget:
    """At most `per_minute` calls in any 60-second window, and at most `per_interval` calls in any `interval_s`
    window (the Salesforce-style `rate_limit` / `rate_limit_timeout_ms`). Also honours pauses the source asks for
    (Retry-After, rate-limit reset) and slows down when its headers say the limit is near."""

    def __init__(
        self,
        per_minute: int | None = None,
        per_interval: int | None = None,
        interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._windows = [(n, w) for n, w in ((per_minute, 60.0), (per_interval, interval_s)) if n]
        self._calls: deque[float] = deque(maxlen=max((n for n, _ in self._windows), default=1))
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep
        self.waited = 0.0  # seconds spent waiting, for the run summary

    def acquire(self) -> None:
        """Block until one more call fits every window, then record it."""
        while True:
            with self._lock:
                now = self._clock()
                wait = max(0.0, self._paused_until - now)
                for limit, window in self._windows:
                    recent = [t for t in list(self._calls)[-limit:] if now - t < window]
                    if len(recent) >= limit:
                        wait = max(wait, recent[0] + window - now)
                if wait <= 0:
                    self._calls.append(now)
                    return
            self.waited += wait
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Stop every caller for `seconds` (the source said so)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Slow down before the source answers 429: pause until reset when the remaining allowance is nearly gone."""
        remaining = headers.get("x-ratelimit-remaining")
        near = headers.get("x-ratelimit-nearlimit", "").lower() == "true"
        if remaining is not None and remaining.strip().isdigit() and int(remaining) <= 1 or near:
            reset = reset_delay(headers)
            self.pause(reset if reset is not None else 1.0)


def reset_delay(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or `X-RateLimit-Reset` (Unix time or ISO)."""
    wall = time.time() if now is None else now
    retry_after = headers.get("retry-after")
    if retry_after:
        text = retry_after.strip()
        if text.replace(".", "", 1).isdigit():
            return float(text)
        try:
            return max(0.0, parsedate_to_datetime(text).timestamp() - wall)
        except (TypeError, ValueError):
            pass
    reset = headers.get("x-ratelimit-reset")
    if reset:
        text = reset.strip()
        try:
            at = float(text) if text.replace(".", "", 1).isdigit() else parse_time(text).timestamp()
        except ValueError:
            return None
        if at > 1e11:  # milliseconds
            at /= 1000
        return max(0.0, at - wall)
    return None


class RetryBudget:
    """Retries allowed in one run, across every request; spent retries are reported in the summary."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.used >= self.limit:
                return False
            self.used += 1
            return True


_budgets: dict[str, RateBudget] = {}
_budgets_lock = threading.Lock()


def shared_budget(key: str, per_minute: int | None, per_interval: int | None, interval_s: float) -> RateBudget:
    """The process-wide budget for one connector: pipelines, tables and backfill chunks all draw from it."""
    with _budgets_lock:
        budget = _budgets.get(key)
        if budget is None or budget._windows != RateBudget(per_minute, per_interval, interval_s)._windows:
            budget = _budgets[key] = RateBudget(per_minute, per_interval, interval_s)
        return budget
