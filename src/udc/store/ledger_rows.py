"""The ledger's tables as both stores keep them: their columns, a row as a dict (JSON columns decoded), and what
both stores do in the same SQL — the ledger's state, backfill and chunk methods (StoreLedger, which each store
inherits) and the monitoring reads (LedgerReads, which each reader inherits), with the driver's parameter mark (`?` in
SQLite, `%s` in psycopg)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import orjson

from udc.store.types import PageWrite, Statement, UpsertCounts
from udc.timeutil import utcnow

RUN_COLUMNS = ("id", "pipeline", "mode", "started_at", "finished_at", "status", "pid", "summary", "host")
BACKFILL_COLUMNS = ("id", "pipeline", "kind", "tables", "range_start", "range_end", "chunk_seconds", "parallel",
                    "max_attempts", "offpeak", "tz", "status", "pid", "error", "active_seconds", "created_at",
                    "started_at", "updated_at", "finished_at")
CHUNK_COLUMNS = ("backfill", "seq", "chunk_start", "chunk_end", "status", "attempts", "rows", "pages", "errors", "pid",
                 "not_before", "started_at", "finished_at", "seconds", "worker", "lease_until")
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


class StoreLedger:
    """State, backfills and chunks (udc.store.base.Ledger) as both stores run them: reads on the store's own
    connection (`_rows`), changes through its `_modify` (in order with the pages while its writer runs)."""

    MARK: ClassVar[str]  # the driver's parameter mark

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _modify(self, *statements: Statement, wait: bool = True) -> int:
        raise NotImplementedError

    def write(self, page: PageWrite, run_id: int) -> UpsertCounts:
        raise NotImplementedError

    # -- state
    def get_state(self, pipeline: str, stream: str) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT value FROM state WHERE pipeline = {self.MARK} AND stream = {self.MARK}",
                          (pipeline, stream))
        return orjson.loads(rows[0][0]) if rows else None

    def all_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        rows = self._rows(f"SELECT stream, value FROM state WHERE pipeline = {self.MARK} ORDER BY stream", (pipeline,))
        return {stream: orjson.loads(value) for stream, value in rows}

    def set_state(self, pipeline: str, stream: str, value: dict[str, Any]) -> None:
        self.write(PageWrite(dataset="", state=(pipeline, stream, value)), run_id=0)

    # -- backfills and chunks
    def backfills(self, pipeline: str | None = None, backfill_id: int | None = None) -> list[dict[str, Any]]:
        sql, args = f"SELECT {', '.join(BACKFILL_COLUMNS)} FROM backfills WHERE 1 = 1", list[Any]()
        if pipeline is not None:
            sql, args = sql + f" AND pipeline = {self.MARK}", [*args, pipeline]
        if backfill_id is not None:
            sql, args = sql + f" AND id = {self.MARK}", [*args, backfill_id]
        return [backfill_row(row) for row in self._rows(sql + " ORDER BY id", args)]

    def update_backfill(self, backfill_id: int, *, wait: bool = True, **values: Any) -> None:
        """Set backfill columns; `wait=False`: see the store's `_modify`."""
        values["updated_at"] = utcnow().isoformat()
        self._modify(Statement(f"UPDATE backfills SET {', '.join(f'{k} = {self.MARK}' for k in values)} "
                               f"WHERE id = {self.MARK}", [*values.values(), backfill_id]), wait=wait)

    def chunks(self, backfill_id: int) -> list[dict[str, Any]]:
        rows = self._rows(f"SELECT {', '.join(CHUNK_COLUMNS)} FROM chunks WHERE backfill = {self.MARK} ORDER BY seq",
                          (backfill_id,))
        return [chunk_row(row) for row in rows]

    def update_chunk(self, backfill_id: int, seq: int, *, wait: bool = True, **values: Any) -> None:
        """Set chunk columns (`rows` and `errors` as Python values); `attempts_delta` adds to attempts; `wait=False`:
        see the store's `_modify`."""
        delta = values.pop("attempts_delta", 0)
        for name in ("rows", "errors"):
            if name in values:
                values[name] = orjson.dumps(values[name]).decode()
        sets = [f"{k} = {self.MARK}" for k in values] + [f"attempts = attempts + {self.MARK}"]
        self._modify(Statement(f"UPDATE chunks SET {', '.join(sets)} WHERE backfill = {self.MARK} AND seq = "
                               f"{self.MARK}", [*values.values(), delta, backfill_id, seq]), wait=wait)


class LedgerReads:
    """Runs, backfills and chunks for `udc serve` (udc.store.reader.StoreReader), newest first, a page at a time."""

    MARK: ClassVar[str]  # the driver's parameter mark
    RUN_HOST: ClassVar[str]  # the runs' host: a column where several hosts share the store, else NULL

    @property
    def select_runs(self) -> str:
        return f"SELECT {', '.join(RUN_COLUMNS[:-1])}, {self.RUN_HOST} FROM runs"

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
        return [run_row(row) for row in self._all(f"{self.select_runs}{where} ORDER BY id DESC LIMIT {self.MARK}",
                                                  (*args, limit))]

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._all(f"{self.select_runs} WHERE id = {self.MARK}", (run_id,))
        return run_row(rows[0]) if rows else None

    def runs_after(self, run_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self._all(f"{self.select_runs} WHERE id > {self.MARK} ORDER BY id LIMIT {self.MARK}", (run_id, limit))
        return [run_row(row) for row in rows]

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

    def leased(self, backfill_ids: list[int], now: str) -> dict[int, list[str]]:
        if not backfill_ids:
            return {}
        marks = ", ".join([self.MARK] * len(backfill_ids))
        found: dict[int, list[str]] = {}
        for backfill, worker in self._all(f"SELECT backfill, worker FROM chunks WHERE backfill IN ({marks}) AND "
                                          f"status = 'running' AND lease_until > {self.MARK}", (*backfill_ids, now)):
            found.setdefault(int(backfill), []).append(worker or "")
        return found


__all__ = ["BACKFILL_COLUMNS", "CHUNK_COLUMNS", "RUN_COLUMNS", "LedgerReads", "StoreLedger",
           "backfill_row", "chunk_row", "run_row"]
