"""The ledger's tables as both stores keep them: their columns, a row as a dict (JSON columns decoded), and the
monitoring reads whose SQL is the same in both (runs, backfills and chunks by id), which each reader inherits with its
own `_all` and parameter mark (`?` in SQLite, `%s` in psycopg)."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

RUN_COLUMNS = ("id", "pipeline", "mode", "started_at", "finished_at", "status", "pid", "summary")
BACKFILL_COLUMNS = ("id", "pipeline", "kind", "tables", "range_start", "range_end", "chunk_seconds", "parallel",
                    "max_attempts", "offpeak", "tz", "status", "pid", "error", "active_seconds", "created_at",
                    "started_at", "updated_at", "finished_at")
CHUNK_COLUMNS = ("backfill", "seq", "chunk_start", "chunk_end", "status", "attempts", "rows", "pages", "errors", "pid",
                 "not_before", "started_at", "finished_at", "seconds", "worker", "lease_until")
SELECT_RUNS = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs"
_BACKFILLS = f"SELECT {', '.join(BACKFILL_COLUMNS)} FROM backfills"
_CHUNKS = f"SELECT {', '.join(CHUNK_COLUMNS)} FROM chunks"


def run_row(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(RUN_COLUMNS, row, strict=True))
    item["summary"] = orjson.loads(item["summary"]) if item["summary"] else None
    return item


def backfill_row(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(BACKFILL_COLUMNS, row, strict=True))
    item["tables"] = orjson.loads(item["tables"])
    return item


def chunk_row(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(CHUNK_COLUMNS, row, strict=True))
    item["rows"], item["errors"] = orjson.loads(item["rows"]), orjson.loads(item["errors"])
    return item


class LedgerReads:
    """Runs, backfills and chunks for `udc serve` (udc.store.reader.StoreReader), newest first, a page at a time."""

    MARK: ClassVar[str]  # the driver's parameter mark

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _where(self, pipeline: str | None, before: int | None) -> tuple[str, tuple[Any, ...]]:
        clauses: list[str] = []
        args: list[Any] = []
        if pipeline is not None:
            clauses, args = [*clauses, f"pipeline = {self.MARK}"], [*args, pipeline]
        if before is not None:
            clauses, args = [*clauses, f"id < {self.MARK}"], [*args, before]
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(args)

    def runs(self, pipeline: str | None = None, limit: int = 50, before: int | None = None) -> list[dict[str, Any]]:
        where, args = self._where(pipeline, before)
        return [run_row(row) for row in self._all(f"{SELECT_RUNS}{where} ORDER BY id DESC LIMIT {self.MARK}",
                                                  (*args, limit))]

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._all(f"{SELECT_RUNS} WHERE id = {self.MARK}", (run_id,))
        return run_row(rows[0]) if rows else None

    def runs_after(self, run_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        return [run_row(row) for row in self._all(f"{SELECT_RUNS} WHERE id > {self.MARK} ORDER BY id LIMIT {self.MARK}",
                                                  (run_id, limit))]

    def backfills(self, pipeline: str | None = None, limit: int = 50, before: int | None = None
                  ) -> list[dict[str, Any]]:
        where, args = self._where(pipeline, before)
        return [backfill_row(row) for row in self._all(f"{_BACKFILLS}{where} ORDER BY id DESC LIMIT {self.MARK}",
                                                       (*args, limit))]

    def backfill(self, backfill_id: int) -> dict[str, Any] | None:
        rows = self._all(f"{_BACKFILLS} WHERE id = {self.MARK}", (backfill_id,))
        return backfill_row(rows[0]) if rows else None

    def chunks(self, backfill_id: int, first_seq: int = 1, limit: int = 2000) -> list[dict[str, Any]]:
        mark = self.MARK
        rows = self._all(f"{_CHUNKS} WHERE backfill = {mark} AND seq >= {mark} ORDER BY seq LIMIT {mark}",
                         (backfill_id, first_seq, limit))
        return [chunk_row(row) for row in rows]

    def chunks_in(self, backfill_id: int, status: str, limit: int = 100) -> list[dict[str, Any]]:
        mark = self.MARK
        rows = self._all(f"{_CHUNKS} WHERE backfill = {mark} AND status = {mark} ORDER BY seq LIMIT {mark}",
                         (backfill_id, status, limit))
        return [chunk_row(row) for row in rows]


__all__ = ["BACKFILL_COLUMNS", "CHUNK_COLUMNS", "RUN_COLUMNS", "SELECT_RUNS", "LedgerReads", "backfill_row",
           "chunk_row", "run_row"]
