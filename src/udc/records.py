"""Neutral record types shared by sources, the sync engine and the store: what a record, a page, a keyset position,
a window and a graph edge are. No layer above is imported here, so every layer can use them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

Record = dict[str, Any]
# a record as the store keeps it: key, cursor, JSON text (bytes straight off a response, or str), links as JSON
EncodedRecord = tuple[str, str, str | bytes, str | None]


@dataclass(frozen=True)
class Position:
    """Keyset position: everything at or before (cursor, pk) in (cursor, pk) order is done.

    `pk == ""` means "nothing at `cursor` yet", i.e. the position just before the first record at that cursor.
    `cursor` is a normalised cursor string (see `udc.timeutil.cursor_str`).
    """

    cursor: str
    pk: str = ""

    def to_json(self) -> list[str]:
        return [self.cursor, self.pk]

    @classmethod
    def from_json(cls, value: list[str]) -> Position:
        return cls(value[0], value[1])


@dataclass(frozen=True)
class Window:
    """Records whose cursor is in [start, end). `start=None` means from the beginning of the data."""

    start: datetime | None
    end: datetime


@dataclass(frozen=True, slots=True)
class Person:
    """One account of a source's user directory (ServiceNow sys_user, Jira users, Salesforce User and Contact),
    read so the redactor can find these people in free text. Held in memory only, never stored as read."""

    name: str = ""  # the display name: "Abel Tuter"
    first: str = ""
    last: str = ""
    user_name: str = ""  # the login: "abel.tuter", "jdoe"
    email: str = ""
    phones: tuple[str, ...] = ()
    machine: bool = False  # the source says it is no person (a web-service-only user, an app account)


class Edge(NamedTuple):
    """A link between two records for the knowledge graph (e.g. incident → CI, issue → issue).

    A named tuple, not a dataclass: syncs build one per reference field per record, so construction cost counts."""

    src_dataset: str
    src_pk: str
    rel: str
    dst_dataset: str
    dst_pk: str


@dataclass
class Page:
    """One page as the engine stores it.

    `records` are the rows to upsert into `dataset` (each must hold the stream's primary key and cursor field);
    `tombstones` are (pk, deleted_at cursor string) pairs for records deleted at the source; `position` is where a
    resume continues from (None: the page did not advance the keyset, e.g. an ACL-filtered empty page).
    `links` are the records' own references, grouped by primary key as (rel, dst_dataset, dst_pk): stored with
    the record and replaced with it; or `links_of` gives one record's links, which the engine asks while it
    encodes that record (a page outgrows the CPU's caches: one pass over each record costs less than two).
    A stream that can cut each record's JSON out of the response gives `encoded` records instead: the engine
    stores them as they are (and parses them only to redact them), sparing a parse and a serialisation per record.
    `edges` are links stated apart from their source record (e.g. a Jira link read on the other issue).
    """

    records: list[Record] = field(default_factory=list)
    tombstones: list[tuple[str, str]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    links: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    links_of: Callable[[Record], list[tuple[str, str, str]]] | None = None
    encoded: list[EncodedRecord] | None = None
    position: Position | None = None
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (pk, reason)

    @property
    def size(self) -> int:
        """Records on the page, parsed or encoded."""
        return len(self.records) + len(self.encoded or ())
