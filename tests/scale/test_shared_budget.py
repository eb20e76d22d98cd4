"""The rate budget shared through Redis: processes of one connector draw from one budget (counted at the simulator),
its windows hold by Redis's clock, Retry-After pauses reach every process, and a Redis that is down or restarted
never lets a call out past the budget — while its URL's password stays out of every log line."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from backfill.conftest import Harness
from udc.http.redis_budget import RedisBudget, SharedState
from udc.secrets import service_url

from .conftest import udc_env


def max_in_window(times: list[int], window: int) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def budget(url: str, key: str, per_minute: int | None = None, per_interval: int | None = None,
           interval_s: float = 1.0, grace: float = 1.0) -> RedisBudget:
    """A budget as one process holds it: its own Redis client and memory of grants."""
    state = SharedState(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=1), service_url(url), key)
    return RedisBudget(state, per_minute, per_interval, interval_s, grace=grace)


def test_four_processes_share_120_calls_a_minute(tmp_path: Path, make_sim, redis_url: str) -> None:
    """Four `udc sync` processes of one connector, each wanting 100+ calls: the simulator sees exactly 120 calls in
    the minute (not 4 × 120), then none until the window slides."""
    sim = make_sim({"incident": 1000})
    pipelines = {f"p{n}": {"batch_size": 10, "max_calls_per_minute": 120, "tables": ["incident"]} for n in range(4)}
    h = Harness(tmp_path, sim, pipelines)
    procs = [subprocess.Popen([sys.executable, "-m", "udc", "sync", "--pipeline", name, "--config", str(h.path)],
                              env=udc_env(UDC_BUDGET_URL=redis_url), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True) for name in pipelines]
    try:
        deadline = time.monotonic() + 45
        while len(sim.requests) < 120 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(sim.requests) == 120
        time.sleep(3)  # every process is waiting for the window
        assert len(sim.requests) == 120 and all(p.poll() is None for p in procs)
        first, last = sim.requests[0].at, sim.requests[-1].at
        assert last - first < 57  # the 120 came inside one minute: the budget was used, not just not exceeded
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_windows_hold_by_redis_clock_across_processes(redis_url: str) -> None:
    """Four holders of one connector's budget (as four processes would be), 5 calls per 500 ms for 2.5 s: no 500 ms
    window of grants (Redis time) holds more than 5, and the budget is used."""
    key = f"test-{os.getpid()}-{time.time_ns()}@window"
    holders = [budget(redis_url, key, per_interval=5, interval_s=0.5) for _ in range(4)]
    holders[0].acquire()  # a first grant (past any grace of a Redis new to udc) before the clock starts
    stop = time.monotonic() + 2.5

    def hammer(b: RedisBudget) -> None:
        while time.monotonic() < stop:
            b.acquire()

    threads = [threading.Thread(target=hammer, args=(b,)) for b in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    grants = sorted(at for b in holders for at, _ in b.state.granted)
    assert max_in_window(grants, 500) == 5
    span = grants[-1] - grants[0]
    assert len(grants) >= 5 * (span // 500) * 0.9  # used: 5 in each window, bar the edges


def test_a_retry_after_pause_holds_every_process(redis_url: str) -> None:
    key = f"test-{os.getpid()}-{time.time_ns()}@pause"
    one, other = budget(redis_url, key, per_minute=1000), budget(redis_url, key, per_minute=1000)
    one.acquire()
    paused_at = one.state.granted[-1][0]
    one.pause(1.5)  # the source said Retry-After: 1.5 to this process
    other.acquire()
    assert other.state.granted[-1][0] >= paused_at + 1500  # Redis time: the other process waited too


def test_redis_down_then_restarted_never_lets_a_call_past_the_budget(
        own_redis: tuple[str, str, list[subprocess.Popen[bytes]]], caplog: pytest.LogCaptureFixture) -> None:
    url, password, procs = own_redis
    caplog.set_level(logging.INFO, logger="udc")
    b = budget(url, "snow@http://sim", per_minute=10, grace=1.0)
    for _ in range(6):
        b.acquire()
    procs[0].kill()  # Redis goes down, losing every grant it held
    procs[0].wait()
    granted = threading.Event()

    def call() -> None:
        b.acquire()
        granted.set()

    waiting = threading.Thread(target=call, daemon=True)
    waiting.start()
    assert not granted.wait(1.5)  # down: the call waits
    said = caplog.text
    assert "is unreachable" in said and "redis://:********@127.0.0.1" in said and password not in said
    port = url.rsplit(":", 1)[1].split("/")[0]
    procs.append(subprocess.Popen(["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--requirepass", password], stdout=subprocess.DEVNULL))
    assert granted.wait(20)  # back: after the grace, the waiting call goes
    assert "lost its data" in caplog.text and "answers again" in caplog.text
    # the six calls made before the restart were put back: only 3 more fit the minute (7th was the waiting one)
    more = threading.Event()
    count = {"n": 0}

    def three_more() -> None:
        for _ in range(4):
            b.acquire()
            count["n"] += 1
        more.set()

    threading.Thread(target=three_more, daemon=True).start()
    assert not more.wait(2) and count["n"] == 3
    calls = redis.Redis.from_url(url).zcard("udc:budget:snow@http://sim:calls")
    assert calls == 10
    assert password not in caplog.text


def test_the_budget_url_password_reaches_no_child_process_and_no_output(
        tmp_path: Path, make_sim, own_redis: tuple[str, str, list[subprocess.Popen[bytes]]]) -> None:
    """`udc sync` with UDC_BUDGET_URL holding a password: the sync draws from that Redis, and neither the store's
    writer process (its environment) nor anything printed holds the password."""
    url, password, _ = own_redis
    sim = make_sim({"incident": 200})
    sim.faults.latency = 0.05
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 10, "max_calls_per_minute": 1000, "tables": ["incident"]}})
    proc = subprocess.Popen([sys.executable, "-m", "udc", "sync", "--pipeline", "hist", "--config", str(h.path),
                             "--verbose"], env=udc_env(UDC_BUDGET_URL=url), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    environs: list[bytes] = []
    while proc.poll() is None and not environs:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        for pid in (children.read_text().split() if children.exists() else []):
            # between fork and exec a child's /proc environ is still its parent's: read it once it runs the writer
            if b"import main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                environs.append(Path(f"/proc/{pid}/environ").read_bytes())
        time.sleep(0.05)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert environs and all(password.encode() not in env and b"UDC_BUDGET_URL" not in env for env in environs)
    assert password.encode() not in out + err
    assert redis.Redis.from_url(url).zcard(f"udc:budget:snow@{sim.url}:calls") == len(sim.requests)
