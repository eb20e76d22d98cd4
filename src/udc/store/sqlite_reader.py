"""The monitoring read interface (udc.store.reader) over a SQLite store, on a read-only connection.

The connection is opened with `mode=ro`: it cannot write, create the file or change its schema, and in WAL mode its
reads never block the writer (nor wait for it). One connection serves every thread of the server, one query at a
time; each query is small (see the indexes in udc.store.sqlite).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from udc.errors import ConfigError, NoStoreYet, StoreError
from udc.store import cipher
from udc.store.ledger_rows import LedgerReads, run_row
from udc.store.migrations import check_version, older_store
from udc.store.reader import RUN_MODES
from udc.store.sqlite import MIGRATIONS, store_failure
from udc.store.sqlite_graph import READ_MMAP, SqliteGraph


class SqliteReader(SqliteGraph, LedgerReads):
    MARK = "?"
    RUN_HOST = "NULL"  # a SQLite store's runs are all on its one host

    def __init__(self, path: str | Path, *, key: str | None = None) -> None:
        """`key`: the store is encrypted with SQLCipher under it (udc.store.cipher)."""
        self.path = Path(path).resolve()
        self._key = key
        self.location = str(self.path)
        if not self.path.is_file():
            raise NoStoreYet(f"there is no store at {self.path} yet: nothing has been synced",
                              "run `udc sync --pipeline P` first (a relative `store:` path is relative to the config "
                              "file's folder)")
        self._lock = threading.Lock()
        self._counted = False  # whether the store keeps dataset_counts (udc.store.sqlite.COUNTS)
        self._version = len(MIGRATIONS)  # the store's, read below
        try:
            self.connection: sqlite3.Connection = cipher.driver(key).connect(f"{self.path.as_uri()}?mode=ro", uri=True,
                                                         check_same_thread=False, isolation_level=None)
            cipher.unlock(self.connection, key)
            self.connection.execute("PRAGMA busy_timeout=5000")
            self.connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a wrong key fails here
            self.connection.execute(READ_MMAP)
            self._version = int(self.connection.execute("PRAGMA user_version").fetchone()[0])
        except cipher.errors() as exc:
            raise self._failure(exc) from exc
        try:
            check_version(self._version, len(MIGRATIONS), self.location)
        except ConfigError:
            self.connection.close()
            raise

    def _failure(self, exc: Exception) -> StoreError | ConfigError:
        if self._key is not None and "not a database" in str(exc):
            return cipher.wrong_key(self.path)
        # An older store is read as it is (monitoring reads what every version has); a query that needs what a
        # later version added says so instead of SQLite's "no such column".
        if self._version < len(MIGRATIONS) and "no such" in str(exc):
            return older_store(self._version, self.location)
        return store_failure(exc, self.path)

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                rows: list[tuple[Any, ...]] = self.connection.execute(sql, args).fetchall()
                return rows
            except cipher.errors() as exc:
                raise self._failure(exc) from exc

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The graph's reads (udc.store.sqlite_graph) on this read-only connection, one at a time like the rest."""
        return self._all(sql, tuple(args))

    def close(self) -> None:
        with self._lock:
            self.connection.close()

    # -- runs -----------------------------------------------------------------------------------------------------
    def last_runs(self, pipelines: list[str]) -> list[dict[str, Any]]:
        if not pipelines:
            return []
        pairs = [(p, mode) for p in pipelines for mode in RUN_MODES]
        newest = " UNION ALL ".join(["SELECT max(id) FROM runs WHERE pipeline = ? AND mode = ?"] * len(pairs))
        rows = self._all(f"{self.select_runs} WHERE id IN ({newest}) ORDER BY id DESC",
                         tuple(v for pair in pairs for v in pair))
        return [run_row(row) for row in rows]

    def last_success(self, pipelines: list[str]) -> dict[str, str]:
        if not pipelines:
            return {}
        each = " UNION ALL ".join(["SELECT ?, (SELECT max(finished_at) FROM runs WHERE status = 'succeeded' "
                                   "AND pipeline = ?)"] * len(pipelines))
        return {p: at for p, at in self._all(each, tuple(p for p in pipelines for _ in (0, 1))) if at}

    # -- state ----------------------------------------------------------------------------------------------------
    def states(self, owners: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        result: dict[str, dict[str, dict[str, Any]]] = {owner: {} for owner in owners}
        if owners:
            for owner, stream, value in self._all(f"SELECT pipeline, stream, value FROM state WHERE pipeline IN "
                                                  f"({', '.join('?' * len(owners))}) ORDER BY 1, 2", tuple(owners)):
                result[owner][stream] = orjson.loads(value)
        return result

    # -- backfills ------------------------------------------------------------------------------------------------
    def chunk_counts(self, backfill_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
        sql, args = "SELECT backfill, status, count(*) FROM chunks", tuple(backfill_ids or ())
        if backfill_ids is not None:
            if not backfill_ids:
                return {}
            sql += f" WHERE backfill IN ({', '.join('?' * len(backfill_ids))})"
        counts: dict[int, dict[str, int]] = {}
        for backfill, status, n in self._all(sql + " GROUP BY 1, 2", args):
            counts.setdefault(backfill, {})[status] = n
        return counts

    # -- records --------------------------------------------------------------------------------------------------
    def dataset_counts(self, prefix: str = "") -> dict[str, tuple[int, int]]:
        """From the counts the store keeps as it writes; a store no udc that keeps them has opened yet is counted."""
        if self._counted or self._all("SELECT 1 FROM sqlite_master WHERE name = 'dataset_counts'"):
            self._counted = True
            rows = self._all("SELECT dataset, live, deleted FROM dataset_counts WHERE dataset >= ? AND dataset < ? "
                             "AND live + deleted > 0", _prefixed(prefix))
        else:
            rows = self._all("SELECT dataset, sum(CASE WHEN deleted = 0 THEN 1 ELSE 0 END), sum(deleted) "
                             "FROM records WHERE dataset >= ? AND dataset < ? GROUP BY dataset", _prefixed(prefix))
        return {dataset: (int(live), int(dead)) for dataset, live, dead in rows}

    def quarantined(self, prefix: str = "", limit: int = 100) -> list[tuple[str, str, str]]:
        rows = self._all("SELECT dataset, pk, reason FROM quarantine WHERE dataset >= ? AND dataset < ? "
                         "ORDER BY dataset, pk LIMIT ?", (*_prefixed(prefix), limit))
        return [(dataset, pk, reason) for dataset, pk, reason in rows]

    def quarantine_counts(self) -> dict[str, int]:
        return dict(self._all("SELECT dataset, count(*) FROM quarantine GROUP BY dataset"))

    def redaction_totals(self, prefix: str = "") -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        for dataset, entity, n in self._all("SELECT dataset, entity, sum(count) FROM redaction_counts "
                                            "WHERE dataset >= ? AND dataset < ? GROUP BY 1, 2", _prefixed(prefix)):
            totals.setdefault(dataset, {})[entity] = int(n)
        return totals



def _prefixed(prefix: str) -> tuple[str, str]:
    """The range of names starting with `prefix`, as an index can seek it (LIKE cannot: it ignores case)."""
    return (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)) if prefix else ("", "\U0010ffff")


__all__ = ["SqliteReader"]
