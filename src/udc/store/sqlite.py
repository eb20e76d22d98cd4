"""Embedded store: one SQLite file in WAL mode, behind the store interface (udc.store.base.Store).

Every page is written in one transaction together with the stream's new position (invariant 1), and an upsert
never replaces a record with an older version of itself (invariant 2): compare the source's cursor value, then
the content hash.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson

from udc.errors import ConfigError, StoreError
from udc.procs import pid_alive
from udc.records import EncodedRecord, Record
from udc.store import cipher, sqlite_graph
from udc.store.copy import OWNER as COPY_OWNER
from udc.store.graph import (
    ENDED_FIELDS,
    RESOLVED_FIELDS,
    STARTED_FIELDS,
    Prepared,
    describe,
    describe_ahead,
    end_rows,
    resolved_times,
)
from udc.store.ledger_rows import BACKFILL_COLUMNS, CHUNK_COLUMNS, StoreLedger, chunk_row
from udc.store.locks import NamedLock, lock_dir
from udc.store.migrations import check_version
from udc.store.newest import plan_upsert
from udc.store.sqlite_graph import (
    GRAPH_ENDS,
    GRAPH_SCHEMA,
    MERGE_TEXT,
    READ_MMAP,
    SqliteGraph,
    index_page,
    text_segments,
    text_tags,
)
from udc.store.types import PageWrite, Statement, UpsertCounts, content_hash, lease_stamp, worker_pid
from udc.store.writer import WriterProcess
from udc.timeutil import utcnow

log = logging.getLogger("udc.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    dataset TEXT NOT NULL, pk TEXT NOT NULL, cursor TEXT NOT NULL, data TEXT NOT NULL, hash BLOB NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, first_run INTEGER NOT NULL, last_run INTEGER NOT NULL,
    links TEXT,  -- the record's own references, [[rel, dst_dataset, dst_pk], ...]: replaced with the record
    UNIQUE (dataset, pk));  -- a rowid table: records are large, and WITHOUT ROWID suits small rows only
CREATE TABLE IF NOT EXISTS state (
    pipeline TEXT NOT NULL, stream TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (pipeline, stream)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, mode TEXT NOT NULL, started_at TEXT NOT NULL,
    finished_at TEXT, status TEXT NOT NULL, pid INTEGER, summary TEXT);
CREATE INDEX IF NOT EXISTS runs_by_pipeline ON runs (pipeline, id);
CREATE TABLE IF NOT EXISTS edges (
    src_dataset TEXT NOT NULL, src_pk TEXT NOT NULL, rel TEXT NOT NULL, dst_dataset TEXT NOT NULL,
    dst_pk TEXT NOT NULL, last_run INTEGER NOT NULL,
    PRIMARY KEY (src_dataset, src_pk, rel, dst_dataset, dst_pk)) WITHOUT ROWID;
-- every link in the graph: a record's own references (records.links) and links stated apart from their source
-- record (e.g. a Jira link seen on the other issue), in one shape
CREATE VIEW IF NOT EXISTS graph_edges AS
    SELECT r.dataset AS src_dataset, r.pk AS src_pk, json_extract(l.value, '$[0]') AS rel,
           json_extract(l.value, '$[1]') AS dst_dataset, json_extract(l.value, '$[2]') AS dst_pk
    FROM records AS r, json_each(r.links) AS l WHERE r.links IS NOT NULL AND r.deleted = 0
    UNION ALL SELECT src_dataset, src_pk, rel, dst_dataset, dst_pk FROM edges;
CREATE TABLE IF NOT EXISTS quarantine (
    dataset TEXT NOT NULL, pk TEXT NOT NULL, reason TEXT NOT NULL, run INTEGER NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (dataset, pk)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS redaction_counts (
    run INTEGER NOT NULL, dataset TEXT NOT NULL, entity TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (run, dataset, entity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS backfills (
    id INTEGER PRIMARY KEY, pipeline TEXT NOT NULL, kind TEXT NOT NULL, tables TEXT NOT NULL,
    range_start TEXT, range_end TEXT NOT NULL, chunk_seconds INTEGER NOT NULL, parallel INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL, offpeak TEXT, tz TEXT, status TEXT NOT NULL, pid INTEGER, error TEXT,
    active_seconds REAL NOT NULL DEFAULT 0, created_at TEXT NOT NULL, started_at TEXT, updated_at TEXT,
    finished_at TEXT);
CREATE INDEX IF NOT EXISTS backfills_by_pipeline ON backfills (pipeline, id);
CREATE TABLE IF NOT EXISTS chunks (
    backfill INTEGER NOT NULL, seq INTEGER NOT NULL, chunk_start TEXT, chunk_end TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0, rows TEXT NOT NULL DEFAULT '{}',
    pages INTEGER NOT NULL DEFAULT 0, errors TEXT NOT NULL DEFAULT '[]', pid INTEGER, not_before TEXT,
    started_at TEXT, finished_at TEXT, seconds REAL NOT NULL DEFAULT 0, worker TEXT, lease_until TEXT,
    PRIMARY KEY (backfill, seq)) WITHOUT ROWID;
"""
# columns added since a table was first created: (table, column, declaration), added to older stores on open
ADDED_COLUMNS = (("chunks", "worker", "TEXT"), ("chunks", "lease_until", "TEXT"))

