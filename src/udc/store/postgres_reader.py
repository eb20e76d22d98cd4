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

from udc.errors import ConfigError, NoStoreYet
from udc.store.ledger_rows import LedgerReads, run_row
from udc.store.migrations import check_version, older_store
from udc.store.postgres import (
    CONNECT_TIMEOUT,
    MIGRATIONS,
    _option,
    connect_failure,
    parse_target,
    refuse_encoding,
    store_failure,
)
from udc.store.postgres_graph import PostgresGraph
from udc.store.reader import RUN_MODES


class PostgresReader(PostgresGraph, LedgerReads):
    MARK = "%s"
    RUN_HOST = "host"  # runs on every host that shares the store

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
        refuse_encoding(self.connection, self.location)
        set_json_loads(orjson.loads, self.connection)
        found = self._all("SELECT to_regclass('schema_version') IS NOT NULL")[0][0] and \
            self._all("SELECT max(version) FROM schema_version")[0][0]
        if not found:
            self.close()
            raise NoStoreYet(f"there is no store at {self.location} yet: nothing has been synced",
                              "run `udc sync --pipeline P` first, or fix `store:` (and its ?schema=)")
        try:
            check_version(found, len(MIGRATIONS), self.location)
        except ConfigError:
            self.close()
            raise
        if found < len(MIGRATIONS):
            self.close()
            raise older_store(found, self.location)

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
    def last_runs(self, pipelines: list[str]) -> list[dict[str, Any]]:
        """One index seek per pipeline and mode (runs_by_mode), in one statement."""
        if not pipelines:
            return []
        rows = self._all(f"{self.select_runs} WHERE id IN (SELECT (SELECT max(id) FROM runs WHERE pipeline = p "
                         "AND mode = m) FROM unnest(%s::text[]) AS p, unnest(%s::text[]) AS m) ORDER BY id DESC",
                         (pipelines, list(RUN_MODES)))
        return [run_row(row) for row in rows]

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



__all__ = ["PostgresReader"]
