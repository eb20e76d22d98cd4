"""What the store takes and gives back, whatever the database: a page's changes, its counts, a statement, and the
record encoding and content hash every store uses (newest wins compares them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
import xxhash

from udc.records import Edge, EncodedRecord, Record


class Statement(NamedTuple):
    sql: str
    args: Sequence[Any]
    many: bool = False  # args is a list of rows


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0  # an older version than the stored one: kept out (newest wins)
    deleted: int = 0

    def add(self, other: UpsertCounts) -> None:
        for name in ("inserted", "updated", "unchanged", "stale", "deleted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class PageWrite:
    """Everything one page changes, written atomically."""

    dataset: str
    records: list[tuple[str, str, Record]] = field(default_factory=list)  # (pk, cursor, record)
    links: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # pk → its own references
    tombstones: list[tuple[str, str]] = field(default_factory=list)  # (pk, deleted-at cursor)
    edges: list[Edge] | list[tuple[str, ...]] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)
    redaction_counts: dict[str, int] = field(default_factory=dict)
    state: tuple[str, str, dict[str, Any]] | None = None  # (pipeline, stream key, value)
    pass_id: int = 0  # the stream pass it belongs to: once one of its pages fails, the writer takes no more of them
    encoded: list[EncodedRecord] | None = None  # set by encode(), or by the engine
    size: int = 0  # records in the page
    # its records described for the graph before it is handed to a writer process, by key (the store's own form)
    described: Any = None

    def encode(self) -> None:
        """Serialise the records (pk, cursor, JSON, links JSON), unless the engine did, and let go of the parsed ones,
        which weigh several times more; the edges become plain tuples, which travel to the writer process."""
        if self.encoded is None:
            links = self.links
            self.encoded = [encode_record(pk, cur, rec, links.get(pk)) for pk, cur, rec in self.records]
            self.size, self.records, self.links = len(self.records), [], {}
        self.edges = [tuple(edge) for edge in self.edges]


def encode_record(pk: str, cursor: str, record: Record, links: list[tuple[str, str, str]] | None
                  ) -> tuple[str, str, str, str | None]:
    """A record as the store keeps it: key, cursor, JSON and its links' JSON. The source's own key order is stable,
    so the content hash needs no sorting; str, not orjson's bytes, which keep several times their length allocated."""
    return pk, cursor, orjson.dumps(record).decode(), orjson.dumps(links).decode() if links else None


def lease_stamp(at: datetime) -> str:
    """A chunk lease's end (`chunks.lease_until`) as every store gives it: fixed-width UTC text, which compares as
    time does."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def worker_pid(worker: str) -> int | None:
    """The pid in a `host:pid` worker name, kept in `chunks.pid` for status and older readers."""
    pid = worker.rpartition(":")[2]
    return int(pid) if pid.isdigit() else None


def content_hash(data: str | bytes) -> bytes:
    """128-bit XXH3 of the record's JSON: tells a re-read unchanged record from a changed one with the same cursor
    (not a defence against crafted collisions; 18x cheaper than BLAKE2b, which cost a tenth of a page's write)."""
    return xxhash.xxh3_128_digest(data if isinstance(data, bytes) else data.encode())


__all__ = ["PageWrite", "Statement", "UpsertCounts", "content_hash", "encode_record", "lease_stamp",
           "worker_pid"]