# What monitoring (udc.store.sqlite_reader) looks up, so that a page costs the same over any length of history: the
# newest run of each pipeline and mode, each pipeline's last success, chunks per status, redaction totals per table.
MONITORING = """
CREATE INDEX IF NOT EXISTS runs_by_mode ON runs (pipeline, mode, id);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (pipeline, status, finished_at);
CREATE INDEX IF NOT EXISTS chunks_by_status ON chunks (backfill, status);
CREATE INDEX IF NOT EXISTS redaction_by_dataset ON redaction_counts (dataset, entity, count);
"""

# Live and deleted records per dataset, moved by each page's write (`_upsert`), so that monitoring reads a few rows
# instead of counting every record (3 s over 300,000 records of 1.5 KB). A store from before it is counted once, in
# the transaction that creates it; a second process doing the same adds nothing (ON CONFLICT DO NOTHING).
COUNTS = """
CREATE TABLE IF NOT EXISTS dataset_counts (
    dataset TEXT PRIMARY KEY, live INTEGER NOT NULL, deleted INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO dataset_counts SELECT dataset, sum(deleted = 0), sum(deleted) FROM records GROUP BY dataset
    ON CONFLICT DO NOTHING;
"""





def _leases_monitoring_graph(conn: sqlite3.Connection) -> None:
    """Version 2: chunk leases (ADDED_COLUMNS), the monitoring indexes, the counts table and the knowledge graph, each
    added only where missing: a store from before versions were kept (udc up to 37ae045, version 0) may have any of
    them already. Records stored before the graph existed join it here, in the migration's transaction."""
    graph_kept = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'graph_nodes'").fetchone()
    for table, column, declaration in ADDED_COLUMNS:
        if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    for statement in _statements(MONITORING + GRAPH_SCHEMA):
        conn.execute(statement)
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'dataset_counts'").fetchone():
        for statement in _statements(COUNTS):
            conn.execute(statement)
    if not graph_kept:
        _index_records(conn)


def _index_records(conn: sqlite3.Connection) -> None:
    """Every live record into the (empty) graph."""
    rows = conn.execute("SELECT dataset, pk, data, links FROM records WHERE deleted = 0 ORDER BY rowid")
    while batch := rows.fetchmany(5000):
        for dataset in {row[0] for row in batch}:
            index_page(conn, dataset, [(pk, data, links) for d, pk, data, links in batch if d == dataset], [])


def _graph_kinds_and_ends(conn: sqlite3.Connection) -> None:
    """Version 3: graph_ends is built again from the nodes, each entry with its dataset kind (so a lookup for some
    tables skips the others' nodes) and none naming people (UNINDEXED_TARGETS); graph_nodes gains `ended` and
    `started`, read from the records that have such a field."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(graph_nodes)")}
    added = [column for column in ("ended", "started") if column not in columns]
    for column in added:
        conn.execute(f"ALTER TABLE graph_nodes ADD COLUMN {column} TEXT")
    if added:
        found = " OR ".join(f"instr(r.data, '\"{name}\"')" for name in (*ENDED_FIELDS, *STARTED_FIELDS))
        rows = conn.execute(f"SELECT n.id, n.dataset, r.data FROM graph_nodes AS n JOIN records AS r "
                            f"ON r.rowid = n.id WHERE {found}")
        times = []  # (ended, started, node), written once the read is done
        while batch := rows.fetchmany(5000):
            for node_id, dataset, data in batch:
                node = describe(dataset, "", orjson.loads(data), ())
                if node.ended or node.started:
                    times.append((node.ended, node.started, node_id))
        conn.executemany("UPDATE graph_nodes SET ended = ?, started = ? WHERE id = ?", times)
    conn.execute("DROP TABLE graph_ends")  # built again: with kinds, without the ends naming people
    conn.execute(GRAPH_ENDS)
    rows = conn.execute("SELECT id, dataset, links FROM graph_nodes WHERE links IS NOT NULL")
    ends = []
    while batch := rows.fetchmany(5000):
        ends += [end for node, dataset, links in batch for end in end_rows(node, dataset, links)]
    ends.sort()
    conn.executemany("INSERT OR IGNORE INTO graph_ends VALUES (?, ?, ?)", ends)


def _graph_resolved(conn: sqlite3.Connection) -> None:
    """Version 4: graph_nodes gains `resolved`, read from the records that have such a field (`trends` counts in
    SQL instead of reading every record)."""
    if "resolved" in {row[1] for row in conn.execute("PRAGMA table_info(graph_nodes)")}:
        return  # created with it (version 2's tables are this version's)
    conn.execute("ALTER TABLE graph_nodes ADD COLUMN resolved TEXT")
    found = " OR ".join(f"instr(r.data, '\"{name}\"')" for name in RESOLVED_FIELDS)
    times = resolved_times(conn.execute("SELECT n.id, r.data FROM graph_nodes AS n JOIN records AS r "
                                        f"ON r.rowid = n.id WHERE {found}"))  # all read before the first write
    conn.executemany("UPDATE graph_nodes SET resolved = ? WHERE id = ?", times)


def _graph_text_tags(conn: sqlite3.Connection) -> None:
    """Version 5: graph_text gains `tags` (sqlite_graph.text_tags), so FTS5 narrows searches by table and time. An
    FTS5 table takes no new column: it is written again, from its own text and the nodes' tables and times."""
    if "tags" in {row[1] for row in conn.execute("PRAGMA table_info(graph_text)")}:
        return  # created with it
    conn.execute("ALTER TABLE graph_text RENAME TO graph_text_old")
    for statement in _statements(GRAPH_SCHEMA):
        conn.execute(statement)
    rows = conn.execute("SELECT t.rowid, t.key, t.title, t.body, n.dataset, n.opened FROM graph_text_old AS t "
                        "JOIN graph_nodes AS n ON n.id = t.rowid")
    while batch := rows.fetchmany(5000):
        conn.executemany("INSERT INTO graph_text (rowid, key, title, body, tags) VALUES (?, ?, ?, ?, ?)",
                         [(*row[:4], text_tags(row[4], row[5])) for row in batch])
    conn.execute("DROP TABLE graph_text_old")


