"""Off-peak window and chunk arithmetic: wall-clock windows in a time zone, across DST changes and midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from udc.errors import ConfigError
from udc.sync.windows import OffPeak, split_range


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def open_spans(window: OffPeak, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Every [open, close) of `window` that starts in [start, end)."""
    spans = []
    here = window.next_open(start)
    while here < end:
        close = window.next_close(here)
        spans.append((here, close))
        here = window.next_open(close)
    return spans


def test_new_york_midnight_to_six_is_five_hours_on_spring_forward_day() -> None:
    window = OffPeak.parse("00:00-06:00", "America/New_York")
    spans = open_spans(window, utc("2025-03-08T12:00:00"), utc("2025-03-10T12:00:00"))
    # 8 March (EST, UTC-5): 05:00-11:00 UTC; 9 March the clock skips 02:00-03:00, so 05:00-10:00 UTC (EDT after)
    assert spans[0] == (utc("2025-03-09T05:00:00"), utc("2025-03-09T10:00:00"))
    assert spans[1] == (utc("2025-03-10T04:00:00"), utc("2025-03-10T10:00:00"))
    assert spans[0][1] - spans[0][0] == timedelta(hours=5)


def test_new_york_midnight_to_six_is_seven_hours_on_fall_back_day() -> None:
    window = OffPeak.parse("00:00-06:00", "America/New_York")
    spans = open_spans(window, utc("2025-11-01T12:00:00"), utc("2025-11-03T12:00:00"))
    # 2 November: opens at 00:00 EDT (04:00 UTC), the clock shows 01:00-02:00 twice, closes at 06:00 EST (11:00 UTC)
    assert spans[0] == (utc("2025-11-02T04:00:00"), utc("2025-11-02T11:00:00"))
    assert spans[1] == (utc("2025-11-03T05:00:00"), utc("2025-11-03T11:00:00"))


def test_window_starting_in_the_skipped_hour_opens_at_the_transition() -> None:
    window = OffPeak.parse("02:30-05:00", "America/New_York")
    assert window.next_open(utc("2025-03-09T00:00:00")) == utc("2025-03-09T07:00:00")  # 03:00 EDT, clock jumped
    assert window.next_close(utc("2025-03-09T07:00:00")) == utc("2025-03-09T09:00:00")  # 05:00 EDT
    assert not window.contains(utc("2025-03-09T06:59:59"))  # 01:59:59 EST


def test_window_inside_the_skipped_hour_does_not_happen_that_day() -> None:
    window = OffPeak.parse("02:00-03:00", "America/New_York")
    assert window.next_open(utc("2025-03-09T00:00:00")) == utc("2025-03-10T06:00:00")  # 02:00 EDT on the 10th


def test_repeated_hour_counts_twice_for_a_window_inside_it() -> None:
    window = OffPeak.parse("01:00-01:30", "America/New_York")
    spans = open_spans(window, utc("2025-11-02T00:00:00"), utc("2025-11-02T12:00:00"))
    assert spans == [(utc("2025-11-02T05:00:00"), utc("2025-11-02T05:30:00")),   # 01:00-01:30 EDT
                     (utc("2025-11-02T06:00:00"), utc("2025-11-02T06:30:00"))]   # 01:00-01:30 EST


def test_window_crossing_midnight_across_spring_forward_in_berlin() -> None:
    window = OffPeak.parse("22:00-02:00", "Europe/Berlin")
    spans = open_spans(window, utc("2025-03-29T12:00:00"), utc("2025-03-31T12:00:00"))
    # 29→30 March: opens 22:00 CET (21:00 UTC); at 02:00 CET the clock jumps to 03:00 CEST (01:00 UTC): closed
    assert spans[0] == (utc("2025-03-29T21:00:00"), utc("2025-03-30T01:00:00"))
    assert spans[1] == (utc("2025-03-30T20:00:00"), utc("2025-03-31T00:00:00"))  # CEST from now on


