"""Store invariants: newest wins, tombstones are not resurrected, page and state commit together."""

from __future__ import annotations

import pytest

from udc.store import PageWrite, Store

T1, T2, T3 = "2025-01-01T00:00:00.000000Z", "2025-01-02T00:00:00.000000Z", "2025-01-03T00:00:00.000000Z"


pytestmark = pytest.mark.both_stores


def records(store: Store) -> dict[str, tuple[dict[str, object], bool]]:
    return {pk: (data, deleted) for pk, data, deleted in store.iter_records("s/t")}


def test_older_version_never_replaces_newer(store: Store) -> None:
    store.write(PageWrite("s/t", [("a", T2, {"v": 2})]), 1)
    counts = store.write(PageWrite("s/t", [("a", T1, {"v": 1})]), 2)
    assert counts.stale == 1
    assert records(store)["a"] == ({"v": 2}, False)


def test_same_cursor_same_content_is_unchanged_new_content_updates(store: Store) -> None:
    store.write(PageWrite("s/t", [("a", T1, {"v": 1})]), 1)
    assert store.write(PageWrite("s/t", [("a", T1, {"v": 1})]), 2).unchanged == 1
    assert store.write(PageWrite("s/t", [("a", T1, {"v": 9})]), 3).updated == 1
    assert records(store)["a"] == ({"v": 9}, False)


def test_tombstone_blocks_older_copies_and_yields_to_newer(store: Store) -> None:
    store.write(PageWrite("s/t", [("a", T1, {"v": 1})], tombstones=[("b", T2)]), 1)
    store.write(PageWrite("s/t", tombstones=[("a", T2)]), 2)
    store.write(PageWrite("s/t", [("a", T1, {"v": 1}), ("b", T1, {"v": 0})]), 3)  # a backfill reading old copies
    assert records(store)["a"][1] and records(store)["b"][1]
    store.write(PageWrite("s/t", [("a", T3, {"v": 3})]), 4)  # re-created after the delete
    assert records(store)["a"] == ({"v": 3}, False)


def test_state_moves_only_with_its_page(store: Store) -> None:
    store.write(PageWrite("s/t", [("a", T1, {"v": 1})], state=("p", "incremental:t", {"position": [T1, "a"]})), 1)
    with pytest.raises(TypeError):  # state that fails after the rows were written rolls the whole page back
        store.write(PageWrite("s/t", [("b", T2, {"v": 2})], state=("p", "incremental:t", {"bad": object()})), 2)
    assert store.get_state("p", "incremental:t") == {"position": [T1, "a"]}
    assert set(records(store)) == {"a"}


def test_a_record_stored_whole_leaves_quarantine(store: Store) -> None:
    store.write(PageWrite("s/t", [("a", T1, {"v": 1})], quarantined=[("a", "stored without work_notes")]), 1)
    store.write(PageWrite("s/t", quarantined=[("b", "fails even without work_notes")]), 1)
    assert {pk for _, pk, _ in store.quarantined()} == {"a", "b"}
    store.write(PageWrite("s/t", [("a", T2, {"v": 2, "work_notes": "…"})]), 2)
    assert {pk for _, pk, _ in store.quarantined()} == {"b"}


@pytest.mark.parametrize("before", ["new keys", "stored keys"])
def test_a_page_mixing_new_and_stored_keys(store: Store, before: str) -> None:
    """After a page of new keys the store inserts first and looks up only the keys already stored; after a page of
    stored keys it looks every key up first. Both count and keep the same."""
    store.write(PageWrite("s/t", [("old", T2, {"v": 2}), ("same", T1, {"v": 1}), ("newer", T1, {"v": 1})]), 1)
    store.write(PageWrite("s/t", [("same", T1, {"v": 1})] if before == "stored keys" else [("x", T1, {})]), 2)
    counts = store.write(PageWrite("s/t", [("newer", T2, {"v": 2}), ("same", T1, {"v": 1}), ("old", T1, {"v": 1}),
                                           ("fresh", T3, {"v": 3})]), 3)
    assert (counts.inserted, counts.updated, counts.unchanged, counts.stale) == (1, 1, 1, 1)
    stored = records(store)
    assert [stored[pk] for pk in ("old", "newer", "fresh")] == [({"v": 2}, False), ({"v": 2}, False), ({"v": 3}, False)]
    runs = {pk: (first, last) for pk, first, last in store.execute("SELECT pk, first_run, last_run FROM records")}
    runs.pop("x", None)
    assert runs == {"old": (1, 1), "same": (1, 3), "newer": (1, 3), "fresh": (3, 3)}


@pytest.mark.parametrize(("versions", "counted"), [([T1, T2], "updated"), ([T2, T1], "stale")])
def test_a_key_twice_in_one_page_keeps_the_newer(store: Store, versions: list[str], counted: str) -> None:
    counts = store.write(PageWrite("s/t", [("d", at, {"at": at}) for at in versions]), 1)
    assert counts.inserted == 1 and getattr(counts, counted) == 1
    assert records(store)["d"] == ({"at": T2}, False)
