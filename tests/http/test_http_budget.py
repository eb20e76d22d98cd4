"""The rate budget: windows that are never exceeded, one call log per connector shared by every thread and every
pipeline (never replaced), and slow-down from the source's rate-limit headers before it answers 429."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate

import pytest

from udc.http.budget import CallLog, RateBudget, RetryBudget, reset_delay, shared_budget, shared_log


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(clock: FakeClock, per_minute: int | None = None, per_interval: int | None = None,
           interval_s: float = 1.0, calls: CallLog | None = None) -> RateBudget:
    return RateBudget(per_minute, per_interval, interval_s, calls=calls or CallLog(clock, clock.sleep))


def max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_per_minute_pauses_when_reached_and_resumes_as_the_window_slides() -> None:
    clock = FakeClock()
    b = budget(clock, per_minute=60)
    sent = []
    for _ in range(180):
        b.acquire()
        sent.append(clock.now)
    assert max_in_window(sent, 60.0) == 60
    assert sent[59] == 1000.0 and 1060.0 < sent[60] <= 1060.3  # the 61st waits for the first to leave the window
    assert sent[-1] - sent[0] < 121  # and no longer than that


def test_requests_per_interval_with_wait() -> None:  # Salesforce-style rate_limit 5 per 1000 ms
    clock = FakeClock()
    b = budget(clock, per_interval=5, interval_s=1.0)
    sent = []
    for _ in range(23):
        b.acquire()
        sent.append(clock.now)
    assert max_in_window(sent, 1.0) == 5
    assert sent[-1] - sent[0] < 4.1


def test_both_windows_apply() -> None:
    clock = FakeClock()
    b = budget(clock, per_minute=20, per_interval=5, interval_s=1.0)
    sent = []
    for _ in range(45):
        b.acquire()
        clock.now += 0.01
        sent.append(clock.now)
    assert max_in_window(sent, 1.0) <= 5 and max_in_window(sent, 60.0) <= 20


def test_two_pipelines_with_different_limits_share_one_log_and_neither_replaces_the_other() -> None:
    key = f"conn-{time.monotonic_ns()}"
    strict, loose = shared_budget(key, 10, None, 1.0), shared_budget(key, 30, None, 1.0)
    assert strict.log is loose.log is shared_log(key)
    assert strict.windows != loose.windows  # each keeps its own limits
    clock = FakeClock()
    log = CallLog(clock, clock.sleep)
    strict, loose = budget(clock, per_minute=10, calls=log), budget(clock, per_minute=30, calls=log)
    for _ in range(10):
        loose.acquire()
    assert clock.slept == []
    strict.acquire()  # the loose pipeline's calls count against the strict one's promise
    assert clock.slept and clock.now > 1060
    for _ in range(20):
        loose.acquire()
    assert max_in_window(log.times, 60.0) <= 30


def test_one_budget_is_shared_by_every_thread() -> None:
    b = shared_budget(f"threads-{time.monotonic_ns()}", None, 10, 0.2)
    sent: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            b.acquire()
            with lock:
                sent.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.sort()
    assert len(sent) == 40 and max_in_window(sent, 0.2) <= 10


def test_pause_holds_every_caller() -> None:
    clock = FakeClock()
    b = budget(clock)
    b.pause(2.5)
    b.acquire()
    assert clock.now == pytest.approx(1002.5)


def test_remaining_zero_pauses_until_reset() -> None:
    clock = FakeClock()
    b = budget(clock)
    b.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": f"{time.time() + 30:.0f}"})
    b.acquire()
    assert 28 < clock.now - 1000 <= 31


def test_low_remaining_spreads_the_rest_until_reset() -> None:
    clock = FakeClock()
    b = budget(clock)
    b.observe({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "50",
               "X-RateLimit-Reset": f"{time.time() + 100}"})
    b.acquire()
    start = clock.now
    b.acquire()
    assert 1.9 < clock.now - start <= 2.01  # 50 calls left for ~100 s: one every 2 s
    assert b.quota == (950, 1000)


def test_plenty_remaining_does_not_slow_down() -> None:
    clock = FakeClock()
    b = budget(clock)
    b.observe({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "500",
               "X-RateLimit-Reset": f"{time.time() + 100}"})
    for _ in range(10):
        b.acquire()
    assert clock.slept == []


def test_near_limit_flag_slows_down_by_fill_rate() -> None:  # Jira: NearLimit; Data Center: token bucket refill
    clock = FakeClock()
    b = budget(clock)
    b.observe({"X-RateLimit-NearLimit": "true", "X-RateLimit-FillRate": "10", "X-RateLimit-Interval-Seconds": "5"})
    b.acquire()
    b.acquire()
    assert clock.now - 1000 == pytest.approx(0.5)


def test_sforce_limit_info_paces_past_ninety_percent_and_reports_usage() -> None:
    clock = FakeClock()
    b = budget(clock)
    b.observe({"Sforce-Limit-Info": "api-usage=18/5000"})
    assert b.quota == (18, 5000)
    b.acquire()
    b.acquire()
    assert clock.slept == []
    b.observe({"Sforce-Limit-Info": "api-usage=4750/5000, per-app-api-usage=17/250(appName=udc)"})
    b.acquire()
    assert clock.now - 1000 == pytest.approx(1.0)  # half-way from 90% to the limit: 1 s apart
    b.observe({"Sforce-Limit-Info": "api-usage=5000/5000"})
    now = clock.now
    b.acquire()
    assert clock.now - now == pytest.approx(2.0)  # never more: stopping is the connector's decision
    b.observe({"Sforce-Limit-Info": "api-usage=100/5000"})  # the rolling day freed requests: full speed again
    now = clock.now
    b.acquire()
    assert clock.now == now


def test_reset_delay_forms() -> None:
    now = 1_700_000_000.0
    assert reset_delay({"Retry-After": "7"}, now) == 7
    assert reset_delay({"retry-after": "0.5"}, now) == 0.5
    assert reset_delay({"Retry-After": formatdate(now + 30, usegmt=True)}, now) == pytest.approx(30, abs=1)
    assert reset_delay({"X-RateLimit-Reset": str(int(now) + 12)}, now) == 12
    assert reset_delay({"X-RateLimit-Reset": str(int(now * 1000) + 4000)}, now) == pytest.approx(4)
    assert reset_delay({"X-RateLimit-Reset": "2023-11-14T22:14:00Z"}, now) == pytest.approx(0 + 1_700_000_040 - now)
    assert reset_delay({}, now) is None


def test_retry_budget_is_shared_and_counted() -> None:
    retries = RetryBudget(100)
    taken = []
    threads = [threading.Thread(target=lambda: taken.extend(retries.take() for _ in range(30))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken.count(True) == 100 and retries.used == 100