def test_window_crossing_midnight_across_fall_back_in_berlin() -> None:
    window = OffPeak.parse("22:00-02:00", "Europe/Berlin")
    spans = open_spans(window, utc("2025-10-25T12:00:00"), utc("2025-10-26T23:59:00"))
    # 25→26 October: 22:00 CEST = 20:00 UTC; the clock reaches 02:00 CEST at 00:00 UTC and closes; at 01:00 UTC it
    # falls back to 02:00 CET, which is outside [22:00, 02:00) too: one span, four hours
    assert spans[0] == (utc("2025-10-25T20:00:00"), utc("2025-10-26T00:00:00"))
    assert spans[1] == (utc("2025-10-26T21:00:00"), utc("2025-10-27T01:00:00"))


def test_window_crossing_midnight_contains_both_sides() -> None:
    window = OffPeak.parse("23:00-01:00", "UTC")
    assert window.contains(utc("2025-05-05T23:30:00")) and window.contains(utc("2025-05-06T00:59:59"))
    assert not window.contains(utc("2025-05-06T01:00:00")) and not window.contains(utc("2025-05-05T22:59:59"))
    assert window.next_open(utc("2025-05-06T01:00:00")) == utc("2025-05-06T23:00:00")


def test_all_day_and_until_midnight_windows() -> None:
    always = OffPeak.parse("00:00-00:00", "Asia/Kolkata")
    assert always.contains(utc("2025-01-01T12:34:00"))
    evening = OffPeak.parse("18:00-24:00", "Asia/Kolkata")  # UTC+05:30
    assert evening.next_open(utc("2025-01-01T00:00:00")) == utc("2025-01-01T12:30:00")
    assert evening.next_close(utc("2025-01-01T12:30:00")) == utc("2025-01-01T18:30:00")


@pytest.mark.parametrize("text,tz", [("0-6", "UTC"), ("25:00-06:00", "UTC"), ("00:00-06:60", "UTC"),
                                     ("00:00-06:00", "Mars/Olympus_Mons")])
def test_bad_windows_are_config_errors(text: str, tz: str) -> None:
    with pytest.raises(ConfigError):
        OffPeak.parse(text, tz)


ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns", "UTC"]


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), h1=st.integers(0, 23), m1=st.sampled_from([0, 15, 30, 45]),
       h2=st.integers(0, 23), m2=st.sampled_from([0, 30]),
       at=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)))
def test_next_open_and_close_agree_with_the_wall_clock(zone: str, h1: int, m1: int, h2: int, m2: int,
                                                       at: datetime) -> None:
    window = OffPeak.parse(f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}", zone)
    opens = window.next_open(at)
    assert opens >= at and window.contains(opens)
    assert opens - at < timedelta(days=2)
    # nothing between `at` and `opens` is inside (checked on every minute boundary and just before `opens`)
    probe = at
    while probe < opens:
        assert not window.contains(probe)
        probe = (probe + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if opens > at:
        assert not window.contains(opens - timedelta(seconds=1))
    if (h1, m1) != (h2, m2):
        closes = window.next_close(opens)
        assert closes > opens and not window.contains(closes)
        assert window.contains(closes - timedelta(seconds=1))


def test_split_range_covers_the_range_without_gaps_or_overlap() -> None:
    pieces = split_range(utc("2025-03-01T00:00:00"), utc("2025-03-31T00:00:00"), timedelta(days=1))
    assert len(pieces) == 30
    assert pieces[0] == (utc("2025-03-01T00:00:00"), utc("2025-03-02T00:00:00"))
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    odd = split_range(utc("2025-03-01T00:00:00"), utc("2025-03-02T05:00:00"), timedelta(hours=12))
    assert [b - a for a, b in odd if a] == [timedelta(hours=12), timedelta(hours=12), timedelta(hours=5)]
    assert split_range(None, utc("2025-03-01T00:00:00"), timedelta(days=1)) == [(None, utc("2025-03-01T00:00:00"))]
    with pytest.raises(ConfigError):
        split_range(utc("2025-03-02T00:00:00"), utc("2025-03-01T00:00:00"), timedelta(days=1))
