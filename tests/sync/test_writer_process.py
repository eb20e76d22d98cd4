"""Pages stored by the store's writer process, SQLite's and PostgreSQL's: same results as storing in-process, errors
as StoreErrors in the database's words, a failed page never followed by a stored one, and no writer left behind."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import orjson
import pytest

from stores import Backend, mapped_files
from udc.errors import StoreError
from udc.store import PageWrite, SqliteStore, Store, open_store, writer
from udc.store.sqlite_writer import Checkpointer
from udc.store.types import Statement

from .conftest import AFTER_DATA, Harness, source_truth, stored_truth


def page(n: int, start: int = 0, state: int | None = None) -> PageWrite:
    rows = [(f"pk{i:04d}", f"2025-01-01 00:00:{i % 60:02d}", {"sys_id": f"pk{i:04d}", "n": i})
            for i in range(start, start + n)]
    return PageWrite("t/x", rows, state=("p", "s", {"at": state}) if state is not None else None)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def refuse(store: Store, pk: str) -> None:
    """A trigger that makes the database refuse the record `pk`."""
    if Backend.kind == "sqlite":
        store.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON records WHEN NEW.pk = '{pk}' "
                      "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    else:
        store.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                      f"IF NEW.pk = '{pk}' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$")
        store.execute("CREATE TRIGGER refuse BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION refuse()")


@pytest.mark.both_stores
def test_pages_through_the_writer_process_match_pages_stored_here(tmp_path: Path, store: Store) -> None:
    here, there = open_store(Backend.store_url(tmp_path / "here.db")), store
    with there.writer():
        assert there._writer is not None and there._writer.pid != os.getpid()
        futures = [there.submit(page(100, k * 50, state=k), run_id=1) for k in range(4)]  # overlapping keys
        counts = [f.result(timeout=60) for f in futures]
    assert there._writer is None
    assert counts == [here.write(page(100, k * 50, state=k), run_id=1) for k in range(4)]
    assert [c.inserted for c in counts] == [100, 50, 50, 50] and [c.unchanged for c in counts] == [0, 50, 50, 50]
    assert list(there.iter_records("t/x")) == list(here.iter_records("t/x"))
    assert there.get_state("p", "s") == {"at": 3}
    here.close()


def test_encoded_json_is_stored_through_the_writer_process_as_the_same_text(tmp_path: Path) -> None:
    """Records' JSON, str or bytes as the sources give it, is stored as text, byte for byte, through the writer
    process; the same text as str or bytes has the same content hash."""
    store = SqliteStore(tmp_path / "udc.db")
    texts = ['{"sys_id":"a","d":"Zoë ✓"}', b'{"sys_id":"b","d":"\\u00eb"}', b'{"sys_id":"c"}']
    links = [None, '[["caller_id","t/user","a"]]', None]
    encoded = [(pk, "2025-01-01T00:00:00.000000Z", text, link)
               for pk, text, link in zip("abc", texts, links, strict=True)]
    as_bytes = [(pk, cursor, text.encode() if isinstance(text, str) else text, link)
                for pk, cursor, text, link in encoded]
    with store.writer():
        first = store.submit(PageWrite("t/x", encoded=encoded, size=3), run_id=1).result(timeout=60)
        again = store.submit(PageWrite("t/x", encoded=as_bytes, size=3), run_id=2).result(timeout=60)
    assert first.inserted == 3 and again.unchanged == 3
    assert store.execute("SELECT pk, typeof(data), data, links FROM records ORDER BY pk") == [
        (pk, "text", text if isinstance(text, str) else text.decode(), link)
        for pk, text, link in zip("abc", texts, links, strict=True)]
    assert [record for _, record, _ in store.iter_records("t/x")][1] == {"sys_id": "b", "d": "ë"}


@pytest.mark.both_stores
def test_an_error_comes_back_as_a_store_error_and_nothing_of_the_page_is_stored(store: Store) -> None:
    refuse(store, "pk0007")
    said = "SQLite" if Backend.kind == "sqlite" else "PostgreSQL"
    with store.writer():
        store.write(page(5, state=1), run_id=1)
        with pytest.raises(StoreError, match=f'{re.escape(store.location)}.*{said} said "refused by the test"'):
            store.write(page(5, 5, state=2), run_id=1)
        assert store.write(page(2, 10, state=3), run_id=1).inserted == 2  # the writer goes on with the next page
    assert sorted(pk for pk, _, _ in store.iter_records("t/x")) == [f"pk{i:04d}" for i in (0, 1, 2, 3, 4, 10, 11)]
    assert store.get_state("p", "s") == {"at": 3}


@pytest.mark.both_stores
def test_after_a_failed_page_the_writer_refuses_the_rest_of_its_pass_only(store: Store) -> None:
    refuse(store, "pk0007")
    pages = [page(5, 0, state=1), page(5, 5, state=2), page(5, 10, state=3), page(5, 20, state=4)]
    for p, pass_id in zip(pages, (1, 1, 1, 2), strict=True):
        p.pass_id = pass_id
    with store.writer():
        futures = [store.submit(p, run_id=1) for p in pages]  # all handed over before the first commits
        assert futures[0].result(timeout=60).inserted == 5
        with pytest.raises(StoreError, match="refused by the test"):
            futures[1].result(timeout=60)
        with pytest.raises(StoreError, match="not stored: the page before it failed"):
            futures[2].result(timeout=60)
        assert futures[3].result(timeout=60).inserted == 5  # another pass goes on
    assert sorted(int(pk[2:]) for pk, _, _ in store.iter_records("t/x")) == [*range(5), *range(20, 25)]


@pytest.mark.both_stores
def test_a_killed_writer_fails_its_page_clearly_and_later_pages_are_stored_here(store: Store) -> None:
    with store.writer():
        store.write(page(3, state=1), run_id=1)
        assert store._writer is not None
        pid = store._writer.pid
        os.kill(pid, signal.SIGSTOP)  # stopped, the writer cannot answer: the next page is surely in its hands
        in_hand = store.submit(page(3, 3, state=2), run_id=1)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(StoreError, match=r"writer process exited \(code -9\).*t/x") as failed:
            in_hand.result(timeout=60)
        assert "run the sync again" in str(failed.value)
        assert store.write(page(1, 900, state=99), run_id=1).inserted == 1
    assert store.get_state("p", "s") == {"at": 99}
    assert not alive(pid)


@pytest.mark.both_stores
def test_a_page_refused_by_the_store_ends_the_pass_before_any_later_page(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 60})
    h = Harness(tmp_path, sim, {"hist": {"mode": "historical", "batch_size": 10, "tables": ["incident"]}})
    ordered = sorted(sim.records("incident"), key=lambda r: (r["sys_updated_on"], r["sys_id"]))
    victim = ordered[25]["sys_id"]  # on the third page
    refuse(h.store, victim)
    summary = h.sync("hist", now=AFTER_DATA)
    assert summary.status == "failed" and "refused by the test" in summary.streams[0].error
    assert set(stored_truth(h)) == {r["sys_id"] for r in ordered[:20]}  # pages 1-2 stored, nothing after the refusal
    assert h.store.get_state("hist", "historical:incident")["position"][1] == ordered[19]["sys_id"]

    h.store.execute("DROP TRIGGER refuse" + (" ON records" if Backend.kind == "postgresql" else ""))
    assert h.sync("hist", now=AFTER_DATA).status == "succeeded"
    assert stored_truth(h) == source_truth(sim)


@pytest.mark.both_stores
def test_no_writer_outlives_its_sync(tmp_path: Path, make_sim, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = make_sim({"incident": 30})
    h = Harness(tmp_path, sim, {"hist": {"mode": "historical", "batch_size": 10, "tables": ["incident"]}})
    started: list[int] = []
    init = writer.WriterProcess.__init__

    def remember(self: writer.WriterProcess, child: str, opening: object) -> None:
        init(self, child, opening)
        started.append(self.pid)

    monkeypatch.setattr(writer.WriterProcess, "__init__", remember)
    assert h.sync("hist", now=AFTER_DATA).status == "succeeded"
    assert len(started) == 1
    deadline = time.monotonic() + 10
    while alive(started[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(started[0])


@pytest.mark.both_stores
def test_ledger_writes_posted_without_waiting_commit_in_order_and_failures_are_logged(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    spec = {"pipeline": "p", "kind": "backfill", "range_end": "2025-02-01", "chunk_seconds": 86400, "parallel": 1,
            "max_attempts": 3}
    bid = store.create_backfill(spec, [(None, "2025-01-02"), ("2025-01-02", "2025-02-01")])
    with store.writer():
        store.update_chunk(bid, 1, wait=False, status="running", attempts_delta=1)
        store.update_chunk(bid, 2, wait=False, no_such_column=1)  # refused by the database: logged, nothing else lost
        store.update_chunk(bid, 2, wait=False, status="done")
        store.update_backfill(bid, status="done")  # waits, so everything posted before it is committed
        assert [(c["status"], c["attempts"]) for c in store.chunks(bid)] == [("running", 1), ("done", 0)]
    assert "no_such_column" in caplog.text and "was not written" in caplog.text


@pytest.mark.both_stores
def test_a_page_that_cannot_be_described_for_the_graph_fails_alone_and_the_writer_goes_on(store: Store) -> None:
    """A record whose JSON cannot be read fails its page (on PostgreSQL in the thread that describes pages ahead of
    their transaction, on SQLite in the transaction, the syncing process having failed to describe it): that page's
    error comes back for it, nothing of it is stored, and the next pass is stored."""
    broken = PageWrite("t/x", encoded=[("bad", "2025-01-01", "{not json", None)], size=1, state=("p", "s", {"at": 1}))
    broken.pass_id = 1
    later = page(3, 10, state=2)
    later.pass_id = 2
    with store.writer():
        futures = [store.submit(broken, run_id=1), store.submit(later, run_id=1)]
        with pytest.raises(StoreError, match="JSONDecodeError"):
            futures[0].result(timeout=60)
        assert futures[1].result(timeout=60).inserted == 3
    assert sorted(pk for pk, _, _ in store.iter_records("t/x")) == ["pk0010", "pk0011", "pk0012"]
    assert store.get_state("p", "s") == {"at": 2}


def graph_pages() -> list[PageWrite]:
    """Incidents with links (one key twice on a page, one record updated by a later page) and a CMDB relation, whose
    description names its type from the store as the transaction sees it."""
    def incident(n: int, words: str) -> tuple[str, str, str, str]:
        record = {"sys_id": f"i{n}", "number": f"INC{n:04d}", "short_description": words, "state": "2",
                  "opened_at": "2025-01-01 08:00:00", "cmdb_ci": {"value": f"c{n % 2}"}}
        return (f"i{n}", f"2025-01-01T0{n % 9}:00:00.000000Z", orjson.dumps(record).decode(),
                orjson.dumps([["cmdb_ci", "snow/cmdb_ci", f"c{n % 2}"]]).decode())

    relation = {"sys_id": "r1", "parent": {"value": "c0"}, "child": {"value": "c1"}, "type": {"value": "t1"}}
    rel_type = {"sys_id": "t1", "name": "Depends on::Used by"}
    return [PageWrite("snow/cmdb_rel_type", encoded=[("t1", "2025-01-01T00:00:00.000000Z",
                                                      orjson.dumps(rel_type).decode(), None)], size=1),
            PageWrite("snow/incident", encoded=[incident(n, f"mail server {n} down") for n in range(5)]
                      + [incident(2, "mail server 2 down again")], size=6),
            PageWrite("snow/incident", encoded=[incident(3, "mail server 3 back")], size=1),
            PageWrite("snow/cmdb_rel_ci", encoded=[("r1", "2025-01-01T00:00:00.000000Z",
                                                    orjson.dumps(relation).decode(), None)], size=1)]


def test_the_graph_stored_through_the_sqlite_writer_is_the_graph_stored_in_the_transaction(tmp_path: Path) -> None:
    """A page handed to the SQLite writer comes with its records described for the graph by the syncing process
    (the writer is the sync's slowest stage): the nodes, link ends and texts are those of pages described inside
    their transaction."""
    here, there = SqliteStore(tmp_path / "here.db"), SqliteStore(tmp_path / "there.db")
    for write in graph_pages():
        here.write(write, run_id=1)
    with there.writer():
        assert [f.result(timeout=60).inserted for f in [there.submit(w, run_id=1) for w in graph_pages()]] \
            == [1, 5, 0, 1]
    for sql in ("SELECT * FROM graph_nodes ORDER BY id", "SELECT * FROM graph_ends ORDER BY 1, 2",
                "SELECT rowid, key, title, body FROM graph_text ORDER BY rowid"):
        assert there.execute(sql) == here.execute(sql) != []
    assert any("mail server 3 back" in str(row) for row in there.execute("SELECT title, body FROM graph_text"))


@pytest.mark.sqlite_only
def test_the_writer_process_does_not_map_the_store_file_and_readers_do(tmp_path: Path) -> None:
    """The writer touches every page it writes: with the file mapped its resident size grew with the store (350 MB
    after 1,000,000 records); searches read through the map."""
    path = tmp_path / "udc.db"
    store = SqliteStore(path)
    with store.writer():
        assert store._writer is not None
        for k in range(3):
            store.submit(page(200, k * 200), run_id=1).result(timeout=60)
            store.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the pages into the file, where the next page reads them
        assert str(path) not in mapped_files(store._writer.pid)
    assert store.execute("SELECT count(*) FROM records")[0][0] == 600
    assert str(path) in mapped_files("self")
    store.close()


@pytest.mark.sqlite_only
def test_checkpoints_start_the_wal_over_under_a_writer_that_never_pauses(tmp_path: Path) -> None:
    """Passive checkpoints alone never catch a busy writer up, so SQLite never starts the WAL over and it grows with
    everything written (2 GB at a million records); the writer's restarts bound it. The same writes without them show
    the growth the test guards against."""
    def biggest_wal(restart_frames: int) -> int:
        path = tmp_path / f"restart-{restart_frames}.db"
        store = SqliteStore(path, write_process=False, autocheckpoint=False, mapped=False)  # the writer process's
        store.run_statements([Statement("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)", ())])
        checkpoints = Checkpointer(str(path), None, store.restart_wal, every=256 << 10, restart_frames=restart_frames)
        insert, biggest = Statement("INSERT INTO t(v) VALUES (?)", [(os.urandom(4000),)] * 4, many=True), 0
        for _ in range(3000):  # 48 MB, one 16 KB transaction after another
            store.run_statements([insert])
            checkpoints.committed(16_000)
            biggest = max(biggest, os.path.getsize(f"{path}-wal"))
        checkpoints.close()
        assert store.execute("SELECT count(*) FROM t") == [(12_000,)]
        store.close()
        return biggest

    never, bounded = biggest_wal(1 << 40), biggest_wal(256)  # (256 frames: 2 MB of 8 KB pages)
    assert never > 40e6, f"the WAL grew to only {never:,} bytes without restarts: the test no longer shows the trap"
    assert bounded < never / 4, f"with restarts the WAL still grew to {bounded:,} bytes (without: {never:,})"
