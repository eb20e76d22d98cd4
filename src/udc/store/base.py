"""The store interface: what the layers above may ask of a store, whatever the database behind it.

A page sink takes pages and their positions (one transaction each, newest wins); a ledger keeps runs, state, backfill
chunks, quarantine, counts and named locks. A store is both. Every failure of the database leaves a store as a
StoreError (a held lock as LockHeld), never as the driver's own exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Protocol, Self

from udc.records import Record
from udc.store.types import PageWrite, UpsertCounts


class Lock(Protocol):
    """A named exclusive lock that a killed holder never leaves stale. `with` raises LockHeld when taken."""

    name: str

    def acquire(self) -> bool:
        """Take it without waiting; False when a live holder has it."""
        ...

    def release(self) -> None: ...

    def holder(self) -> dict[str, object] | None:
        """Who holds it now (pid, host, since), or None when it is free."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


class PageSink(Protocol):
    def submit(self, page: PageWrite, run_id: int) -> Future[UpsertCounts]:
        """Store a page and its stream's state in one transaction (newest wins); resolves once committed."""
        ...

    def write(self, page: PageWrite, run_id: int) -> UpsertCounts:
        """`submit` and wait."""
        ...

    def writer(self) -> AbstractContextManager[None]:
        """While open, pages may be stored concurrently with the caller (pages still commit in order)."""
        ...


class Ledger(Protocol):
    # -- runs
    def begin_run(self, pipeline: str, mode: str) -> int: ...

    def finish_run(self, run_id: int, status: str, summary: dict[str, Any]) -> None: ...

    def runs(self, pipeline: str | None = None, limit: int = 10) -> list[dict[str, Any]]: ...

    # -- state: per owner (a pipeline, a backfill, the redactor's memory) and stream
    def get_state(self, pipeline: str, stream: str) -> dict[str, Any] | None: ...

    def all_state(self, pipeline: str) -> dict[str, dict[str, Any]]: ...

    def set_state(self, pipeline: str, stream: str, value: dict[str, Any]) -> None: ...

    # -- backfills and their chunks
    def create_backfill(self, spec: dict[str, Any], chunks: list[tuple[str | None, str]]) -> int: ...

    def backfills(self, pipeline: str | None = None, backfill_id: int | None = None) -> list[dict[str, Any]]: ...

    def update_backfill(self, backfill_id: int, *, wait: bool = True, **values: Any) -> None: ...

    def chunks(self, backfill_id: int) -> list[dict[str, Any]]:
        """The backfill's chunks in order: seq, chunk_start, chunk_end, status, attempts, rows, pages, errors, pid,
        not_before, started_at, finished_at, seconds, worker (the last claimant) and lease_until (`lease_stamp`)."""
        ...

    def update_chunk(self, backfill_id: int, seq: int, *, wait: bool = True, **values: Any) -> None: ...

    def claim_chunk(self, backfill_id: int, worker: str, lease_seconds: float) -> dict[str, Any] | None:
        """Atomically give `worker` (`host:pid`) one chunk for `lease_seconds`: a chunk whose lease ran out (its worker
        died or hung) or else a ready pending one, newest first; either way one attempt more. It becomes `running`
        with `worker`, `pid` and `lease_until` (by the store's clock, as `lease_stamp` text) set, and comes back with
        `abandoned_by`: the worker whose lease ran out (a takeover), else None. Two workers never get the same chunk
        while its lease holds. None when no chunk is claimable."""
        ...

    def renew_chunks(self, backfill_id: int, worker: str, seqs: list[int], lease_seconds: float) -> list[int]:
        """Extend the leases `worker` still holds among `seqs` to now + `lease_seconds`; returns those it holds (a
        chunk missing from the answer was taken over after its lease ran out: stop working on it)."""
        ...

    # -- quarantine and counts
    def quarantined(self, dataset_prefix: str = "") -> list[tuple[str, str, str]]: ...

    def dataset_counts(self, prefix: str = "") -> dict[str, tuple[int, int]]: ...

    def redaction_totals(self, dataset_prefix: str = "") -> dict[str, dict[str, int]]: ...

    def edge_count(self) -> int: ...

    # -- named locks
    def lock(self, name: str) -> Lock: ...


class GraphQueries(Protocol):
    """The knowledge graph's reads (udc.query composes them): nodes are live records by id, links resolved to node
    ids both ways, full-text search of the stored (redacted) text. Results are plain dicts."""

    def find_nodes(self, ref: str) -> list[dict[str, Any]]:
        """Records called `ref` (a key such as INC0012345, OPS-42, a case number, a page id; or a primary key)."""
        ...

    def nodes(self, ids: Iterable[int], with_data: bool = False, fields: Sequence[str] = ()
              ) -> dict[int, dict[str, Any]]:
        """Nodes by id, with their record (`data`) or some of its fields (`fields`) when asked."""
        ...

    def neighbours(self, ids: Iterable[int], tables: Sequence[str] = (), during: tuple[str, str] | None = None
                   ) -> list[dict[str, Any]]:
        """Every link touching these nodes, both ways: {src, dst, rel, owner}; `tables`: only those whose other
        end is in a table named so or starting so; `during` (since, until: cursor strings): without the links stated
        by other records whose work ended before `since` (their first of work_end, end_date, closed_at) or started
        after `until` (their first of work_start, start_date, opened_at, sys_created_on); a record without such a
        field is kept."""
        ...

    def text_search(self, query: str, limit: int, datasets: Sequence[str] = (), since: str | None = None,
                    until: str | None = None, exclude: Sequence[int] = ()) -> list[dict[str, Any]]:
        """Best first, each with `score` and `snippet`; `query` in FTS5 syntax."""
        ...

    def match_count(self, query: str, cap: int) -> int:
        """Records matching an FTS5 query, counted up to `cap`."""
        ...

    def node_text(self, node_id: int) -> tuple[str, str]: ...

    def table_fields(self, table: str) -> list[str]:
        """Field names of a table's stored records, in any source."""
        ...

    def trend_counts(self, table: str, by: str, every: str) -> list[tuple[str, str, Any, int, float | None]]:
        """Per bucket (day or week, 'YYYY-MM-DD') and value of `by`, over a table's live records in any source:
        ('opened' | 'resolved' | 'closed', bucket, value, count, seconds to resolve summed (for 'resolved'))."""
        ...

    def graph_datasets(self) -> list[str]: ...


class Store(PageSink, Ledger, GraphQueries, Protocol):
    location: str  # where the store is, for messages

    def iter_records(self, dataset: str, include_deleted: bool = True) -> Iterator[tuple[str, Record, bool]]: ...

    def has_dataset(self, dataset: str) -> bool: ...

    def live_keys(self, dataset: str, field: str) -> list[tuple[str, str, str]]:
        """(pk, cursor, the record's top-level `field` as text, '' when absent) of every live (not deleted) record:
        what a deletion census compares with the source's listing."""
        ...

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A read-only query, for users and tools."""
        ...

    def close(self) -> None: ...


__all__ = ["GraphQueries", "Ledger", "Lock", "PageSink", "Store"]
