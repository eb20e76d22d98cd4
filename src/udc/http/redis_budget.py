"""A connector's rate budget shared by every process and host, kept in Redis (selected by `UDC_BUDGET_URL`).

`max_calls_per_minute` and `rate_limit` per `rate_limit_timeout_ms` are promises about the source as a whole: with
Celery workers on several hosts, each keeping its own call log (udc.http.budget) would multiply them. Here every
call is granted by one Lua script, atomically on the Redis server: it reads the server's own clock (`TIME`), drops
calls older than the longest window from the connector's sorted set, counts each window, and either records the call
or answers how long to wait. The hosts' clocks never enter into it. A `Retry-After` pause is kept there too, so one
429 holds every process of the connector.

Redis unreachable: calls wait (and say so, once per outage, naming the Redis URL without its password), never go
out uncounted. Redis restarted (its data gone): the first script run starts a new generation and grants nothing for
a few seconds, while each process puts back the calls it was granted inside the window; then granting resumes. (The
first use of a Redis by udc waits those seconds once, too: it cannot tell a new Redis from a restarted one.)
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import redis

from udc.http.budget import MINUTE, CallLog, RateBudget, Sleep, _margin, shared_log
from udc.secrets import ScrubFilter, service_url

log = logging.getLogger("udc.http.budget")
log.addFilter(ScrubFilter())

ENV = "UDC_BUDGET_URL"
GRACE = 5.0  # seconds without grants after Redis lost its data: every process puts its recent calls back first
RETRY = 0.5  # seconds between attempts while Redis is unreachable
REPEAT = 60.0  # an outage is logged again after this many seconds

GENERATION = "udc:budget:generation"  # when this Redis began keeping budgets (ms): one per Redis lifetime
# KEYS: calls (sorted set: member → grant time, ms), pause (until, ms), generation
# ARGV: member, retention ms, grace ms, then (limit, span ms) per window
# → {granted 0/1, wait ms, generation, now ms}
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gen = redis.call('GET', KEYS[3])
if not gen then
  gen = string.format('%d', now)
  redis.call('SET', KEYS[3], gen)
end
local wait = tonumber(redis.call('GET', KEYS[2]) or '0') - now
local hold = tonumber(gen) + tonumber(ARGV[3]) - now
if hold > wait then wait = hold end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - tonumber(ARGV[2])))
for i = 4, #ARGV, 2 do
  local limit, span = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local after = string.format('(%d', now - span)
  local inside = redis.call('ZCOUNT', KEYS[1], after, '+inf')
  if inside >= limit then
    local first = redis.call('ZRANGEBYSCORE', KEYS[1], after, '+inf', 'WITHSCORES', 'LIMIT', inside - limit, 1)
    local until_free = tonumber(first[2]) + span - now
    if until_free > wait then wait = until_free end
  end
end
if wait > 0 then return {0, math.ceil(wait), gen, now} end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, 0, gen, now}
"""

# KEYS: pause; ARGV: seconds in ms → holds every process of the connector until the server's now + ms
PAUSE = """
local t = redis.call('TIME')
local untilms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
if untilms > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%d', untilms), 'PX', ARGV[1])
end
return 0
"""

_configured: str | None = None


def configure(url: str | None) -> None:
    """Use this Redis for every connector's budget in this process (None: `UDC_BUDGET_URL`, if set). The command
    line takes the URL out of the environment, so no child process inherits a password."""
    global _configured
    _configured = url


def budget_url() -> str | None:
    return _configured or os.environ.get(ENV) or None


@dataclass
class SharedState:
    """This process's side of one connector's Redis budget: the generation last seen, and its own grants inside the
    window (to put back after a restart)."""

    client: redis.Redis
    shown: str  # the URL without its password
    key: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: str | None = None
    granted: deque[tuple[int, str]] = field(default_factory=deque)  # (grant time ms, member)
    down_since: float | None = None
    said_at: float = 0.0


