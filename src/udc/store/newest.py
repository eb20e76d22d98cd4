"""Newest wins (invariant 2), decided once for every store: given a page's rows and what is stored for their keys,
which rows to insert, which to update, which only to touch, and the page's counts. The stores run the SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from udc.store.types import UpsertCounts

Row = tuple[str, str, str | bytes, bytes, str | None]  # pk, cursor, JSON, content hash, links JSON
Stored = tuple[str, bytes, int]  # cursor, content hash, deleted


def plan_upsert(dataset: str, rows: Sequence[Row], tombstones: list[tuple[str, str]], existing: dict[str, Stored],
                run_id: int, counts: UpsertCounts
                ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(inserts, updates, touches), in page order, a key twice in a page judged against its first copy:
    inserts (dataset, pk, cursor, data, hash, first_run, last_run, links) — a tombstone never stored has data "{}"
    and an empty hash —; updates (cursor, data, hash, last_run, links, dataset, pk) — a tombstone's data and hash
    are None —; touches (last_run, dataset, pk). A record never replaces a newer copy of itself (cursor value, then
    content hash), and a tombstone is not resurrected by a copy at or behind it. `existing` is updated in place."""
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    touches: list[tuple[Any, ...]] = []
    for pk, cur, data, digest, links in rows:
        old = existing.get(pk)
        if old is None:
            inserts.append((dataset, pk, cur, data, digest, run_id, run_id, links))
            counts.inserted += 1
        elif cur < old[0] or (cur == old[0] and old[2]):  # older than stored, or at/behind a tombstone
            counts.stale += 1
            continue
        elif cur == old[0] and digest == old[1]:
            touches.append((run_id, dataset, pk))
            counts.unchanged += 1
        else:
            updates.append((cur, data, digest, run_id, links, dataset, pk))
            counts.updated += 1
        existing[pk] = (cur, digest, 0)
    for pk, cur in tombstones:
        old = existing.get(pk)
        if old is None:  # never seen: keep a tombstone so an older copy read later cannot resurrect it
            inserts.append((dataset, pk, cur, "{}", b"", run_id, run_id, None))
        elif old[2] or cur < old[0]:
            continue  # already deleted, or the record changed after this delete
        else:
            updates.append((cur, None, None, run_id, None, dataset, pk))
        counts.deleted += 1
        existing[pk] = (cur, b"", 1)
    return inserts, updates, touches


__all__ = ["Row", "Stored", "plan_upsert"]
