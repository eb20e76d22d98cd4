"""The time-zone trap: JQL dates are minute-precision and read in the account's zone, across DST changes.

An account at UTC−8 (Los Angeles, winter), UTC+3 (Moscow; Athens in summer) and across both DST changes; issues
updated within the cursor's minute, just before and just after it. Two consecutive windows split at the cursor
must together hold every issue exactly once, on Cloud (epoch-ms bounds) and on Data Center (account-zone
literals with an overlap).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jira_helpers import SimFactory, read_all, source_for, stream

from udc.records import Position, Window
from udc.sources.atlassian import _readings, lower_literal, upper_literal
from udc.timeutil import cursor_str, parse_time

CURSORS = {
    "utc-8": ("America/Los_Angeles", datetime(2024, 1, 15, 18, 0, 30, 500000, tzinfo=UTC)),
    "utc+3": ("Europe/Moscow", datetime(2024, 1, 15, 7, 0, 30, 500000, tzinfo=UTC)),
    "la-before-fall-back": ("America/Los_Angeles", datetime(2024, 11, 3, 8, 59, 30, tzinfo=UTC)),  # 01:59:30 PDT
    "la-in-repeated-hour": ("America/Los_Angeles", datetime(2024, 11, 3, 9, 30, 20, tzinfo=UTC)),  # 01:30:20 PST
    "la-before-spring-forward": ("America/Los_Angeles", datetime(2024, 3, 10, 9, 59, 30, tzinfo=UTC)),
    "athens-spring-forward": ("Europe/Athens", datetime(2024, 3, 31, 0, 59, 40, tzinfo=UTC)),  # +2 → +3
    "athens-fall-back": ("Europe/Athens", datetime(2024, 10, 27, 0, 59, 40, tzinfo=UTC)),  # +3 → +2
}
# Offsets from the cursor: the same minute on both sides, the minute before and after, the next hour (DST).
OFFSETS_MS = [-3_600_000, -70_000, -20_000, -1, 0, 1, 15_000, 29_000, 45_000, 61_000, 3_600_000, 3_900_000]


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
@pytest.mark.parametrize("scenario", sorted(CURSORS))
def test_windows_split_at_a_mid_minute_cursor_lose_nothing(make_sim: SimFactory, deployment: str,
                                                           scenario: str) -> None:
    zone, cursor = CURSORS[scenario]
    sim = make_sim(deployment, tz=zone, issues=0, projects=["OPS", "NET"])
    made = {}
    for n, ms in enumerate(OFFSETS_MS):
        issue = sim.create_issue("OPS" if n % 2 else "NET", at=cursor + timedelta(milliseconds=ms))
        made[str(issue.id)] = ms
    source = source_for(sim, batch_size=3, tables=["issues"])
    issues = stream(source, "issues")
    first, _ = read_all(issues, Window(cursor - timedelta(hours=3), cursor))
    second, _ = read_all(issues, Window(cursor, cursor + timedelta(hours=3)), Position(cursor_str(cursor)))
    assert sorted(r["id"] for r in first) == sorted(i for i, ms in made.items() if ms < 0)
    assert sorted(r["id"] for r in second) == sorted(i for i, ms in made.items() if ms >= 0)
    stored = first + second
    assert len({(r["id"], r["updated"]) for r in stored}) == len(stored) == len(made)  # no duplicates either
    for record in stored:  # `updated` keeps the account's offset at that instant; the cursor is its exact instant
        assert record["updated"][-5:] == parse_time(record["updated"]).astimezone(ZoneInfo(zone)).strftime("%z")
    jqls = [r.arg("jql") or "" for r in sim.data_requests() if "search" in r.path]
    if deployment == "cloud":
        assert all('"' not in j for j in jqls) and any("updated >= " in j for j in jqls)  # epoch ms, zone-free
    else:
        assert any('updated >= "' in j for j in jqls)  # account-zone minute literals
    source.close()


def test_a_naive_utc_literal_really_loses_issues(make_sim: SimFactory) -> None:
    """The control: what connectors that format the cursor in UTC send, and what it costs at UTC−8."""
    zone, cursor = CURSORS["utc-8"]
    sim = make_sim("data_center", tz=zone, issues=0, projects=["OPS"])
    sim.create_issue("OPS", at=cursor + timedelta(seconds=10))
    naive = f'project = OPS AND updated >= "{cursor.strftime("%Y/%m/%d %H:%M")}"'
    assert sim.search(naive) == []
    assert len(sim.search(f'project = OPS AND updated >= "{lower_literal(cursor, ZoneInfo(zone))[0]}"')) == 1


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_unknown_account_zone_widens_the_overlap_and_loses_nothing(make_sim: SimFactory, deployment: str) -> None:
    zone, cursor = CURSORS["utc+3"]
    sim = make_sim(deployment, tz=zone, issues=0, projects=["OPS", "NET"])
    sim.expose_time_zone = False
    ids = {str(sim.create_issue("OPS", at=cursor + timedelta(milliseconds=ms)).id) for ms in (0, 1, 20_000, 61_000)}
    sim.create_issue("OPS", at=cursor - timedelta(milliseconds=1))
    source = source_for(sim, tables=["issues"])
    records, _ = read_all(stream(source, "issues"), Window(cursor, cursor + timedelta(minutes=5)),
                          Position(cursor_str(cursor)))
    assert {r["id"] for r in records} == ids
    if deployment == "data_center":
        assert any("time zone is not readable" in n for n in source.notes)
    source.close()


ZONES = ["America/Los_Angeles", "Europe/Moscow", "Europe/Athens", "Australia/Lord_Howe", "Asia/Kolkata",
         "America/St_Johns", "Pacific/Chatham", "UTC"]


@settings(max_examples=400, deadline=None)
@given(zone=st.sampled_from([*ZONES, None]),
       instant=st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)))
def test_literals_bound_the_instant_under_every_reading(zone: str | None, instant: datetime) -> None:
    tz = ZoneInfo(zone) if zone else None
    lower, earliest = lower_literal(instant, tz)
    low_readings = _readings(datetime.strptime(lower, "%Y/%m/%d %H:%M"), tz)
    assert max(low_readings) <= instant - timedelta(minutes=1)  # at least a minute of overlap, whatever the reading
    assert earliest == min(low_readings)
    slack = timedelta(hours=27) if tz is None else timedelta(hours=2, minutes=2)
    assert min(low_readings) >= instant - slack  # and not absurdly early
    upper = upper_literal(instant, tz)
    high_readings = _readings(datetime.strptime(upper, "%Y/%m/%d %H:%M"), tz)
    assert min(high_readings) >= instant
    assert max(high_readings) <= instant + slack


def test_literals_step_out_of_the_spring_forward_gap() -> None:
    la = ZoneInfo("America/Los_Angeles")
    # 10:00:30Z is 03:00:30 PDT; "02:59" does not exist and Java reads it as 03:59 PDT (too late): step back to 01:59.
    assert lower_literal(datetime(2024, 3, 10, 10, 0, 30, tzinfo=UTC), la)[0] == "2024/03/10 01:59"
    # In the repeated hour a literal may mean either 01:xx; the lower bound must hold for the later reading too.
    literal, earliest = lower_literal(datetime(2024, 11, 3, 9, 30, 20, tzinfo=UTC), la)
    assert literal == "2024/11/03 01:29" and earliest == datetime(2024, 11, 3, 8, 29, tzinfo=UTC)
