"""Window planning for every kind of run — the window an incremental cycle or a historical pass reads and where it
resumes, date ranges cut into chunks and each chunk's pass — and off-peak execution windows ("00:00-06:00" in
America/New_York).

A window is defined on the wall clock of its time zone: an instant is inside when the local clock reads a time in
[start, end) — `end` before `start` means the window crosses midnight, `start == end` means all day. This is what a
person means by "midnight to 6 AM EST", and it is DST-correct by construction: on the spring-forward day a window
that begins inside the skipped hour opens at the transition, and on the fall-back day the repeated hour counts
twice (the window is an hour longer, because the clock really shows those times twice).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from udc.config import Pipeline
from udc.errors import ConfigError
from udc.records import Position, Window
from udc.sync.pump import StreamPass
from udc.timeutil import EPOCH, cursor_str, parse_time

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_SCAN = timedelta(days=3)  # every window opens within a day; three days covers any DST shuffle around it
DEFAULT_CHUNK = timedelta(days=1)
MAX_HISTORICAL_CHUNKS = 366  # a historical run with end_date: daily chunks, coarser beyond a year


def cycle_key(mode: str, stream: str) -> str:
    """The state row of a stream's incremental or historical passes, under its pipeline."""
    return f"{mode}:{stream}"


def cycle_pass(owner: str, key: str, pipeline: Pipeline, state: dict[str, Any] | None, now: datetime
               ) -> StreamPass:
    """The pass of one stream in an incremental cycle or a historical run of `owner` (the pipeline): the window to
    read, where to resume inside it, the state that describes it, and what its end stores.

    Incremental cycles read from their own position up to now − lag (invariant 4) and never look back to start_date
    (invariant 5); the first cycle only records where it starts. Historical passes read [start_date, end_date or the
    moment the pass began) and keep that window in their state, so a resumed pass finishes the same window."""
    now = now.replace(microsecond=0)
    if pipeline.mode == "incremental":
        end = now - pipeline.lag
        if state is None:  # first cycle: start from this moment, never from start_date
            return StreamPass(owner, key, None, None, {"position": Position(cursor_str(now)).to_json()})
        position = Position.from_json(state["position"])
        if end <= parse_time(position.cursor):
            return StreamPass(owner, key, None, None, state)
        return StreamPass(owner, key, Window(parse_time(position.cursor), end), position, state,
                          {"position": Position(cursor_str(end)).to_json()})
    start = parse_time(pipeline.start_date) if pipeline.start_date else None
    wanted_start = cursor_str(start) if start else None
    if state and not state.get("done") and state.get("start") == wanted_start and (
            pipeline.end_date is None or state["end"] == cursor_str(pipeline.end_date)):
        window = Window(start, parse_time(state["end"]))
        resume = Position.from_json(state["position"]) if state.get("position") else None
    else:
        end = parse_time(pipeline.end_date) if pipeline.end_date else now
        window, resume = Window(start, end), None
        state = {"start": wanted_start, "end": cursor_str(end), "position": None, "done": False}
    return StreamPass(owner, key, window, resume, state, {"position": Position(cursor_str(window.end)).to_json(),
                                                          "done": True})


def chunk_pass(owner: str, key: str, start: datetime | None, end: datetime, state: dict[str, Any] | None
               ) -> StreamPass | None:
    """The pass of one stream over one backfill chunk [start, end), resumed after its committed position and
    tallying its rows, tombstones and pages; None when that stream of the chunk is done."""
    state = state or {"position": None, "rows": 0, "deleted": 0, "pages": 0}
    if state.get("done"):
        return None
    resume = Position.from_json(state["position"]) if state.get("position") else None
    return StreamPass(owner, key, Window(start, end), resume, state,
                      {"position": Position(cursor_str(end)).to_json(), "done": True}, tally=True)


def historical_chunk(start: datetime | None, end: datetime) -> timedelta:
    """Daily chunks, coarser when the range is longer than MAX_HISTORICAL_CHUNKS days."""
    if start is None:
        return end - EPOCH
    days = max(1, math.ceil((end - start) / DEFAULT_CHUNK / MAX_HISTORICAL_CHUNKS))
    return DEFAULT_CHUNK * days


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone '{name}'",
                          "use an IANA name such as America/New_York, Europe/Berlin or UTC") from None


