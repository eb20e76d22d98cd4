"""The store interface: chunks claimed once among competing workers, named locks, store URLs, and no driver error
leaving the store."""

from __future__ import annotations

import ast
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

import pytest

import udc
from stores import Backend
from udc.errors import ConfigError, LockHeld, StoreError
from udc.store import PageWrite, SqliteStore, Store, lease_stamp, open_store, parse_store_url, store_exists
from udc.timeutil import utcnow

SPEC = {"pipeline": "p", "kind": "backfill", "range_end": "2025-03-01", "chunk_seconds": 86400, "parallel": 4,
        "max_attempts": 3}
CHUNKS = 60

CLAIMER = textwrap.dedent("""
    import os, sys
    from udc.store import open_store
    store = open_store(sys.argv[1])
    sys.stdin.readline()  # every claimer starts at once
    while (chunk := store.claim_chunk(int(sys.argv[2]), f"host:{os.getpid()}", 60)) is not None:
        print(chunk["seq"], flush=True)
""")


def backfill(store: Store, n: int = CHUNKS) -> int:
    return store.create_backfill(SPEC, [(f"2025-01-{i:03d}", f"2025-01-{i + 1:03d}") for i in range(n)])


@pytest.mark.both_stores
def test_a_claim_takes_the_newest_ready_chunk_and_marks_it_running(store: Store) -> None:
    bid = backfill(store, 4)
    later = (utcnow() + timedelta(hours=1)).isoformat()
    store.update_chunk(bid, 4, not_before=later)  # waits out a retry delay
    store.update_chunk(bid, 3, status="done")
    store.update_chunk(bid, 2, not_before=(utcnow() - timedelta(seconds=1)).isoformat(), attempts_delta=1)
    claimed = store.claim_chunk(bid, "h:4242", 60)
    assert claimed is not None
    assert (claimed["seq"], claimed["status"], claimed["attempts"], claimed["pid"], claimed["worker"]) == (
        2, "running", 2, 4242, "h:4242")
    assert claimed["abandoned_by"] is None and claimed["started_at"] and claimed["rows"] == {}
    assert claimed["errors"] == []
    assert claimed["lease_until"] > lease_stamp(utcnow() + timedelta(seconds=59))
    assert store.claim_chunk(bid, "h:4242", 60)["seq"] == 1  # type: ignore[index]
    assert store.claim_chunk(bid, "h:4242", 60) is None
    assert [(c["seq"], c["status"]) for c in store.chunks(bid)] == [
        (1, "running"), (2, "running"), (3, "done"), (4, "pending")]
    assert store.claim_chunk(backfill(store, 1), "h:1", 60)["seq"] == 1  # type: ignore[index]  # another's own


@pytest.mark.both_stores
def test_a_chunk_whose_lease_ran_out_goes_to_the_next_claimant_and_its_first_worker_loses_it(
        store: Store) -> None:
    """A worker killed mid-chunk stops renewing: once its lease runs out another worker claims the chunk (the
    interrupted attempt counted, its worker named), and the first, should it wake up, finds it is no longer its
    own."""
    bid = backfill(store, 2)
    first = store.claim_chunk(bid, "a:1", 60)
    short = store.claim_chunk(bid, "a:1", 0.2)
    assert (first["seq"], short["seq"]) == (2, 1)  # type: ignore[index]
    assert store.renew_chunks(bid, "a:1", [1, 2], 60) == [1, 2]  # renewed: 1 holds for a minute now
    store.update_chunk(bid, 1, lease_until=lease_stamp(utcnow() - timedelta(seconds=1)))  # as if it had run out
    taken = store.claim_chunk(bid, "b:2", 60)
    assert taken is not None
    assert (taken["seq"], taken["worker"], taken["pid"], taken["attempts"], taken["abandoned_by"]) == (
        1, "b:2", 2, 2, "a:1")
    assert store.claim_chunk(bid, "b:2", 60) is None  # chunk 2's lease still holds
    assert store.renew_chunks(bid, "a:1", [1, 2], 60) == [2]  # 1 is b's now
    assert store.renew_chunks(bid, "b:2", [1], 60) == [1] and store.renew_chunks(bid, "b:2", [], 60) == []
    store.update_chunk(bid, 1, status="done", worker=None, lease_until=None)
    assert store.renew_chunks(bid, "b:2", [1], 60) == []  # a settled chunk has no lease


def test_an_older_store_gains_the_lease_columns(tmp_path: Path) -> None:
    db = tmp_path / "udc.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE chunks (backfill INTEGER NOT NULL, seq INTEGER NOT NULL, chunk_start TEXT, "
                 "chunk_end TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT "
                 "0, rows TEXT NOT NULL DEFAULT '{}', pages INTEGER NOT NULL DEFAULT 0, errors TEXT NOT NULL DEFAULT "
                 "'[]', pid INTEGER, not_before TEXT, started_at TEXT, finished_at TEXT, seconds REAL NOT NULL "
                 "DEFAULT 0, PRIMARY KEY (backfill, seq)) WITHOUT ROWID")
    conn.execute("INSERT INTO chunks (backfill, seq, chunk_end, status, pid) VALUES (1, 1, '2025-01-02', 'running', 7)")
    conn.commit()
    conn.close()
    store = SqliteStore(db)
    assert [(c["status"], c["worker"], c["lease_until"]) for c in store.chunks(1)] == [("running", None, None)]
    assert store.claim_chunk(1, "h:8", 60)["worker"] == "h:8"  # type: ignore[index]  # no lease: claimable


