"""Store invariants: newest wins, tombstones are not resurrected, page and state commit together."""

from __future__ import annotations

from pathlib import Path

import pytest

from udc.store import PageWrite, SqliteStore

T1, T2, T3 = "2025-01-01T00:00:00.000000Z", "2025-01-02T00:00:00.000000Z", "2025-01-03T00:00:00.000000Z"


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "udc.db")


def records(store: SqliteStore) -> dict[str, tuple[dict[str, object], bool]]:
    return {pk: (data, deleted) for pk, data, deleted in store.iter_records("s/t")}


def test_older_version_never_replaces_newer(store: SqliteStore) -> None:
    store.write(PageWrite("s/t", [("a", T2, {"v": 2})]), 1)
    counts = store.write(PageWrite("s/t", [("a", T1, {"v": 1})]), 2)
    assert counts.stale == 1
    assert records(store)["a"] == ({"v": 2}, False)


def test_same_cursor_same_content_is_unchanged_new_content_updates(store: SqliteStore) -> None:
    store.write(PageWrite("s/t", [("a", T1, {"v": 1})]), 1)
    assert store.write(PageWrite("s/t", [("a", T1, {"v": 1})]), 2).unchanged == 1
    assert store.write(PageWrite("s/t", [("a", T1, {"v": 9})]), 3).updated == 1
    assert records(store)["a"] == ({"v": 9}, False)


def test_tombstone_blocks_older_copies_and_yields_to_newer(store: SqliteStore) -> None:
    store.write(PageWrite("s/t", [("a", T1, {"v": 1})], tombstones=[("b", T2)]), 1)
    store.write(PageWrite("s/t", tombstones=[("a", T2)]), 2)
    store.write(PageWrite("s/t", [("a", T1, {"v": 1}), ("b", T1, {"v": 0})]), 3)  # a backfill reading old copies
    assert records(store)["a"][1] and records(store)["b"][1]
    store.write(PageWrite("s/t", [("a", T3, {"v": 3})]), 4)  # re-created after the delete
    assert records(store)["a"] == ({"v": 3}, False)


def test_state_moves_only_with_its_page(store: SqliteStore) -> None:
    store.write(PageWrite("s/t", [("a", T1, {"v": 1})], state=("p", "incremental:t", {"position": [T1, "a"]})), 1)
    with pytest.raises(TypeError):  # state that fails after the rows were written rolls the whole page back
        store.write(PageWrite("s/t", [("b", T2, {"v": 2})], state=("p", "incremental:t", {"bad": object()})), 2)
    assert store.get_state("p", "incremental:t") == {"position": [T1, "a"]}
    assert set(records(store)) == {"a"}


def test_a_record_stored_whole_leaves_quarantine(store: SqliteStore) -> None:
    store.write(PageWrite("s/t", [("a", T1, {"v": 1})], quarantined=[("a", "stored without work_notes")]), 1)
    store.write(PageWrite("s/t", quarantined=[("b", "fails even without work_notes")]), 1)
    assert {pk for _, pk, _ in store.quarantined()} == {"a", "b"}
    store.write(PageWrite("s/t", [("a", T2, {"v": 2, "work_notes": "…"})]), 2)
    assert {pk for _, pk, _ in store.quarantined()} == {"b"}