@dataclass(frozen=True)
class OffPeak:
    """A daily wall-clock window [start, end) in `tz`."""

    start: time
    end: time
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: str = "UTC") -> OffPeak:
        match = _WINDOW.match(text)
        if not match:
            raise ConfigError(f"'{text}' is not a time window", "write it as HH:MM-HH:MM, e.g. 00:00-06:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h2 == 24 and m2 == 0:
            h2 = 0  # 22:00-24:00 is 22:00 to midnight
        if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60):
            raise ConfigError(f"'{text}' is not a time window", "hours are 00-23 and minutes 00-59")
        return cls(time(h1, m1), time(h2, m2), zone(tz))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.tz.key}"

    def _inside_wall(self, wall: time) -> bool:
        if self.start == self.end:
            return True
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end  # crosses midnight

    def contains(self, instant: datetime) -> bool:
        """Whether the local clock in `tz` reads a time inside the window at `instant` (an aware datetime)."""
        return self._inside_wall(_wall(instant.astimezone(self.tz)))

    def next_open(self, instant: datetime) -> datetime:
        """The first instant at or after `instant` that is inside the window (UTC)."""
        instant = instant.astimezone(UTC)
        if self.contains(instant):
            return instant
        return min(c for c in self._edges(instant) if c > instant and self.contains(c))

    def next_close(self, instant: datetime) -> datetime:
        """The first instant at or after `instant` that is outside the window (UTC); `instant` if already outside."""
        instant = instant.astimezone(UTC)
        if self.start == self.end:
            raise ValueError("an all-day window never closes")
        if not self.contains(instant):
            return instant
        return min(c for c in self._edges(instant) if c > instant and not self.contains(c))

    def _edges(self, instant: datetime) -> list[datetime]:
        """Every instant near `instant` where membership can change: the wall clock reaching `start` or `end`
        on nearby days, and the zone's offset transitions (where the clock jumps into or out of the window)."""
        local_day = instant.astimezone(self.tz).date()
        edges = []
        for offset in range(-1, 4):
            day = local_day + timedelta(days=offset)
            for wall in (self.start, self.end):
                edges.extend(_instants_at(day, wall, self.tz))
        edges.extend(_transitions(self.tz, instant - timedelta(days=1), instant + _SCAN))
        return edges


def _wall(local: datetime) -> time:
    return local.time().replace(tzinfo=None, fold=0)


def _instants_at(day: date, wall: time, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants at which the clock in `tz` first reads `wall` or later on `day`: one normally, two in the
    repeated hour of a fall-back day, and the transition instant when `wall` falls in a spring-forward gap."""
    found = []
    for fold in (0, 1):
        candidate = datetime.combine(day, wall, tzinfo=tz).replace(fold=fold).astimezone(UTC)
        if _wall(candidate.astimezone(tz)) == wall:
            found.append(candidate)
    if found:
        return found
    # `wall` does not exist that day: the clock jumps over it at the transition, which lies between the two readings
    early = datetime.combine(day, wall, tzinfo=tz).replace(fold=1).astimezone(UTC)
    late = datetime.combine(day, wall, tzinfo=tz).replace(fold=0).astimezone(UTC)
    return [_bisect(min(early, late), max(early, late), tz)]


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The instants in [start, end) at which `tz` changes its UTC offset."""
    found = []
    step = timedelta(hours=1)
    here, offset = start, start.astimezone(tz).utcoffset()
    while here < end:
        after = here + step
        offset_after = after.astimezone(tz).utcoffset()
        if offset_after != offset:
            found.append(_bisect(here, after, tz))
        here, offset = after, offset_after
    return found


def _bisect(low: datetime, high: datetime, tz: ZoneInfo) -> datetime:
    """The first second in (low, high] whose UTC offset differs from low's."""
    before = low.astimezone(tz).utcoffset()
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        mid = mid.replace(microsecond=0)
        if mid <= low:
            mid = low + timedelta(seconds=1)
        if mid.astimezone(tz).utcoffset() == before:
            low = mid
        else:
            high = mid
    return high


def split_range(start: datetime | None, end: datetime, chunk: timedelta) -> list[tuple[datetime | None, datetime]]:
    """[start, end) cut into consecutive [a, b) pieces of `chunk` (the last may be shorter). UTC-aligned."""
    if chunk <= timedelta(0):
        raise ConfigError("chunk size must be positive", "use a duration such as 6h or 1d")
    if start is None:
        return [(None, end)]
    if end <= start:
        raise ConfigError(f"the end ({end:%Y-%m-%d %H:%M}) is not after the start ({start:%Y-%m-%d %H:%M})",
                          "give --end later than --start; the range is [start, end)")
    pieces: list[tuple[datetime | None, datetime]] = []
    here = start
    while here < end:
        nxt = min(end, here + chunk)
        pieces.append((here, nxt))
        here = nxt
    return pieces


__all__ = ["OffPeak", "split_range", "zone"]
