"""A search filtered by table and time: the same answers whether the store narrows it in its full-text index
(SQLite's `tags`) or not, across months and years, after updates and deletes, and after version 5's migration."""

from __future__ import annotations

import importlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from udc.query import search
from udc.store import PageWrite, SqliteStore, Store

pytestmark = pytest.mark.both_stores

T1, T2 = "2025-01-01T00:00:00.000000Z", "2025-01-02T00:00:00.000000Z"
NOW = datetime(2026, 3, 1, tzinfo=UTC)
# (table, key, opened): since 2025-11-15 (106 days before NOW) keeps the problem's table out and the old ones out
OPENED = [("incident", "INC0000001", "2025-11-20 09:00:00"),   # the month of --since, after it
          ("incident", "INC0000002", "2025-11-02 09:00:00"),   # the month of --since, before it
          ("incident", "INC0000003", "2025-12-31 23:00:00"),   # later that year
          ("incident", "INC0000004", "2026-02-10 09:00:00"),   # a later year
          ("incident", "INC0000005", "2043-01-01 09:00:00"),   # many years later
          ("incident", "INC0000006", "2024-12-01 09:00:00"),   # the year before
          ("incident", "INC0000007", ""),                     # no time
          ("problem", "PRB0000001", "2025-12-01 09:00:00")]    # another table


def write(store: Store, rows: list[tuple[str, str, str]], cursor: str = T1, text: str = "printer jam") -> None:
    for table, key, opened in rows:
        record: dict[str, Any] = {"number": key, "short_description": f"{text} on floor 3", "opened_at": opened}
        store.write(PageWrite(f"snow/{table}", [(key.lower(), cursor, record)]), 1)


def found(store: Store, **filters: Any) -> set[str]:
    return {hit["key"] for hit in search(store, "printer", 50, now=NOW, **filters)}


@pytest.mark.parametrize("ranked", [2000, 1])  # every match ranked, or past RANKED_MATCHES (the title holders)
def test_a_search_by_table_and_time_finds_exactly_the_records_opened_since_in_that_table(
        store: Store, ranked: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.import_module("udc.store.sqlite_graph"), "RANKED_MATCHES", ranked)
    write(store, OPENED)
    assert found(store, table="incident", since="106d") == {"INC0000001", "INC0000003", "INC0000004",
                                                            "INC0000005"}
    assert found(store, source="snow", table="incident", since="2025-12-31") == {"INC0000003", "INC0000004",
                                                                                 "INC0000005"}
    assert found(store, table="incident") == {key for table, key, _ in OPENED if table == "incident"}
    assert found(store, table="problem", since="106d") == {"PRB0000001"}
    assert found(store, since="106d") == {"INC0000001", "INC0000003", "INC0000004", "INC0000005", "PRB0000001"}
    assert found(store, table="change_request") == set()


def test_a_record_moved_to_another_month_or_deleted_leaves_its_filter(store: Store) -> None:
    write(store, OPENED[:2])
    write(store, [("incident", "INC0000001", "2024-06-01 09:00:00")], cursor=T2)  # reopened: an older time
    assert found(store, table="incident", since="106d") == set()
    write(store, [("incident", "INC0000002", "2025-12-01 09:00:00")], cursor=T2)
    assert found(store, table="incident", since="106d") == {"INC0000002"}
    store.write(PageWrite("snow/incident", [], tombstones=[("inc0000002", T2)]), 1)
    assert found(store, table="incident", since="106d") == set()
    assert found(store, table="incident") == {"INC0000001"}


def test_words_of_the_tags_are_not_found_by_a_search(store: Store) -> None:
    write(store, OPENED)
    assert search(store, "xy2025incident", now=NOW) == [] and search(store, "xm202511incident", now=NOW) == []


@pytest.mark.sqlite_only
def test_a_version_4_store_gains_the_tables_and_times_of_its_text_when_opened(tmp_path: Path) -> None:
    old = SqliteStore(tmp_path / "udc.db", write_process=False)
    write(old, OPENED)
    old.close()
    with sqlite3.connect(tmp_path / "udc.db") as conn:  # as udc left it at version 4: no tags
        conn.executescript("ALTER TABLE graph_text RENAME TO t5; CREATE VIRTUAL TABLE graph_text USING fts5 (key, "
                           "title, body, tokenize = 'porter unicode61 remove_diacritics 2', detail = column); "
                           "INSERT INTO graph_text (rowid, key, title, body) SELECT rowid, key, title, body FROM t5; "
                           "DROP TABLE t5; PRAGMA user_version = 4;")
    store = SqliteStore(tmp_path / "udc.db", write_process=False)
    assert store.schema_version() == 5
    assert store.execute("SELECT tags FROM graph_text WHERE key = 'INC0000003'") == [
        ("xy2025incident xm202512incident",)]
    assert found(store, table="incident", since="106d") == {"INC0000001", "INC0000003", "INC0000004",
                                                            "INC0000005"}
    store.write(PageWrite("snow/incident", [], tombstones=[("inc0000003", T2)]), 1)
    assert found(store, table="incident", since="106d") == {"INC0000001", "INC0000004", "INC0000005"}
    store.close()
