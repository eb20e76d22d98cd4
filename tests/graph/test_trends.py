"""Trends: exact counts per bucket and value, on records with injected times."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stores import Backend
from udc.errors import ConfigError
from udc.query import QueryError, trends
from udc.store import PageWrite, Store, open_reader, open_store, postgres

pytestmark = pytest.mark.both_stores

T0 = "2025-01-01T00:00:00.000000Z"


@pytest.fixture
def incidents(store: Store) -> Store:
    s = store
    rows = [  # (category, opened, resolved)
        ("network", "2025-03-03 09:00:00", "2025-03-03 13:00:00"),  # Monday: resolved in 4 h the same day
        ("network", "2025-03-03 10:00:00", "2025-03-05 10:00:00"),  # resolved two days later (48 h)
        ("network", "2025-03-04 08:00:00", ""),  # never resolved
        ("database", "2025-03-04 12:00:00", "2025-03-11 12:00:00"),  # resolved the next week (168 h)
        ("", "2025-03-10 00:30:00", ""),  # no category
    ]
    s.write(PageWrite("snow/incident", [
        (f"{i:032x}", T0, {"number": f"INC{i:07d}", "short_description": f"case {i}", "category": cat,
                           "opened_at": opened, "resolved_at": resolved})
        for i, (cat, opened, resolved) in enumerate(rows, 1)]), 1)
    return s


def test_daily_counts_are_exact(incidents: Store) -> None:
    got = {(b["bucket"], b["value"]): (b["opened"], b["resolved"], b["backlog"], b["mttr_hours"])
           for b in trends(incidents, "incident", "category", "day")["buckets"]}
    assert got[("2025-03-03", "network")] == (2, 1, 1, 4.0)
    assert got[("2025-03-04", "network")] == (1, 0, 2, None)
    assert got[("2025-03-05", "network")] == (0, 1, 1, 48.0)
    assert got[("2025-03-04", "database")] == (1, 0, 1, None)
    assert got[("2025-03-11", "database")] == (0, 1, 0, 168.0)
    assert got[("2025-03-10", "(none)")] == (1, 0, 1, None)


def test_a_version_3_store_learns_when_its_records_were_resolved_when_opened(incidents: Store, tmp_path: Path
                                                                             ) -> None:
    """Version 3's nodes had no `resolved`: version 4 reads it from the records, so trends counts them as resolved."""
    incidents.close()
    if Backend.kind == "sqlite":
        with sqlite3.connect(tmp_path / "udc.db") as conn:
            conn.executescript("ALTER TABLE graph_nodes DROP COLUMN resolved; PRAGMA user_version = 3;")
    else:
        with postgres.PostgresStore(Backend.store_url(tmp_path / "udc.db")).connect() as conn:
            conn.execute("ALTER TABLE graph_nodes DROP COLUMN resolved; UPDATE schema_version SET version = 3")
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    try:
        assert store.execute("SELECT count(resolved) FROM graph_nodes")[0][0] == 3
        got = {(b["bucket"], b["value"]): (b["opened"], b["resolved"], b["backlog"], b["mttr_hours"])
               for b in trends(store, "incident", "category", "day")["buckets"]}
        assert got[("2025-03-05", "network")] == (0, 1, 1, 48.0)
        assert got[("2025-03-11", "database")] == (0, 1, 0, 168.0)
    finally:
        store.close()


@pytest.mark.sqlite_only
def test_a_reader_of_a_version_3_store_says_how_to_upgrade_it(incidents: Store, tmp_path: Path) -> None:
    """A reader (`udc serve`, `udc.open`) never migrates: before this udc has written a version-3 store, trends are
    refused with the fix, not an SQL error."""
    incidents.close()
    with sqlite3.connect(tmp_path / "udc.db") as conn:
        conn.executescript("ALTER TABLE graph_nodes DROP COLUMN resolved; PRAGMA user_version = 3;")
    reader = open_reader(Backend.store_url(tmp_path / "udc.db"))
    try:
        with pytest.raises(ConfigError, match="written by an older udc") as caught:
            trends(reader, "incident", "category")
        assert "udc status" in caught.value.hint
    finally:
        reader.close()


def test_weekly_counts_and_since(incidents: Store) -> None:
    weeks = trends(incidents, "incident", "category", "week", since="4d", now=datetime(2025, 3, 14, tzinfo=UTC))
    got = {(b["bucket"], b["value"]): (b["opened"], b["resolved"], b["backlog"]) for b in weeks["buckets"]}
    assert got == {("2025-03-10", "(none)"): (1, 0, 1), ("2025-03-10", "database"): (0, 1, 0),
                   ("2025-03-10", "network"): (0, 0, 1)}  # the week of 3 March is before --since


def test_an_unknown_field_gets_a_did_you_mean(incidents: Store) -> None:
    with pytest.raises(QueryError, match="no field 'categroy'") as caught:
        trends(incidents, "incident", "categroy")
    assert "did you mean category" in caught.value.hint
    with pytest.raises(QueryError, match="no stored records of a table called 'incidnet'"):
        trends(incidents, "incidnet", "category")
