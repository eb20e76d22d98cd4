"""The keyset stream: one read loop for every source that pages a window in (cursor, key) order.

The kit owns what must be exact everywhere: the position after each page (taken from its last row), the restart
strictly after a position (a resume, a page, an expired continuation), the end (only the API's own end signal: a
short or empty page never ends a stream) and the adaptive batch. A source supplies its dialect as hooks:

- `query(window, after)`: the request for rows strictly after `after` (None: from the window's start) and before
  the window's end, in (cursor, key) order;
- `fetch(query, continuation, limit)`: one request, as a `Batch`: the rows in (cursor, key) order, the continuation
  to the same query's next page (None: the API said this was the last), or `restart` when the continuation died;
- `position_of(row)` and `page(rows, position)`: where a row stands, and the page the engine stores.

`restart_after_page` chooses between the two ways on: re-query from the keyset after every non-empty page (offsets
and offset-like tokens shift when rows change mid-read), or follow the server's own cursor (a snapshot) and re-query
only when it expires. The continuation is only ever used to step over rows the read cannot keep (ACL-hidden rows,
already-seen equal timestamps) or to follow a server cursor.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from udc.http.client import HttpError
from udc.records import Page, Position, Record, Window
from udc.timeutil import cursor_str

log = logging.getLogger("udc.keyset")

Q = TypeVar("Q")  # a dialect's query: an encoded query, SOQL, JQL...
C = TypeVar("C")  # a dialect's continuation within one query: an offset, a token, a next-records URL...


# the cursor of every record of a snapshot stream (Jira projects, Confluence spaces): the source gives them no update
# time, so the content hash alone tells an edited record from an unchanged one (a sync time in the record would make
# every run "update" every record)
SNAPSHOT_CURSOR = cursor_str(datetime(1970, 1, 1, tzinfo=UTC))


def dataset_of(connector: str, table: str) -> str:
    """Where a connector's table lives in the store (shared by every pipeline of the connector)."""
    return f"{connector}/{table}"


@dataclass
class Batch(Generic[C]):
    """What one request brought: `rows` in (cursor, key) order (maybe none), and `next`, the continuation to the same
    query's next page (None: the API's end signal). `restart`: the continuation is void (a server cursor expired,
    offsets shifted): query again strictly after the last position."""

    rows: list[Any]
    next: C | None
    restart: bool = False


class KeysetStream(Generic[Q, C]):
    """A stream that reads a window through a source's dialect (see the module's doc for the hooks)."""

    name: str
    dataset: str
    primary_key: str
    cursor_field: str
    batch_size: int
    restart_after_page: ClassVar[bool] = True
    adaptive: ClassVar[bool] = False  # halve the batch on a batch-sensitive HttpError; at one row, `isolate` it

    def query(self, window: Window, after: Position | None) -> Q:
        raise NotImplementedError

    def fetch(self, query: Q, continuation: C | None, limit: int) -> Batch[C]:
        raise NotImplementedError

    def position_of(self, row: Any) -> Position:
        raise NotImplementedError

    def page(self, rows: list[Any], position: Position) -> Page:
        raise NotImplementedError

    def isolate(self, query: Q, continuation: C | None, error: HttpError) -> tuple[Page, C | None]:
        """The page for a single row that fails even alone, and the continuation past it (used when the page has no
        position: the row could not be read at all)."""
        raise error

    def cursor_of(self, record: Record) -> str:
        return cursor_str(record[self.cursor_field])

    def read(self, window: Window, resume: Position | None) -> Iterator[Page]:
        after = resume or (Position(cursor_str(window.start)) if window.start else None)
        query, continuation, limit = self.query(window, after), None, self.batch_size
        while True:
            try:
                batch = self.fetch(query, continuation, limit)
            except HttpError as exc:
                if not (self.adaptive and exc.batch_sensitive):
                    raise
                if limit > 1:  # the page is too big for the gateway: halve it (the 502 case)
                    limit = max(1, limit // 2)
                    log.warning("%s: %s; retrying with batch %d", self.dataset, exc.message, limit)
                    continue
                page, continuation = self.isolate(query, continuation, exc)
                yield page
                if page.position is not None:
                    after = page.position
                    query, continuation = self.query(window, after), None
                continue
            if batch.restart:
                query, continuation = self.query(window, after), None
                continue
            rows, continuation = batch.rows, batch.next
            del batch  # a parsed page weighs several MB: hold none of it while fetching the next
            if rows:
                after = self.position_of(rows[-1])
                yield self.page(rows, after)
                del rows
                if continuation is None:
                    return
                limit = min(self.batch_size, limit * 2)  # grow back after a success
                if self.restart_after_page:
                    query, continuation = self.query(window, after), None
                continue
            if continuation is None:
                return
            yield Page()  # nothing to keep here (hidden or already-seen rows): the continuation steps over them