@pytest.mark.both_stores
def test_threads_with_their_own_stores_claim_every_chunk_exactly_once(tmp_path: Path) -> None:
    url = Backend.store_url(tmp_path / "udc.db")
    bid = backfill(open_store(url))
    claimed: dict[int, list[int]] = {n: [] for n in range(6)}
    start = threading.Barrier(len(claimed))

    def work(n: int) -> None:
        store = open_store(url)  # its own connection (and SQLite write lock)
        start.wait()
        while (chunk := store.claim_chunk(bid, f"h:{1000 + n}", 60)) is not None:
            claimed[n].append(chunk["seq"])

    threads = [threading.Thread(target=work, args=(n,)) for n in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    seqs = [seq for got in claimed.values() for seq in got]
    assert sorted(seqs) == list(range(1, CHUNKS + 1))
    owners = {seq: 1000 + n for n, got in claimed.items() for seq in got}
    chunks = open_store(url).chunks(bid)
    assert [(c["status"], c["attempts"], c["pid"]) for c in chunks] == [
        ("running", 1, owners[c["seq"]]) for c in chunks]


@pytest.mark.both_stores
def test_processes_claim_every_chunk_exactly_once(tmp_path: Path) -> None:
    url = Backend.store_url(tmp_path / "udc.db")
    bid = backfill(open_store(url))
    workers = [subprocess.Popen([sys.executable, "-c", CLAIMER, url, str(bid)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True) for _ in range(4)]
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    claimed = {worker.pid: [int(line) for line in worker.communicate(timeout=60)[0].split()] for worker in workers}
    assert all(worker.returncode == 0 for worker in workers)
    assert sorted(seq for got in claimed.values() for seq in got) == list(range(1, CHUNKS + 1))
    owners = {seq: pid for pid, got in claimed.items() for seq in got}
    assert {c["seq"]: c["pid"] for c in open_store(url).chunks(bid)} == owners


@pytest.mark.both_stores
def test_a_store_lock_is_held_once_and_says_who_holds_it(store: Store) -> None:
    first, second = store.lock("pipeline-a"), store.lock("pipeline-a")
    with first:
        assert second.holder()["pid"] == os.getpid()  # type: ignore[index]
        with pytest.raises(LockHeld, match=f"process {os.getpid()}"), second:
            pass
        assert store.lock("pipeline-b").acquire()  # other names are independent
    assert second.holder() is None and second.acquire()
    second.release()
    if isinstance(store, SqliteStore):
        assert (store.path.parent / "udc.db.locks" / "pipeline-a.lock").exists()  # beside the database


def test_a_path_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "udc.db").write_bytes(b"not a database, just text" * 200)
    with pytest.raises(StoreError, match="not a SQLite database") as refused:
        SqliteStore(tmp_path / "udc.db")
    assert str(tmp_path / "udc.db") in refused.value.message and "point `store:`" in refused.value.hint


@pytest.mark.sqlite_only
def test_reads_and_writes_fail_as_store_errors(store: SqliteStore) -> None:
    with pytest.raises(StoreError, match='no such table: nowhere'):
        store.execute("SELECT * FROM nowhere")
    store.execute("CREATE TRIGGER refuse BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'refused'); END")
    with pytest.raises(StoreError, match='SQLite said "refused"'):
        store.write(PageWrite("s/t", [("a", "2025-01-01", {"v": 1})]), 1)
    store.execute("CREATE TRIGGER refuse_run BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'no runs'); END")
    with pytest.raises(StoreError, match="no runs"):
        store.begin_run("p", "incremental")


def test_a_path_that_cannot_be_opened_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "udc.db").mkdir()
    with pytest.raises(StoreError, match=f"{tmp_path / 'udc.db'}.*unable to open database file"):
        SqliteStore(tmp_path / "udc.db")


def test_store_urls(tmp_path: Path) -> None:
    assert parse_store_url("sqlite:///data/udc.db") == ("sqlite", "data/udc.db")
    assert parse_store_url(f"sqlite:///{tmp_path}/udc.db") == ("sqlite", f"{tmp_path}/udc.db")
    assert parse_store_url("sqlite:///") == ("sqlite", "udc.db")
    assert parse_store_url("postgresql://udc@db/udc") == ("postgresql", "postgresql://udc@db/udc")
    with pytest.raises(ConfigError, match="unsupported store URL 'mysql://x'"):
        parse_store_url("mysql://x")
    url = f"sqlite:///{tmp_path}/udc.db"
    assert not store_exists(url)
    store = open_store(url)
    assert store.location == f"{tmp_path}/udc.db" and store_exists(url)
    store.close()


def imports(path: Path) -> tuple[set[str], set[str]]:
    """The names a module imports, and the modules it imports from."""
    tree = ast.parse(path.read_text())
    nodes = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    return ({alias.name for node in nodes for alias in node.names},
            {node.module for node in nodes if isinstance(node, ast.ImportFrom) and node.module})


def test_nothing_above_the_store_names_its_database() -> None:
    """Layers above the store use the interface: no sqlite3 import, no SqliteStore."""
    root = Path(udc.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.is_relative_to(root / "store"):
            continue
        names, modules = imports(path)
        if {"sqlite3", "SqliteStore"} & names or "udc.store.sqlite" in modules:
            offenders.append(str(path.relative_to(root)))
    assert offenders == []


def test_the_store_imports_nothing_above_it() -> None:
    """The store stands on the neutral records, errors and time helpers; never on sources, config or sync."""
    root = Path(udc.__file__).parent
    above = ("udc.sources", "udc.config", "udc.sync", "udc.http", "udc.redact", "udc.cli", "udc.check")
    found = {str(path.relative_to(root)): sorted(m for m in imports(path)[1] if m.startswith(above))
             for path in (root / "store").glob("*.py")}
    assert {path: modules for path, modules in found.items() if modules} == {}
