"""The monitoring read interface (udc.store.reader) over a PostgreSQL store, on a read-only connection.

The session is opened with `default_transaction_read_only`: it cannot write or change the schema (PostgreSQL refuses
it), and under MVCC its reads never block a writer. Nothing is created: a store no udc has written yet, or one a
newer udc wrote, is refused with the fix; one an older udc left is upgraded by the next udc that writes it (a reader
cannot). One connection serves every thread of the server (psycopg serializes its use).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_loads

from udc.errors import ConfigError
from udc.store.migrations import check_version
from udc.store.postgres import (
    BACKFILL_COLUMNS,
    CHUNK_COLUMNS,
    CONNECT_TIMEOUT,
    MIGRATIONS,
    _chunk,
    _option,
    connect_failure,
    parse_target,
    store_failure,
)
from udc.store.postgres_graph import PostgresGraph
from udc.store.reader import RUN_MODES

RUN_COLUMNS = ("id", "pipeline", "mode", "started_at", "finished_at", "status", "pid", "summary")
_RUNS = f"SELECT {', '.join(RUN_COLUMNS)} FROM runs"
_BACKFILLS = f"SELECT {', '.join(BACKFILL_COLUMNS)} FROM backfills"
_CHUNKS = f"SELECT {', '.join(CHUNK_COLUMNS)} FROM chunks"


class PostgresReader(PostgresGraph):
    def __init__(self, url: str, *, password: str | None = None) -> None:
        """`password`: the store's, when libpq's own mechanisms (PGPASSWORD, ~/.pgpass) do not give it."""
        target = parse_target(url)
        self.location = target.location
        try:
            self.connection: psycopg.Connection[Any] = psycopg.connect(
                target.conninfo, password=password, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                application_name="udc reader",
                options=f"-c search_path={_option(target.schema)} -c default_transaction_read_only=on")
        except psycopg.Error as exc:
            raise connect_failure(exc, self.location) from None
        set_json_loads(orjson.loads, self.connection)
        found = self._all("SELECT to_regclass('schema_version') IS NOT NULL")[0][0] and \
            self._all("SELECT max(version) FROM schema_version")[0][0]
        if not found:
            self.close()
            raise ConfigError(f"there is no store at {self.location} yet: nothing has been synced",
                              "run `udc sync --pipeline P` first, or fix `store:` (and its ?schema=)")
        try:
            check_version(found, len(MIGRATIONS), self.location)
        except ConfigError:
            self.close()
            raise
        if found < len(MIGRATIONS):
            self.close()
            raise ConfigError(f"the store at {self.location} was written by an older udc (schema version {found}) "
                              "and is upgraded when this udc first writes it; a reader cannot",
                              "run `udc status` (or any sync) once with this udc, then read it again")

    def _conn(self) -> psycopg.Connection[Any]:
        return self.connection

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise store_failure(exc, self.location) from exc

    def _all(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._rows(query, args)

    def close(self) -> None:
        self.connection.close()

    # -- runs -----------------------------------------------------------------------------------------------------
    def runs(self, pipeline: str | None = None, limit: int = 50, before: int | None = None) -> list[dict[str, Any]]:
        where, args = _where(pipeline=pipeline, before=before)
        return [_run(row) for row in self._all(f"{_RUNS}{where} ORDER BY id DESC LIMIT %s", (*args, limit))]

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self._all(f"{_RUNS} WHERE id = %s", (run_id,))
        return _run(rows[0]) if rows else None

    def runs_after(self, run_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        return [_run(row) for row in self._all(f"{_RUNS} WHERE id > %s ORDER BY id LIMIT %s", (run_id, limit))]

    def last_runs(self, pipelines: list[str]) -> list[dict[str, Any]]:
        """One index seek per pipeline and mode (runs_by_mode), in one statement."""
        if not pipelines:
            return []
        rows = self._all(f"{_RUNS} WHERE id IN (SELECT (SELECT max(id) FROM runs WHERE pipeline = p AND mode = m) "
                         "FROM unnest(%s::text[]) AS p, unnest(%s::text[]) AS m) ORDER BY id DESC",
                         (pipelines, list(RUN_MODES)))
        return [_run(row) for row in rows]

    def last_success(self, pipelines: list[str]) -> dict[str, str]:
        if not pipelines:
            return {}
        rows = self._all("SELECT p, (SELECT max(finished_at) FROM runs WHERE status = 'succeeded' AND pipeline = p) "
                         "FROM unnest(%s::text[]) AS p", (pipelines,))
        return {p: at for p, at in rows if at}

    # -- state ----------------------------------------------------------------------------------------------------
    def states(self, owners: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        result: dict[str, dict[str, dict[str, Any]]] = {owner: {} for owner in owners}
        if owners:
            for owner, stream, value in self._all("SELECT pipeline, stream, value FROM state WHERE pipeline = "
                                                  "ANY(%s) ORDER BY 1, 2", (owners,)):
                result[owner][stream] = orjson.loads(value)
        return result

    # -- backfills ------------------------------------------------------------------------------------------------
    def backfills(self, pipeline: str | None = None, limit: int = 50, before: int | None = None
                  ) -> list[dict[str, Any]]:
        where, args = _where(pipeline=pipeline, before=before)
        return [_backfill(row) for row in self._all(f"{_BACKFILLS}{where} ORDER BY id DESC LIMIT %s",
                                                    (*args, limit))]

    def backfill(self, backfill_id: int) -> dict[str, Any] | None:
        rows = self._all(f"{_BACKFILLS} WHERE id = %s", (backfill_id,))
        return _backfill(rows[0]) if rows else None

    def chunk_counts(self, backfill_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
        query, args = "SELECT backfill, status, count(*) FROM chunks", tuple[Any, ...]()
        if backfill_ids is not None:
            if not backfill_ids:
                return {}
            query, args = query + " WHERE backfill = ANY(%s)", (backfill_ids,)
        counts: dict[int, dict[str, int]] = {}
        for backfill, status, n in self._all(query + " GROUP BY 1, 2", args):
            counts.setdefault(int(backfill), {})[status] = int(n)
        return counts

    def chunks(self, backfill_id: int, first_seq: int = 1, limit: int = 2000) -> list[dict[str, Any]]:
        rows = self._all(f"{_CHUNKS} WHERE backfill = %s AND seq >= %s ORDER BY seq LIMIT %s",
                         (backfill_id, first_seq, limit))
        return [_chunk(row) for row in rows]

    def chunks_in(self, backfill_id: int, status: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._all(f"{_CHUNKS} WHERE backfill = %s AND status = %s ORDER BY seq LIMIT %s",
                         (backfill_id, status, limit))
        return [_chunk(row) for row in rows]

    # -- records --------------------------------------------------------------------------------------------------
    def dataset_counts(self, prefix: str = "") -> dict[str, tuple[int, int]]:
        rows = self._all("SELECT dataset, count(*) FILTER (WHERE NOT deleted), count(*) FILTER (WHERE deleted) "
                         "FROM records WHERE starts_with(dataset, %s) GROUP BY dataset", (prefix,))
        return {dataset: (int(live), int(dead)) for dataset, live, dead in rows}

    def quarantined(self, prefix: str = "", limit: int = 100) -> list[tuple[str, str, str]]:
        rows = self._all("SELECT dataset, pk, reason FROM quarantine WHERE starts_with(dataset, %s) "
                         "ORDER BY dataset, pk LIMIT %s", (prefix, limit))
        return [(dataset, pk, reason) for dataset, pk, reason in rows]

    def quarantine_counts(self) -> dict[str, int]:
        return {dataset: int(n) for dataset, n in self._all("SELECT dataset, count(*) FROM quarantine GROUP BY 1")}

    def redaction_totals(self, prefix: str = "") -> dict[str, dict[str, int]]:
        totals: dict[str, dict[str, int]] = {}
        for dataset, entity, n in self._all("SELECT dataset, entity, sum(count) FROM redaction_counts "
                                            "WHERE starts_with(dataset, %s) GROUP BY 1, 2", (prefix,)):
            totals.setdefault(dataset, {})[entity] = int(n)
        return totals


def _where(pipeline: str | None, before: int | None) -> tuple[str, tuple[Any, ...]]:
    clauses = [c for c, v in (("pipeline = %s", pipeline), ("id < %s", before)) if v is not None]
    args = tuple(v for v in (pipeline, before) if v is not None)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def _run(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(RUN_COLUMNS, row, strict=True))
    item["summary"] = orjson.loads(item["summary"]) if item["summary"] else None
    return item


def _backfill(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(BACKFILL_COLUMNS, row, strict=True))
    item["tables"] = orjson.loads(item["tables"])
    return item


__all__ = ["PostgresReader"]