class RedisBudget(RateBudget):
    """The windows and the source's pauses, shared through Redis; pacing from response headers stays per process
    (the local `CallLog`), as it follows that process's own responses."""

    def __init__(self, state: SharedState, per_minute: int | None, per_interval: int | None, interval_s: float, *,
                 calls: CallLog | None = None, sleep: Sleep = time.sleep, grace: float = GRACE) -> None:
        super().__init__(calls=calls, sleep=sleep)  # no local windows: Redis counts them
        self.state, self._sleep = state, sleep
        spans = [(n, w + _margin(w)) for n, w in ((per_minute, MINUTE), (per_interval, interval_s)) if n]
        self.windows_ms = [(n, max(1, round(w * 1000))) for n, w in spans]
        self.retention_ms = max([round(MINUTE * 1000), *(w for _, w in self.windows_ms)])
        self.grace_ms = round(grace * 1000)
        self._acquire = state.client.register_script(ACQUIRE)
        self._pause = state.client.register_script(PAUSE)
        self._members = itertools.count()
        self._me = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        prefix = f"udc:budget:{state.key}"
        self.keys = [f"{prefix}:calls", f"{prefix}:pause", GENERATION]

    def acquire(self) -> float:
        """Wait for the source's pauses and pacing here, then for a grant from Redis; returns the seconds waited."""
        waited = super().acquire()
        args = [self.retention_ms, self.grace_ms, *(x for window in self.windows_ms for x in window)]
        while True:
            member = f"{self._me}:{next(self._members)}"
            try:
                granted, wait_ms, generation, now = self._acquire(keys=self.keys, args=[member, *args])
            except redis.RedisError as exc:
                self._unreachable(exc)
                self._sleep(RETRY)
                waited += RETRY
                continue
            self._reachable()
            self._follow(generation.decode() if isinstance(generation, bytes) else str(generation), int(now))
            if granted:
                with self.state.lock:
                    self.state.granted.append((int(now), member))
                return waited
            self._sleep(wait_ms / 1000)
            waited += wait_ms / 1000

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        try:
            self._pause(keys=self.keys[1:2], args=[max(1, round(seconds * 1000))])
        except redis.RedisError as exc:  # this process still pauses; the others will hear from the source
            self._unreachable(exc)

    def _follow(self, generation: str, now: int) -> None:
        """Redis lost its data (a restart) when the generation changes: put this process's recent grants back."""
        state = self.state
        with state.lock:
            while state.granted and state.granted[0][0] <= now - self.retention_ms:
                state.granted.popleft()
            if state.generation == generation:
                return
            restored, state.generation = list(state.granted), generation
        if restored:
            log.warning("the shared rate budget at %s lost its data (a restart?): putting back this process's %d "
                        "call(s) of the last minute to %s", state.shown, len(restored), state.key)
            try:
                state.client.zadd(self.keys[0], {member: at for at, member in restored}, nx=True)
                state.client.pexpire(self.keys[0], self.retention_ms)
            except redis.RedisError as exc:
                with state.lock:
                    state.generation = None  # try again on the next grant
                self._unreachable(exc)

    def _unreachable(self, exc: redis.RedisError) -> None:
        state, now = self.state, time.monotonic()
        with state.lock:
            first = state.down_since is None
            if first:
                state.down_since = now
            elif now - state.said_at < REPEAT:
                return
            state.said_at = now
        log.error("the shared rate budget at %s is unreachable (%s): calls to %s wait until it answers, so the "
                  "budget is never exceeded; fix: start Redis or correct %s", state.shown,
                  type(exc).__name__, state.key, ENV)

    def _reachable(self) -> None:
        state = self.state
        if state.down_since is None:
            return
        with state.lock:
            since, state.down_since = state.down_since, None
        if since is not None:
            log.warning("the shared rate budget at %s answers again after %.0fs", state.shown,
                        time.monotonic() - since)


_states: dict[tuple[str, str], SharedState] = {}
_clients: dict[str, redis.Redis] = {}
_states_lock = threading.Lock()


def shared_redis_budget(url: str, key: str, per_minute: int | None, per_interval: int | None,
                        interval_s: float) -> RedisBudget:
    """These limits on the connector's budget in the Redis at `url`, shared with every process and host using it;
    the process-wide call log still carries the source's pacing."""
    with _states_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3,
                                                          health_check_interval=30)
        state = _states.get((url, key))
        if state is None:
            state = _states[(url, key)] = SharedState(client, service_url(url), key)
    return RedisBudget(state, per_minute, per_interval, interval_s, calls=shared_log(key))


__all__ = ["ENV", "RedisBudget", "budget_url", "configure", "shared_redis_budget"]