# Each store's schema version is its place in this list (PRAGMA user_version), each step a script or a function of
# the connection, all run in one transaction. Version 1: the tables (IF NOT EXISTS: a store from before versions
# were kept, version 0, is taken as it stands); version 2: see `_leases_monitoring_graph`; 3: `_graph_kinds_and_ends`;
# 4: `_graph_resolved`; 5: `_graph_text_tags`.
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (SCHEMA, _leases_monitoring_graph,
                                                                      _graph_kinds_and_ends, _graph_resolved,
                                                                      _graph_text_tags)

BUSY_MS = 60_000  # how long a connection waits for a lock another process holds
MAX_ROWID = (1 << 63) - 1  # SQLite's largest rowid: "every stored record" in an upsert's lookup


class SqliteStore(SqliteGraph, StoreLedger):
    MARK = "?"

    def __init__(self, path: str | Path, *, key: str | None = None, write_process: bool = True,
                 autocheckpoint: bool = True, mapped: bool = True) -> None:
        """`key`: the store is encrypted with SQLCipher under it (udc.store.cipher). `write_process`: inside
        `writer()`, a child process does the writes (see udc.store.writer). `autocheckpoint=False`: commits never
        checkpoint the WAL; the caller does (the writer process, in a thread). `mapped=False`: no memory map
        (READ_MMAP) — for the writer process, whose resident size would grow with every page of the file it
        touches (350 MB after 1,000,000 records)."""
        self.path = Path(path)
        self._key, self._db = key, cipher.driver(key)
        self.location = str(self.path)
        if self.path.parent and not self.path.parent.exists():
            raise ConfigError(f"store directory {self.path.parent} does not exist", "create it, or fix `store:`")
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._write_process, self._mapped = write_process, mapped
        self._autocheckpoint = autocheckpoint
        self._new_keys: dict[str, bool] = {}  # per dataset: whether its last page held only new keys
        self._writer: WriterProcess | None = None
        self._writer_users = 0
        self._writer_lock = threading.Lock()
        with self._translated():
            create_private(self.path)
        self._migrate()

    def _migrate(self) -> None:
        """Create the tables, or bring an older store up to this udc's schema version; a newer one is refused. The
        version is read again under the write lock: another process may have migrated meanwhile."""
        with self._translated():
            conn = self._conn()
            check_version(_version(conn), len(MIGRATIONS), self.location)
            if _version(conn) == len(MIGRATIONS):
                return
            with self._transaction() as conn:
                found = _version(conn)
                check_version(found, len(MIGRATIONS), self.location)
                for step in MIGRATIONS[found:]:
                    if callable(step):
                        step(conn)
                    else:
                        for statement in _statements(step):
                            conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    def schema_version(self) -> int:
        with self._translated():
            return _version(self._conn())

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._db.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            cipher.unlock(conn, self._key)
            # 8 KB pages hold three ~2 KB records where 4 KB pages hold one: a third less to write (new files only)
            conn.execute("PRAGMA page_size=8192")
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL is crash-safe in WAL mode against a killed process: a commit is either whole or absent.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
            conn.execute("PRAGMA cache_size=-4096")  # 4 MB: keeps the (dataset, pk) index hot during big syncs
            if self._mapped:
                conn.execute(READ_MMAP)
            # fewer, larger checkpoints (each one syncs the file)
            conn.execute(f"PRAGMA wal_autocheckpoint={8192 if self._autocheckpoint else 0}")
            self._local.conn = conn
        return conn

    @contextmanager
    def writer(self) -> Iterator[None]:
        """While open, one child process on another core does every write (nested uses share it)."""
        if not self._write_process:
            yield
            return
        with self._writer_lock:
            if self._writer_users == 0:
                self._writer = WriterProcess("udc.store.sqlite_writer", (str(self.path), self._key))
            self._writer_users += 1
        try:
            yield
        finally:
            with self._writer_lock:
                self._writer_users -= 1
                if self._writer_users == 0 and self._writer is not None:
                    self._writer.close()
                    self._writer = None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def lock(self, name: str) -> NamedLock:
        """A named lock (`pipeline-x`, `backfill-3`): a file in the `.locks` folder beside the database."""
        return NamedLock(self.path, name)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """SQLite's errors leave the store as StoreErrors that say what happened to it, and the fix."""
        try:
            yield
        except cipher.errors() as exc:
            if self._key is not None and "not a database" in str(exc):
                raise cipher.wrong_key(self.path) from exc
            raise store_failure(exc, self.path) from exc

    # -- runs -------------------------------------------------------------------------------------------------
    def begin_run(self, pipeline: str, mode: str) -> int:
        return self._modify(Statement("INSERT INTO runs (pipeline, mode, started_at, status, pid) "
                                      "VALUES (?, ?, ?, 'running', ?)", (pipeline, mode, utcnow().isoformat(),
                                                                         os.getpid())))

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None:
        written = sum(stream.get("rows", 0) for stream in summary.get("streams", ()))
        with self._translated():
            many = written >= sqlite_graph.MERGE_AFTER_ROWS or \
                text_segments(self._conn()) >= sqlite_graph.MERGE_AFTER_SEGMENTS
        merge = [Statement(MERGE_TEXT, ())] if many else []
        with self._unmapped() if many else nullcontext():
            self._modify(Statement("UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                                   (utcnow().isoformat(), status, orjson.dumps(summary).decode(), run_id)), *merge)

    @contextmanager
    def _unmapped(self) -> Iterator[None]:
        """This thread's connection without its memory map meanwhile: the merge reads the whole text index, and
        every mapped page it reads would stay in the process's resident size (+20 MB after 100,000 records)."""
        with self._translated():
            conn = self._conn()
            conn.execute("PRAGMA mmap_size = 0")  # also unmaps what earlier reads had mapped
        try:
            yield
        finally:
            if self._mapped:
                with self._translated():
                    conn.execute(READ_MMAP)

    def runs(self, pipeline: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
        sql = "SELECT id, pipeline, mode, started_at, finished_at, status, pid, summary FROM runs"
        args: tuple[Any, ...] = ()
        if pipeline:
            sql, args = sql + " WHERE pipeline = ?", (pipeline,)
        with self._translated():
            rows = self._conn().execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
        keys = ("id", "pipeline", "mode", "started_at", "finished_at", "status", "pid", "summary")
        result = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["summary"] = orjson.loads(item["summary"]) if item["summary"] else None
            if item["status"] == "running" and not pid_alive(item["pid"]):
                item["status"] = "crashed"
            result.append(item)
        return result

    # -- backfill ledger ----------------------------------------------------------------------------------------
    def create_backfill(self, spec: dict[str, Any], chunks: list[tuple[str | None, str]]) -> int:
        """Record a backfill and its chunks (all pending) in one transaction; returns its id."""
        now = utcnow().isoformat()
        row = {**spec, "tables": orjson.dumps(spec.get("tables", [])).decode(), "created_at": now,
               "status": spec.get("status", "queued")}
        names = [c for c in BACKFILL_COLUMNS if c in row and c != "id"]
        return self._modify(
            Statement(f"INSERT INTO backfills ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                      [row[c] for c in names]),
            # the backfill just inserted has the greatest id: the transaction holds the write lock
            Statement("INSERT INTO chunks (backfill, seq, chunk_start, chunk_end) "
                      "VALUES ((SELECT max(id) FROM backfills), ?, ?, ?)",
                      [(seq, a, b) for seq, (a, b) in enumerate(chunks, 1)], many=True))

    def claim_chunk(self, backfill_id: int, worker: str, lease_seconds: float) -> dict[str, Any] | None:
        """Give `worker` one chunk for `lease_seconds` (see `Ledger.claim_chunk`) in one transaction (BEGIN
        IMMEDIATE), so workers sharing a backfill never take the same chunk: a running chunk whose lease ran out
        first, else a pending one whose retry time (`not_before`, an ISO UTC time) has come; newest first. It runs
        on this connection, not in the writer process (whose answers are counts and rowids), after the writer's
        transaction in hand: a chunk change posted with `wait=False` may not be committed yet, so post with
        `wait=True` what a claim must see."""
        now = utcnow()
        with self._transaction() as conn:
            pick = conn.execute(
                "SELECT seq, status, worker FROM chunks WHERE backfill = ? AND ("
                "(status = 'running' AND (lease_until IS NULL OR lease_until < ?)) OR "
                "(status = 'pending' AND (not_before IS NULL OR not_before <= ?))) "
                "ORDER BY status = 'running' DESC, seq DESC LIMIT 1",
                (backfill_id, lease_stamp(now), now.isoformat())).fetchone()
            if pick is None:
                return None
            row = conn.execute(
                "UPDATE chunks SET status = 'running', attempts = attempts + 1, pid = ?, worker = ?, lease_until = ?, "
                f"started_at = ? WHERE backfill = ? AND seq = ? RETURNING {', '.join(CHUNK_COLUMNS)}",
                (worker_pid(worker), worker, lease_stamp(now + timedelta(seconds=lease_seconds)), now.isoformat(),
                 backfill_id, pick[0])).fetchone()
        item = chunk_row(row)
        item["abandoned_by"] = (pick[2] or "?") if pick[1] == "running" else None
        return item

    def renew_chunks(self, backfill_id: int, worker: str, seqs: list[int], lease_seconds: float) -> list[int]:
        if not seqs:
            return []
        until = lease_stamp(utcnow() + timedelta(seconds=lease_seconds))
        with self._transaction() as conn:
            rows = conn.execute(
                f"UPDATE chunks SET lease_until = ? WHERE backfill = ? AND worker = ? AND status = 'running' "
                f"AND seq IN ({','.join('?' * len(seqs))}) RETURNING seq", (until, backfill_id, worker, *seqs)
            ).fetchall()
        return sorted(seq for (seq,) in rows)

    def _modify(self, *statements: Statement, wait: bool = True) -> int:
        """Run statements in one transaction; the first one's rowid. While the writer process runs, it runs them
        too: one writer, so pages and ledger updates never wait on each other's locks (SQLite's busy wait sleeps).
        `wait=False` hands them to the writer process and goes on (0): they commit in order, before anything handed
        over later, so a later write that waits finds them done; a failure is logged (it would fail that write too).
        Without the writer process they run at once."""
        writer = self._writer
        if writer is not None and (future := writer.submit(statements)) is not None:
            if wait:
                return future.result()
            future.add_done_callback(_log_failure)
            return 0
        return self.run_statements(statements)

    def run_statements(self, statements: Sequence[Statement]) -> int:
        with self._transaction() as conn:
            cursors = [conn.executemany(st.sql, st.args) if st.many else conn.execute(st.sql, st.args)
                       for st in statements]
        return int(cursors[0].lastrowid or 0)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on this thread's connection: committed whole, or rolled back."""
        with self._write_lock, self._translated():
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite rolls back by itself after some errors (a failed disk write)
                    conn.execute("ROLLBACK")
                raise

    # -- pages --------------------------------------------------------------------------------------------------
    def submit(self, page: PageWrite, run_id: int) -> Future[UpsertCounts]:
        """Store one page and move its stream's state, in a single transaction; the future resolves once both are
        committed. Inside `writer()` the child process stores it while the caller goes on (reading the next page)."""
        page.encode()
        writer = self._writer
        if writer is not None:
            # The graph's description of the page is made here, not in the writer process: the writer is the sync's
            # slowest stage (it paid a third of its CPU for this), while this process waits on it and the source.
            try:
                page.described = describe_ahead(page.dataset, page.encoded or [])
            except Exception:  # a record the graph cannot read fails its page in the writer, alone, with its error
                page.described = None
            if (future := writer.submit((page, run_id))) is not None:
                return future
        future = Future()
        future.set_result(self._write(page, run_id, page.described))
        return future

    def write(self, page: PageWrite, run_id: int) -> UpsertCounts:
        """Store one page and move its stream's state, in a single transaction."""
        return self.submit(page, run_id).result()

    def write_described(self, page: PageWrite, run_id: int, _: object = None) -> UpsertCounts:
        """Store one page in a single transaction, here (the writer process's call): its records come described for
        the graph (`page.described`, by `submit`) when the syncing process sent it."""
        return self._write(page, run_id, page.described)

    def _write(self, page: PageWrite, run_id: int, ahead: Mapping[str, Prepared] | None = None) -> UpsertCounts:
        counts = UpsertCounts()
        encoded = page.encoded or []
        with self._transaction() as conn:
            if encoded or page.tombstones:
                written, replaced, ids = self._upsert(conn, page.dataset, encoded, page.tombstones, run_id, counts)
                index_page(conn, page.dataset, written, replaced, ahead, ids)  # the graph moves with its records
            if page.edges:
                conn.executemany("INSERT INTO edges VALUES (?, ?, ?, ?, ?, ?) "
                                 "ON CONFLICT DO UPDATE SET last_run = excluded.last_run",
                                 [(*edge, run_id) for edge in page.edges])
            now = utcnow().isoformat()
            if encoded and conn.execute("SELECT 1 FROM quarantine WHERE dataset = ? LIMIT 1",
                                        (page.dataset,)).fetchone():
                # a record stored whole at last is no longer quarantined
                conn.executemany("DELETE FROM quarantine WHERE dataset = ? AND pk = ?",
                                 [(page.dataset, pk) for pk, _, _, _ in encoded])
            if page.quarantined:
                conn.executemany("INSERT OR REPLACE INTO quarantine VALUES (?, ?, ?, ?, ?)",
                                 [(page.dataset, pk, reason, run_id, now) for pk, reason in page.quarantined])
            if page.redaction_counts:
                conn.executemany(
                    "INSERT INTO redaction_counts VALUES (?, ?, ?, ?) "
                    "ON CONFLICT DO UPDATE SET count = count + excluded.count",
                    [(run_id, page.dataset, entity, n) for entity, n in page.redaction_counts.items()])
            if page.state:
                pipeline, stream, value = page.state
                conn.execute("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?)",
                             (pipeline, stream, orjson.dumps(value).decode(), now))
        return counts

    def _upsert(self, conn: sqlite3.Connection, dataset: str, encoded: list[EncodedRecord],
                tombstones: list[tuple[str, str]], run_id: int, counts: UpsertCounts
                ) -> tuple[list[tuple[str, str | bytes, str | None]], list[str], dict[str, int]]:
        """Returns the records written (pk, JSON, links), the keys whose stored version they or a tombstone
        replaced, and the rowids of the records written when known (all new), for the graph."""
        # in key order the inserts walk the (dataset, pk) index instead of jumping about it (a stable sort: a key
        # twice in one page keeps its order)
        rows = sorted(((pk, cur, data, content_hash(data), links) for pk, cur, data, links in encoded),
                      key=itemgetter(0))
        page_keys = {row[0] for row in rows}
        written: list[tuple[str, str | bytes, str | None]] = []  # what the graph indexes
        ids: dict[str, int] = {}  # the rowids of records written, when known without a lookup
        top = MAX_ROWID  # the records stored before this page
        added = 0  # new keys inserted at once
        if rows and self._new_keys.get(dataset, True) and len(page_keys) == len(rows):
            # On a first load or a backfill of new days every key is new: insert them all, skipping keys already
            # stored, then look up only those. A lookup of every key first cost a third of the writer's time.
            top = conn.execute("SELECT max(rowid) FROM records").fetchone()[0] or 0
            before = conn.total_changes
            conn.executemany("INSERT INTO records (dataset, pk, cursor, data, hash, first_run, last_run, links) "
                             "VALUES (?, ?, ?, CAST(? AS TEXT), ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                             [(dataset, pk, cur, data, digest, run_id, run_id, links)
                              for pk, cur, data, digest, links in rows])
            added = conn.total_changes - before
            counts.inserted += added
            if added == len(rows):
                written = [(pk, data, links) for pk, _, data, _, links in rows]
                # each took the next rowid (SQLite's rule below the largest possible one), so the graph knows its
                # nodes' ids without looking the keys up again (a sixth of what it cost the writer besides FTS5)
                if conn.execute("SELECT max(rowid) FROM records").fetchone()[0] == top + added:
                    ids = {row[0]: top + i for i, row in enumerate(rows, 1)}
                rows, page_keys = [], set()
        keys = list(page_keys | {pk for pk, _ in tombstones})
        existing: dict[str, tuple[str, bytes, int]] = {}
        for start in range(0, len(keys), 900):
            chunk = keys[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for pk, cur, digest, deleted in conn.execute(
                    f"SELECT pk, cursor, hash, deleted FROM records WHERE dataset = ? AND pk IN ({marks}) "
                    "AND rowid <= ?", (dataset, *chunk, top)):
                existing[pk] = (cur, digest, deleted)
        if top != MAX_ROWID and rows:  # the rest were inserted above
            written = [(pk, data, links) for pk, _, data, _, links in rows if pk not in existing]
            rows = [row for row in rows if row[0] in existing]
        stored, dead = len(existing), sum(old[2] for old in existing.values())  # the page's keys, before it
        # a page of stored keys (a re-read) makes the next page look its keys up first: one probe each, not two
        self._new_keys[dataset] = not existing
        inserts, updates, touches = plan_upsert(dataset, rows, tombstones, existing, run_id, counts)
        # for the graph: records written (a tombstone inserted has an empty hash, one updated no data), the keys whose
        # stored version leaves it, and those this page deletes after any version of theirs on it
        written += [(i[1], i[3], i[7]) for i in inserts if i[4]] + [(u[6], u[1], u[4]) for u in updates
                                                                   if u[1] is not None]
        replaced: list[str] = [u[6] for u in updates]
        gone = {u[6] for u in updates if u[1] is None}
        # rows inserted for tombstones carry deleted=1; distinguish them by an empty hash
        conn.executemany("INSERT INTO records (dataset, pk, cursor, data, hash, deleted, first_run, last_run, links) "
                         "VALUES (?, ?, ?, CAST(? AS TEXT), ?, CASE WHEN ?5 = X'' THEN 1 ELSE 0 END, ?, ?, ?)", inserts)
        conn.executemany(
            "UPDATE records SET cursor = ?, data = coalesce(CAST(?2 AS TEXT), data), hash = coalesce(?3, hash), "
            "deleted = (?2 IS NULL), last_run = ?, links = ? WHERE dataset = ? AND pk = ?", updates)
        conn.executemany("UPDATE records SET last_run = ? WHERE dataset = ? AND pk = ?", touches)
        # `existing` now holds the page's keys as it leaves them: the dataset's counts move by the difference (COUNTS)
        dead = sum(old[2] for old in existing.values()) - dead
        live = added + len(existing) - stored - dead
        if live or dead:
            conn.execute("INSERT INTO dataset_counts VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET "
                         "live = live + excluded.live, deleted = deleted + excluded.deleted", (dataset, live, dead))
        return [w for w in written if w[0] not in gone] if gone else written, replaced, ids

    # -- copies between stores (udc.store.copy) -------------------------------------------------------------
    def table_columns(self, table: str) -> tuple[str, ...]:
        with self._translated():
            return tuple(row[1] for row in self._conn().execute(f"PRAGMA table_info({table})"))

    def read_rows(self, table: str, columns: Sequence[str], keys: Sequence[str], after: Sequence[Any] | None,
                  limit: int) -> list[tuple[Any, ...]]:
        where = f"WHERE ({', '.join(keys)}) > ({', '.join('?' * len(keys))}) " if after is not None else ""
        with self._translated():
            return self._conn().execute(f"SELECT {', '.join(columns)} FROM {table} {where}ORDER BY "
                                        f"{', '.join(keys)} LIMIT ?", (*(after or ()), limit)).fetchall()

    def write_rows(self, table: str, columns: Sequence[str], keys: Sequence[str], rows: list[tuple[Any, ...]],
                   position: tuple[str, dict[str, Any]]) -> None:
        self._modify(Statement(f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) "
                               f"VALUES ({', '.join('?' * len(columns))})", rows, many=True),
                     Statement("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?)",
                               (COPY_OWNER, position[0], orjson.dumps(position[1]).decode(), utcnow().isoformat())))

    def copy_finished(self) -> None:
        """The copied records counted and put in the graph afresh (a copied row is written whole, not through a page's
        upsert, and its rowid, the graph's node id, is new); ids go on after the greatest one stored by themselves."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM dataset_counts")
            for statement in _statements(COUNTS):
                conn.execute(statement)
            for table in ("graph_nodes", "graph_ends", "graph_text"):
                conn.execute(f"DELETE FROM {table}")
            _index_records(conn)

    # -- reads --------------------------------------------------------------------------------------------------
    def iter_records(self, dataset: str, include_deleted: bool = True) -> Iterator[tuple[str, Record, bool]]:
        sql = "SELECT pk, data, deleted FROM records WHERE dataset = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        with self._translated():
            for pk, data, deleted in self._conn().execute(sql + " ORDER BY pk", (dataset,)):
                yield pk, orjson.loads(data), bool(deleted)

    def has_dataset(self, dataset: str) -> bool:
        with self._translated():
            row = self._conn().execute("SELECT 1 FROM records WHERE dataset = ? LIMIT 1", (dataset,)).fetchone()
        return row is not None

    def live_keys(self, dataset: str, field: str) -> list[tuple[str, str, str]]:
        with self._translated():
            rows = self._conn().execute(
                "SELECT pk, cursor, coalesce(json_extract(data, ?), '') FROM records WHERE dataset = ? AND deleted = 0",
                (f"$.{field}", dataset)).fetchall()
        return [(pk, cursor, str(value)) for pk, cursor, value in rows]

    def dataset_counts(self, prefix: str = "") -> dict[str, tuple[int, int]]:
        """(live, deleted) records per dataset."""
        with self._translated():
            rows = self._conn().execute(
                "SELECT dataset, sum(deleted = 0), sum(deleted) FROM records WHERE dataset LIKE ? GROUP BY dataset",
                (prefix + "%",)).fetchall()
        return {d: (int(live), int(dead)) for d, live, dead in rows}

    def quarantined(self, dataset_prefix: str = "") -> list[tuple[str, str, str]]:
        with self._translated():
            return self._conn().execute("SELECT dataset, pk, reason FROM quarantine WHERE dataset LIKE ? ORDER BY at",
                                        (dataset_prefix + "%",)).fetchall()

    def redaction_totals(self, dataset_prefix: str = "") -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        with self._translated():
            rows = self._conn().execute(
                "SELECT dataset, entity, sum(count) FROM redaction_counts WHERE dataset LIKE ? GROUP BY 1, 2",
                (dataset_prefix + "%",)).fetchall()
        for dataset, entity, n in rows:
            totals.setdefault(dataset, {})[entity] = int(n)
        return totals

    def edge_count(self) -> int:
        with self._translated():
            return int(self._conn().execute("SELECT count(*) FROM graph_edges").fetchone()[0])

    def restart_wal(self) -> None:
        """Copy the WAL back and start it over (the writer process's call, between its commits). It waits for readers
        to leave the WAL a second at most: a long query beside the sync costs this restart, not the sync a minute."""
        conn = self._conn()
        conn.execute("PRAGMA busy_timeout=1000")
        try:
            conn.execute("PRAGMA wal_checkpoint(RESTART)")
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read-only query for users and tools."""
        with self._translated():
            return self._conn().execute(sql, args).fetchall()


# SQLite's words for what went wrong with the store's file, what that means, and what to do about it
_FAILURES = (
    ("disk is full", "the disk holding the store is full",
     "free space on it, or point `store:` at a larger disk, then run again"),
    ("disk i/o error", "the store's disk failed a read or write",
     "check the disk has space and is healthy, and this process's file size limit (`ulimit -f`), then run again"),
    ("readonly", "the store is read-only to this process",
     "give this user write access to the file and its directory (SQLite keeps -wal and -shm files beside it)"),
    ("malformed", "the store file is damaged",
     "move it aside and sync into a new one, or restore it from a backup"),
    ("not a database", "the store path holds a file that is not a SQLite database",
     "point `store:` at a new path, or move the file aside (an encrypted store needs its key: ?key=env:NAME)"),
    ("locked", "another process held the store's write lock for over a minute",
     "find it (`udc status` shows running syncs; or a tool with the file open), then run again"),
)


def create_private(path: Path) -> None:
    """Create a new database file readable by its owner only (0600). SQLite creates the WAL, shared-memory and
    journal files with the database's own mode, so they are private too; an existing file is left as it is (`udc
    status` warns when it is not)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:  # worded as SQLite would, so the message and fix are the usual ones
        said = {errno.ENOSPC: "disk is full", errno.EACCES: "readonly folder", errno.EROFS: "readonly file system"}
        reason = said.get(exc.errno or 0) or exc.strerror
        raise sqlite3.OperationalError(f"unable to create the database file: {reason}") from exc


def exposed_files(path: Path) -> list[tuple[Path, int]]:
    """The store's files (lock folder included) that users other than the owner may read or write, with their
    modes: records, cursors and the run history are the organisation's data."""
    files = [*sqlite_files(path), lock_dir(path), *(lock_dir(path).glob("*.lock") if lock_dir(path).is_dir() else ())]
    modes = [(file, file.stat().st_mode & 0o777) for file in files if file.exists()]
    return [(file, mode) for file, mode in modes if mode & 0o077]


def sqlite_files(path: Path) -> tuple[Path, Path, Path]:
    """A database's files: the database, and the write-ahead log and shared memory beside it in WAL mode."""
    return path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")


def store_failure(error: Exception, path: str | Path | None = None) -> StoreError:
    """A SQLite error as the user needs it: what happened to the store, where, and the fix. Every write is a
    transaction, so nothing was half-written: a sync run again resumes after the last stored page."""
    said = str(error)
    where = f" ({path})" if path else ""
    what, fix = next(((what, fix) for words, what, fix in _FAILURES if words in said.lower()),
                     ("the store could not be written", "run again; if it keeps failing, check the disk and the file"))
    return StoreError(f"{what}{where}: SQLite said \"{said}\"", f"{fix}: a sync resumes after the last stored page")


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _statements(script: str) -> Iterator[str]:
    """A script's statements one by one (executescript would commit the transaction around them)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""



def _log_failure(future: Future[int]) -> None:
    if (error := future.exception()) is not None:
        log.error("a change to the store was not written: %s", error)


__all__ = ["SqliteStore", "exposed_files", "sqlite_files", "store_failure"]
