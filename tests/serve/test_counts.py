"""Records per dataset are counted by each page's write (udc.store.sqlite.COUNTS), so the dashboard never counts
every record: the kept counts always equal a full count, through inserts, updates, re-reads, stale versions,
tombstones (of stored and of never-seen records) and revivals, in one page or many; a store from before the counts
is counted once when opened."""

from __future__ import annotations

from pathlib import Path

from udc.store import SqliteStore, open_reader
from udc.store.types import PageWrite, Statement


def kept(store: SqliteStore) -> dict[str, tuple[int, int]]:
    return {d: (live, dead) for d, live, dead in store.execute("SELECT * FROM dataset_counts") if live + dead}


def counted(store: SqliteStore) -> dict[str, tuple[int, int]]:
    rows = store.execute("SELECT dataset, sum(deleted = 0), sum(deleted) FROM records GROUP BY dataset")
    return {d: (int(live), int(dead)) for d, live, dead in rows}


def page(dataset: str, keys: range, cursor: str, tombstones: list[str] = ()) -> PageWrite:  # type: ignore[assignment]
    return PageWrite(dataset=dataset, records=[(f"k{i}", cursor, {"id": i, "at": cursor}) for i in keys],
                     tombstones=[(pk, cursor) for pk in tombstones])


def test_kept_counts_equal_a_full_count_through_every_kind_of_change(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "udc.db", write_process=False)
    store.write(page("snow/incident", range(100), "2025-01-01"), run_id=1)
    store.write(page("snow/problem", range(10), "2025-01-01"), run_id=1)
    assert kept(store) == counted(store) == {"snow/incident": (100, 0), "snow/problem": (10, 0)}
    # tombstones: three stored records, two never seen, and one older than its record (kept out)
    store.write(page("snow/incident", range(0), "2025-01-02", ["k1", "k2", "k3", "gone1", "gone2"]), run_id=2)
    store.write(PageWrite(dataset="snow/incident", tombstones=[("k4", "2024-12-31")]), run_id=2)
    assert kept(store) == counted(store) == {"snow/incident": (97, 5), "snow/problem": (10, 0)}
    store.write(page("snow/incident", range(1, 3), "2025-01-03"), run_id=3)  # k1, k2 come back, newer
    store.write(page("snow/incident", range(100, 150), "2025-01-03"), run_id=3)  # new ones
    store.write(page("snow/incident", range(50, 60), "2025-01-03"), run_id=3)  # updates: no change in counts
    assert kept(store) == counted(store) == {"snow/incident": (149, 3), "snow/problem": (10, 0)}
    store.write(page("snow/problem", range(5, 15), "2025-01-02", ["k0", "k1"]), run_id=4)  # a mixed page
    store.write(page("snow/problem", range(3), "2024-12-01"), run_id=4)  # stale: older than what is stored
    store.write(page("snow/problem", range(20, 23), "2025-01-02", ["k20"]), run_id=4)  # a key and its delete
    assert kept(store) == counted(store) == {"snow/incident": (149, 3), "snow/problem": (15, 3)}
    reader = open_reader(f"sqlite:///{tmp_path / 'udc.db'}")
    assert reader.dataset_counts("snow/") == counted(store) and reader.dataset_counts("snow/p") == {
        "snow/problem": (15, 3)}
    store.close()


def test_a_store_from_before_the_counts_is_counted_once_when_opened(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "udc.db", write_process=False)
    store.write(page("jira/issues", range(30), "2025-01-01"), run_id=1)
    store.write(page("jira/issues", range(0), "2025-01-02", ["k0", "never"]), run_id=1)
    store.run_statements([Statement("DROP TABLE dataset_counts", ())])  # as an older udc left it (no version)
    store.execute("PRAGMA user_version = 0")
    reader = open_reader(f"sqlite:///{tmp_path / 'udc.db'}")
    assert reader.dataset_counts() == {"jira/issues": (29, 2)}  # counted from the records meanwhile
    store.close()
    again = SqliteStore(tmp_path / "udc.db", write_process=False)
    assert kept(again) == counted(again) == {"jira/issues": (29, 2)}
    again.write(page("jira/issues", range(30, 35), "2025-01-02"), run_id=2)
    assert kept(again) == counted(again) == reader.dataset_counts() == {"jira/issues": (34, 2)}
    again.close()
