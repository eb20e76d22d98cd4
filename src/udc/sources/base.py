"""The contract between a source and the sync engine.

A source declares streams. A stream reads one *window* of its cursor field, in ascending (cursor, primary key)
order, as pages. Each page carries the keyset `position` reached after it; the engine stores that position in the
same transaction as the page's records, and hands it back as `resume` after a crash, so a stream must be able to
restart strictly after any position it produced (see docs/ARCHITECTURE.md, invariants 1, 3 and 6).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Protocol, runtime_checkable

from udc.errors import UdcError
from udc.http.client import CallStats
from udc.records import Page, Person, Position, Record, Window


class Stream(Protocol):
    """One readable collection (a ServiceNow table, Jira issues, a Salesforce object...)."""

    name: str  # the stream's name in config and exports (e.g. "incident", "issues", "Case")
    dataset: str  # where its records live in the store; shared by every pipeline of the same connector
    primary_key: str
    cursor_field: str

    def read(self, window: Window, resume: Position | None) -> Iterator[Page]:
        """Yield pages of records in the window, strictly after `resume` when given, until the API's end signal."""
        ...

    def cursor_of(self, record: Record) -> str:
        """The normalised cursor string of a record (for newest-wins upserts)."""
        ...


class Source(Protocol):
    """A configured connector bound to one pipeline's options."""

    notes: list[str]  # warnings found while building the streams (e.g. what the account cannot read), for the run

    def streams(self) -> list[Stream]:
        """The streams the pipeline asked for, validated against the source before any data is read."""
        ...

    @property
    def stats(self) -> CallStats:
        """The HTTP calls, retries and bytes of this source so far (shared by all its streams)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Directory(Protocol):
    """A source that can list the people it knows. With redaction on, the run reads them (read-only, even when no
    user table is synced) so their names, logins and e-mail addresses are found in free text."""

    def people(self) -> Iterator[Person]:
        """Every account of the directory; DirectoryUnreadable when the account may not read it."""
        ...


@runtime_checkable
class Reconciles(Protocol):
    """A stream of child records read whole with their parent (Jira comments with their issue): told which children
    are stored, its pages tombstone those a re-read parent no longer has."""

    parent_field: str  # the stored child's field naming its parent

    def remember(self, stored: list[tuple[str, str, str]]) -> None:
        """The stored live children before the pass: (pk, cursor, parent pk)."""
        ...


@runtime_checkable
class Census(Protocol):
    """A source whose search cannot show deletions (Jira): it lists every id it holds per scope (a project), and
    `udc.sync.census` tombstones the stored records missing from the listing."""

    census_field: str  # the stored record's field that names its scope

    @property
    def census_every(self) -> timedelta:
        """How often the census runs (0: never)."""
        ...

    def census_dataset(self) -> str | None:
        """The dataset the census checks; None when it is off for this pipeline."""
        ...

    def census_scopes(self) -> list[str]: ...

    def census_ids(self, scope: str) -> set[str]:
        """Every id the source holds in `scope` now."""
        ...

    def still_exists(self, pk: str) -> bool:
        """Read one record: False only when the source says it is gone."""
        ...

    def census_children(self) -> tuple[str, str] | None:
        """A dataset whose records die with their parent, and its field naming the parent's pk."""
        ...


class DirectoryUnreadable(UdcError):
    """The source's user directory cannot be read by this account: the run goes on, with a note saying so."""
