"""`udc store copy`: every table of one store into another (SQLite ↔ PostgreSQL), resumable.

Tables are copied in key order, a batch per transaction, each batch committed with the copy's position in the target
(its `state` table, owner `udc-store-copy`): a copy stopped at any instant, kill -9 included, continues after the last
committed batch when run again, and rows already copied are overwritten with the same values, never doubled. Records
keep their cursor, content hash, tombstone and run numbers, so newest wins goes on in the target as in the source;
pipelines' positions travel with them, so the next incremental cycle on the target continues where the source was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from udc.errors import ConfigError

OWNER = "udc-store-copy"  # the target's state rows that hold the copy's position, one per table
# every table a store holds, its key (the copy's order), ledger first so records arrive last
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("runs", ("id",)), ("backfills", ("id",)), ("chunks", ("backfill", "seq")), ("state", ("pipeline", "stream")),
    ("quarantine", ("dataset", "pk")), ("redaction_counts", ("run", "dataset", "entity")),
    ("edges", ("src_dataset", "src_pk", "rel", "dst_dataset", "dst_pk")), ("records", ("dataset", "pk")),
)


class Copyable(Protocol):
    location: str

    def table_columns(self, table: str) -> tuple[str, ...]: ...

    def read_rows(self, table: str, columns: Sequence[str], keys: Sequence[str], after: Sequence[Any] | None,
                  limit: int) -> list[tuple[Any, ...]]:
        """Rows in key order after the key `after` (None: from the first), as plain values: JSON as text, a
        tombstone flag as 0/1, a hash as bytes."""
        ...

    def write_rows(self, table: str, columns: Sequence[str], keys: Sequence[str], rows: list[tuple[Any, ...]],
                   position: tuple[str, dict[str, Any]]) -> None:
        """Insert or overwrite rows, and set the state row `position` (owner OWNER), in one transaction."""
        ...

    def get_state(self, pipeline: str, stream: str) -> dict[str, Any] | None: ...

    def dataset_counts(self, prefix: str = "") -> dict[str, tuple[int, int]]: ...

    def copy_finished(self) -> None:
        """After the last batch: the store's own bookkeeping (PostgreSQL's id sequences past the copied ids)."""
        ...


def copy_store(source: Copyable, target: Copyable, batch: int = 2000,
               progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Copy every table of `source` into `target`; rows copied per table (this run's)."""
    started = any(target.get_state(OWNER, table) for table, _ in TABLES)
    if not started and target.dataset_counts():
        raise ConfigError(f"the target store {target.location} already holds records",
                          "copy into a new, empty store (or one this copy started, to resume it)")
    copied: dict[str, int] = {}
    for table, keys in TABLES:
        wanted = set(target.table_columns(table))
        columns = [c for c in source.table_columns(table) if c in wanted]
        mark = target.get_state(OWNER, table) or {}
        after = mark.get("after")
        copied[table] = 0
        while not mark.get("done"):
            read = source.read_rows(table, columns, keys, after, batch)
            at = [columns.index(key) for key in keys]
            after = [read[-1][i] for i in at] if read else after
            mark = {"after": after, "done": len(read) < batch}
            # the source's own copy positions (it was a copy's target once) would stop this copy's tables early
            rows = [row for row in read if table != "state" or row[at[0]] != OWNER]
            target.write_rows(table, columns, keys, rows, (table, mark))
            copied[table] += len(rows)
            if progress is not None:
                progress(table, copied[table])
    target.copy_finished()
    return copied


__all__ = ["OWNER", "TABLES", "Copyable", "copy_store"]
