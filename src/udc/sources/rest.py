"""The declarative REST source: any JSON API described in `udc.yaml` (`udc.config.rest`), read with the guarantees
of the built-in sources.

How a table is read depends on what its API can do:

- `order: cursor` (the API returns records in ascending cursor order): a keyset read. With a `window` the query is
  sent again after every page from the position reached (its start `overlap` before it, so an API filtering with `>`
  or at second precision re-sends the boundary second), and only rows strictly after the position (cursor, key) are
  kept: records changed while paging never shift unseen rows past the read. Rows at a page's last cursor value are
  held until a later value (or the end) shows their tie group is whole, then kept in (cursor, key) order, so ties
  across a page boundary in any order are neither lost nor doubled. Without a `window` the listing is followed to
  its end (or to the first row past the window), rows filtered on the client.
- `order: none` (the default): the window's listing is read to its end and each page stored as it comes, its
  position moving only with the pass's end; re-read rows are de-duplicated by (key, cursor) in the pass and by
  newest-wins in the store.
- Either way a page that moved under the read restarts the listing from the last committed position: an offset
  listing re-reads the previous page's last row as the first of the next and compares it; a count (`total_path`)
  that changes, or a page whose first row was already seen in this listing, does the same.

Only the paginator's own signal ends a listing: `has_more: false`, `is_last: true`, no token, no next URL or Link,
the total reached, or (offset and page paginators without those) a page with no new rows. A short page never does.
Child tables (`parent:`) are read for each parent record the pass reads, resuming with the parent's position.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
import orjson
from pydantic import SecretStr

from udc.config import BasicAuth, BearerAuth, ClientCredentialsAuth, Config
from udc.config.common import Auth
from udc.config.rest import (
    ApiKeyAuth,
    CursorPaginator,
    CursorSpec,
    LinkHeaderPaginator,
    NextUrlPaginator,
    NoAuth,
    OffsetPaginator,
    PagePaginator,
    RestClientCredentials,
    RestConnector,
    RestPipeline,
    RestTable,
)
from udc.errors import ConfigError, SourceError, UdcError
from udc.http.client import CallStats, HttpClient, HttpError, json_of
from udc.records import EncodedRecord, Page, Position, Record, Window
from udc.sources.base import Stream
from udc.sources.diagnostics import Finding, check_client, connection_findings
from udc.sources.keyset import SNAPSHOT_CURSOR, Batch, KeysetStream, dataset_of
from udc.timeutil import EPOCH, cursor_str

log = logging.getLogger("udc.rest")

KEY = "id"
MAX_PAGE = 10000  # the largest page a keyset read asks for when a tie group fills its pages
MAX_RESTARTS = 20  # restarts of one pass's listing after shifted pages, before the run gives up (checkpointed)
_PARENT = re.compile(r"\{parent\.([^}]+)\}")
_PLACEHOLDER = re.compile(r"\{(start|end|after|after_key)\}")
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)
_MISSING = object()
Row = tuple[str, str, Record]  # a record with its cursor and key, as read


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers


def dig(value: Any, path: str) -> Any:
    """The value at a dotted path (`data.items`, `service.id`, `items.0`); `_MISSING` when it is not there."""
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def parse_cursor(value: Any, spec: CursorSpec) -> datetime:
    """A cursor value read with its declared format (values without an offset are in `spec.tz`); ValueError when
    it does not parse."""
    fmt = spec.format
    if fmt in ("epoch_s", "epoch_ms"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("not a number")
        number = float(value)
        return EPOCH + timedelta(seconds=number / 1000 if fmt == "epoch_ms" else number)
    if not isinstance(value, str):
        raise ValueError("not a text")
    if fmt == "iso8601":
        text = value.strip()
        text = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
            text = text[:-2] + ":" + text[-2:]  # +0100 → +01:00
        parsed = datetime.fromisoformat(text)
    else:
        parsed = datetime.strptime(value, fmt)
    return parsed.replace(tzinfo=ZoneInfo(spec.tz)) if parsed.tzinfo is None else parsed


def cursor_text(moment: datetime) -> str:
    """`udc.timeutil.cursor_str` of an aware datetime, without strftime (a third of a page's parsing time)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def format_time(moment: datetime, fmt: str, tz: str, up: bool = False) -> str:
    """A moment as the API's parameter expects it; `up`: never earlier than `moment` (an end bound written at a
    coarser precision than the moment is rounded up, so the window's last records are asked for)."""
    def write(at: datetime) -> str:
        if fmt == "epoch_s":
            return str(int((at - EPOCH).total_seconds()))
        if fmt == "epoch_ms":
            return str(int((at - EPOCH).total_seconds() * 1000))
        if fmt == "iso8601":
            return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return at.astimezone(ZoneInfo(tz)).strftime(fmt)

    text = write(moment)
    if not up:
        return text
    spec = CursorSpec(field="x", format=fmt, tz=tz)
    for step in (timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)):
        if parse_cursor(int(text) if fmt.startswith("epoch") else text, spec) >= moment:
            return text
        text = write(moment + step)
    return text


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def flat_fields(record: Record, prefix: str = "") -> dict[str, str]:
    """Every field of a record and its JSON type, nested objects as dotted names (what `udc discover` shows)."""
    out: dict[str, str] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flat_fields(value, name + "."))
        else:
            out[name] = json_type(value)
    return out


# ---------------------------------------------------------------------------------------------------------------
# One request and the page after it


@dataclass
class Request:
    """A GET: a path on the base URL with its parameters, or a URL the API gave (next URL, Link) as it is."""

    path: str
    params: dict[str, Any] | None
    offset: int = 0  # offset and page paginators: where this request starts
    anchor: str | None = None  # offset paginator: the key the first row must have (the previous page's last)


@dataclass
class Listing:
    """What one listing (one query, followed page by page) has seen: to tell a page that moved under the read."""

    total: Any = _MISSING
    seen: set[tuple[str, str]] = field(default_factory=set)  # (key, cursor) of the rows read


class Shifted(Exception):
    """The listing moved under the read (rows inserted, removed or reordered before the read's place)."""


@dataclass
class Api:
    """The connector's HTTP side: the client, the headers and query parameters every request carries."""

    client: HttpClient
    base_url: str
    headers: dict[str, str]
    params: dict[str, str]

    def get(self, request: Request, extra_headers: dict[str, str], shrinkable: bool = False
            ) -> tuple[Any, httpx.Headers]:
        path, params = request.path, request.params
        if params is not None:
            params = {**self.params, **params}
        elif self.params:  # a URL the API gave keeps its own query (httpx would replace it with `params`)
            path = str(httpx.URL(path).copy_merge_params(self.params))
        # header values as UTF-8 bytes: httpx refuses a str that is not ASCII, and APIs read keys as UTF-8
        headers: Any = {k: v.encode() for k, v in {**self.headers, **extra_headers}.items()}
        response = self.client.get(path, params, headers, shrinkable=shrinkable)
        return json_of(response), response.headers

    def same_origin(self, url: str, table: str) -> str:
        """A next URL the API gave, refused when it leads off the API's host (the credentials would go with it)."""
        given, base = urlsplit(url), urlsplit(self.base_url)
        if given.scheme and (given.scheme, given.netloc) != (base.scheme, base.netloc):
            raise SourceError(f"table {table}: the API's next page is on another host ({given.netloc}); udc does not "
                              "send the credentials there", "check base_url: it must be the host the API links to")
        return url


def record_key(row: Record, keys: list[str], table: str) -> str:
    parts = []
    for key in keys:
        value = dig(row, key)
        if value is _MISSING or value is None:
            raise SourceError(f"table {table}: a record has no primary key field '{key}': "
                              f"{orjson.dumps(row).decode()[:200]}",
                              "check primary_key (a dotted path into each record)")
        parts.append(str(value))
    return "|".join(parts)


# ---------------------------------------------------------------------------------------------------------------
# Streams


@dataclass
class Query:
    """One window's listing from a position: the first request, and what the client keeps of its answer — rows
    before `end` whose (cursor, key) lies after `after`; `held`: rows at the last cursor value read so far, waiting
    until their tie group is whole."""

    first: Request
    end: str
    after: tuple[str, str] | None
    listing: Listing = field(default_factory=Listing)
    held: dict[str, Row] = field(default_factory=dict)
    last: str = ""  # the cursor of the last row read, to check the API's order


@dataclass
class RestStream(KeysetStream[Query, Request]):
    """One table of the REST source (see the module's doc for how each kind is read)."""

    api: Api
    connector: str
    spec: RestTable
    batch_size: int
    name: str = ""
    dataset: str = ""
    primary_key: str = KEY
    cursor_field: str = ""
    shifts: int = 0  # restarts after a listing moved, from `shifted_at`
    shifted_at: tuple[str, str] | None = ("", "")
    adaptive: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.name, self.dataset = self.spec.name, dataset_of(self.connector, self.spec.name)
        self.keys = self.spec.keys
        self.primary_key = "|".join(self.keys)
        self.cursor_field = self.spec.cursor.field if self.spec.cursor else ""

    # -- the row ------------------------------------------------------------------------------------------------

    def key_of(self, row: Record) -> str:
        return record_key(row, self.keys, self.name)

    def cursor_of(self, record: Record) -> str:
        spec = self.spec.cursor
        if spec is None:
            return SNAPSHOT_CURSOR
        value = dig(record, spec.field)
        try:
            if value is _MISSING or value is None:
                raise ValueError("the field is missing")
            return cursor_text(parse_cursor(value, spec))
        except (ValueError, OverflowError) as exc:
            shown = "missing" if value is _MISSING else repr(value)
            raise SourceError(
                f"table {self.name}: cursor {spec.field} = {shown} (record {self.key_of(record)}) does not parse as "
                f"{spec.format}{'' if spec.tz == 'UTC' else ' in ' + spec.tz} ({exc})",
                "set cursor.format to the format the API writes (iso8601, epoch_s, epoch_ms or a strptime format "
                "such as '%Y-%m-%d %H:%M:%S'), and cursor.tz for values without an offset") from None

    def position_of(self, row: Any) -> Position:
        return Position(row[0], row[1])  # rows travel as (cursor, key, record) between fetch and page

    def links_of(self, record: Record) -> list[tuple[str, str, str]]:
        links = []
        for link in self.spec.links:
            value = dig(record, link.field)
            if value is not _MISSING and value not in (None, ""):
                links.append((link.rel or link.field, dataset_of(self.connector, link.to), str(value)))
        return links

    def encode(self, cursor: str, key: str, record: Record, extra: list[tuple[str, str, str]] | None = None
               ) -> EncodedRecord:
        links = [*self.links_of(record), *(extra or [])]
        return key, cursor, orjson.dumps(record), orjson.dumps(links).decode() if links else None

    def page(self, rows: list[Any], position: Position | None) -> Page:
        return Page(encoded=[self.encode(c, k, r) for c, k, r in rows], position=position)

    # -- requests -----------------------------------------------------------------------------------------------

    def first_request(self, window: Window | None, after: Position | None, limit: int, path: str | None = None
                      ) -> Request:
        spec, params = self.spec, dict[str, Any]()
        bounds: dict[str, str] = {}
        if spec.window is not None and spec.cursor is not None and window is not None:
            fmt, tz = spec.window.format or spec.cursor.format, spec.cursor.tz
            at = datetime.fromisoformat(after.cursor.replace("Z", "+00:00")) if after is not None else EPOCH
            # {start}: the overlap before the position; {after} and {after_key}: the position itself, for an API
            # that can be asked for rows after (cursor, key) (ServiceNow: `>{after}^NQ={after}^sys_id>{after_key}`)
            bounds = {"start": format_time(max(at - spec.window.overlap, EPOCH), fmt, tz),
                      "end": format_time(window.end, fmt, tz, up=True),
                      "after": format_time(at, fmt, tz), "after_key": after.pk if after is not None else ""}
            if spec.window.start_param and after is not None:
                params[spec.window.start_param] = bounds["start"]
            if spec.window.end_param:
                params[spec.window.end_param] = bounds["end"]
        for name, value in spec.params.items():
            params[name] = _PLACEHOLDER.sub(lambda m: bounds.get(m.group(1), ""), value) if isinstance(value, str) \
                else value
        paginator = spec.paginator
        if paginator.limit_param:
            params[paginator.limit_param] = limit
        offset = 0
        if isinstance(paginator, OffsetPaginator | PagePaginator):
            offset = paginator.start
            params[paginator.offset_param if isinstance(paginator, OffsetPaginator) else paginator.page_param] = offset
        return Request(path or spec.path, params, offset)

    def records_of(self, body: Any) -> list[Any]:
        raw = dig(body, self.spec.records)
        if not isinstance(raw, list):
            where = f"at '{self.spec.records}'" if self.spec.records else "(the body itself)"
            raise ConfigError(f"table {self.name}: the response has no list of records {where}: "
                              f"{orjson.dumps(body).decode()[:200]}",
                              "set records: to the dotted path of the list in the body (\"\" when the body is the "
                              "list); `udc discover` shows the first page")
        return raw

    def call(self, request: Request, listing: Listing, limit: int, shrinkable: bool = False
             ) -> tuple[list[Row], Request | None]:
        """One page: its rows as (cursor, key, record) (new ones only, for an offset listing's overlap) and the
        next request (None: the paginator's end signal). Raises `Shifted` when the page moved under the read.
        `shrinkable`: the caller halves its batch on a 502/504 (the keyset read), so those are raised at once."""
        body, headers = self.api.get(request, self.spec.headers, shrinkable=shrinkable)
        raw = self.records_of(body)
        rows = [(self.cursor_of(r), self.key_of(r), r) for r in raw if isinstance(r, dict)]
        paginator = self.spec.paginator
        if request.anchor is not None:  # the overlap: this page's first row must be the last one read
            if not rows or rows[0][1] != request.anchor:
                raise Shifted(f"offset {request.offset}: expected {request.anchor} first")
            rows = rows[1:]
        total = dig(body, paginator.total_path) if isinstance(paginator, OffsetPaginator | PagePaginator) \
            and paginator.total_path else _MISSING
        if listing.total is _MISSING:
            listing.total = total
        elif total != listing.total:
            raise Shifted(f"the count moved from {listing.total} to {total}")
        if rows and not isinstance(paginator, OffsetPaginator):
            if (rows[0][1], rows[0][0]) in listing.seen:
                raise Shifted(f"the next page starts with {rows[0][1]} at {rows[0][0]}, already read")
            listing.seen.update((key, cursor) for cursor, key, _ in rows)
        return rows, self.next_request(request, body, headers, raw, rows, total, limit)

    def next_request(self, request: Request, body: Any, headers: httpx.Headers, raw: list[Any], rows: list[Row],
                     total: Any, limit: int) -> Request | None:
        paginator = self.spec.paginator
        if not isinstance(paginator, OffsetPaginator | PagePaginator | CursorPaginator | NextUrlPaginator
                          | LinkHeaderPaginator):
            return None
        if paginator.has_more and dig(body, paginator.has_more) in (False, "false", 0, None, _MISSING):
            return None
        if paginator.is_last and dig(body, paginator.is_last) in (True, "true", 1):
            return None
        flagged = bool(paginator.has_more or paginator.is_last)
        params = dict(request.params or {})
        if isinstance(paginator, OffsetPaginator):
            if not raw or (not rows and request.anchor is not None and not flagged and total is _MISSING):
                return None  # an empty page (or the overlap row alone): the end, for an offset listing
            consumed = request.offset + len(raw)
            if isinstance(total, int) and consumed >= total:
                return None
            overlap = len(raw) > 1  # re-read the last row: a listing that moved shows it elsewhere
            offset = consumed - 1 if overlap else consumed
            params[paginator.offset_param] = offset
            return Request(request.path, params, offset, self.key_of(raw[-1]) if overlap else None)
        if isinstance(paginator, PagePaginator):
            if not raw:
                return None
            if isinstance(total, int) and paginator.limit_param and (request.offset - paginator.start + 1) * limit \
                    >= total:
                return None
            params[paginator.page_param] = request.offset + 1
            return Request(request.path, params, request.offset + 1)
        if isinstance(paginator, CursorPaginator):
            token = dig(body, paginator.token_path)
            if token in (None, "", _MISSING):
                return None
            params[paginator.token_param] = token
            return Request(request.path, params)
        if isinstance(paginator, NextUrlPaginator):
            url = dig(body, paginator.url_path)
            return Request(self.api.same_origin(url, self.name), None) if isinstance(url, str) and url else None
        found = _LINK_NEXT.search(",".join(headers.get_list("link")))
        return Request(self.api.same_origin(found.group(1), self.name), None) if found else None

    # -- the keyset dialect (order: cursor) --------------------------------------------------------------------

    def query(self, window: Window, after: Position | None) -> Query:
        return Query(self.first_request(window, after, self.batch_size), cursor_str(window.end),
                     (after.cursor, after.pk) if after else None)

    def fetch(self, query: Query, continuation: Request | None, limit: int) -> Batch[Request]:
        """One page of the keyset read. A fresh query's first page that brings nothing new (the re-read boundary
        and a tie group fill it) is asked again larger rather than followed: a continuation (an offset, a token) is
        a position in a listing that may move, a new query is not. Only an API that caps its pages below what a tie
        group needs is followed page by page."""
        size = limit
        while True:
            request = continuation or self.limited(query.first, size)
            try:
                rows, more = self.call(request, query.listing, size, shrinkable=True)
            except Shifted as why:
                self.shifted(query.after, why)
                return Batch([], None, restart=True)
            ready, more = self.keep(query, rows, more)
            if ready or more is None or continuation is not None or len(rows) < size or size >= MAX_PAGE:
                return Batch(ready, more)
            size = min(size * 4, MAX_PAGE)
            query.listing, query.held, query.last = Listing(), {}, ""

    def shifted(self, after: tuple[str, str] | None, why: Shifted) -> None:
        """Count the restarts from one position: a listing that keeps moving under the read ends the run
        (checkpointed) instead of looping."""
        self.shifts = self.shifts + 1 if after == self.shifted_at else 1
        self.shifted_at = after
        if self.shifts > MAX_RESTARTS:
            raise SourceError(f"table {self.name}: the listing kept moving while it was read ({MAX_RESTARTS} times "
                              f"from one position: {why})", "progress up to the last stored page is kept; run again "
                              "when the source is quieter")
        log.warning("%s: the listing moved while paging (%s); reading again from the last position", self.dataset,
                    why)

    def keep(self, query: Query, rows: list[Row], more: Request | None) -> tuple[list[Row], Request | None]:
        """The rows ready to store, in (cursor, key) order: after the position, before the end, and not in the tie
        group at the last cursor value read while the listing goes on (held until it is whole)."""
        past_end = False
        for cursor, key, row in rows:
            if cursor < query.last:
                raise SourceError(f"table {self.name}: records are not in ascending {self.cursor_field} order "
                                  f"({key} at {cursor} came after {query.last})",
                                  "make the API sort by the cursor ascending (a sort parameter in params), or set "
                                  "order: none")
            query.last = cursor
            if cursor >= query.end:
                past_end = True
                break
            if query.after is None or (cursor, key) > query.after:
                query.held[key] = (cursor, key, row)
        if more is None or past_end:
            ready, query.held = sorted(query.held.values(), key=lambda r: (r[0], r[1])), {}
            return ready, None
        ready = sorted((r for r in query.held.values() if r[0] < query.last), key=lambda r: (r[0], r[1]))
        for _, key, _ in ready:
            del query.held[key]
        return ready, more

    def limited(self, request: Request, limit: int) -> Request:
        name = self.spec.paginator.limit_param
        if not name or request.params is None or request.params.get(name) == limit:
            return request
        return Request(request.path, {**request.params, name: limit}, request.offset, request.anchor)

    # -- reading ------------------------------------------------------------------------------------------------

    def read(self, window: Window, resume: Position | None) -> Iterator[Page]:
        if self.spec.order == "cursor":
            yield from super().read(window, resume)
            return
        yield from self.read_whole(window, resume)

    def read_whole(self, window: Window, resume: Position | None) -> Iterator[Page]:
        """`order: none` and tables without a cursor: the window's listing to its end, each page stored as it
        comes (no position until the pass ends); a listing that moved is read again from the start."""
        after = resume or (Position(cursor_str(window.start)) if window.start else None)
        start, end = (after.cursor if after else ""), cursor_str(window.end)
        kept: set[tuple[str, str]] = set()  # (key, cursor) stored by this pass: a re-read row is not sent twice
        for attempt in range(MAX_RESTARTS + 1):
            listing = Listing()
            request: Request | None = self.first_request(window, after, self.batch_size)
            try:
                while request is not None:
                    rows, request = self.call(request, listing, self.batch_size)
                    fresh = []
                    for cursor, key, row in rows:
                        inside = self.spec.cursor is None or start <= cursor < end
                        if inside and (key, cursor) not in kept:
                            kept.add((key, cursor))
                            fresh.append((cursor, key, row))
                    if fresh:
                        yield self.page(fresh, None)
                return
            except Shifted as why:
                log.warning("%s: the listing moved while paging (%s); reading it again (%d)", self.dataset, why,
                            attempt + 1)
        raise SourceError(f"table {self.name}: the listing kept moving while it was read ({MAX_RESTARTS} times)",
                          "progress up to the last stored page is kept; run again when the source is quieter, or "
                          "set order: cursor if the API sorts by the cursor")

    def probe(self) -> list[Record]:
        """The first page (a few records), to check the table's shape before any data is stored."""
        now = datetime.now(UTC).replace(microsecond=0)
        body, _ = self.api.get(self.first_request(Window(None, now), None, min(self.batch_size, 20)),
                               self.spec.headers)
        return [r for r in self.records_of(body) if isinstance(r, dict)]


@dataclass
class ChildStream:
    """A child endpoint (`/incidents/{parent.id}/log_entries`), read whole for each parent record the parent's pass
    reads; its position is the parent's, so a resumed pass continues with the next parent."""

    parent: RestStream
    child: RestStream
    name: str = ""
    dataset: str = ""
    primary_key: str = ""
    cursor_field: str = ""

    def __post_init__(self) -> None:
        self.name, self.dataset = self.child.name, self.child.dataset
        self.primary_key, self.cursor_field = self.child.primary_key, self.child.cursor_field

    def cursor_of(self, record: Record) -> str:
        return self.child.cursor_of(record)

    def read(self, window: Window, resume: Position | None) -> Iterator[Page]:
        for page in self.parent.read(window, resume):
            encoded = page.encoded or []
            for index, (parent_key, _, data, _) in enumerate(encoded):
                records = self.children(orjson.loads(data), parent_key)
                yield Page(encoded=records, position=page.position if index == len(encoded) - 1 else None)
            if not encoded and page.position is not None:
                yield Page(position=page.position)

    def children(self, parent: Record, parent_key: str) -> list[EncodedRecord]:
        def value(match: re.Match[str]) -> str:
            found = dig(parent, match.group(1))
            if found is _MISSING or found is None:
                raise SourceError(f"table {self.name}: parent record {parent_key} has no field '{match.group(1)}' "
                                  f"for its path {self.child.spec.path}", "check the {parent.…} field in path")
            return quote(str(found), safe="")

        path = _PARENT.sub(value, self.child.spec.path)
        request: Request | None = self.child.first_request(None, None, self.child.batch_size, path)
        listing, out, seen = Listing(), [], set()
        back = [("parent", self.parent.dataset, parent_key)]
        for _ in range(MAX_RESTARTS + 1):
            try:
                while request is not None:
                    rows, request = self.child.call(request, listing, self.child.batch_size)
                    for cursor, key, row in rows:
                        if (key, cursor) not in seen:
                            seen.add((key, cursor))
                            out.append(self.child.encode(cursor, key, row, back))
                return out
            except Shifted:
                listing, request = Listing(), self.child.first_request(None, None, self.child.batch_size, path)
        raise SourceError(f"table {self.name}: the listing of {path} kept moving while it was read",
                          "run again when the source is quieter")


# ---------------------------------------------------------------------------------------------------------------
# Source


def http_auth(auth: Any) -> Auth | None:
    """The auth the shared HTTP client runs (basic, bearer, OAuth client credentials); None for none and api_key,
    which travel as a header or parameter of every request."""
    if isinstance(auth, BasicAuth | BearerAuth):
        return auth
    if isinstance(auth, RestClientCredentials):
        return ClientCredentialsAuth(type="oauth_client_credentials", client_id=auth.client_id,
                                     client_secret=auth.client_secret, token_url=auth.token_url, scope=auth.scope)
    return None


def api_for(name: str, connector: RestConnector, pipeline: RestPipeline, check: bool = False) -> Api:
    base = connector.base_url.rstrip("/")
    auth = http_auth(connector.auth)
    if check:
        client = check_client(base, auth, pipeline, name, verify_tls=connector.verify_tls)  # type: ignore[arg-type]
    else:
        client = HttpClient.for_pipeline(name, base, auth, pipeline, verify_tls=connector.verify_tls)  # type: ignore[arg-type]
    headers, params = dict(connector.headers), {}
    if isinstance(connector.auth, ApiKeyAuth):
        value = connector.auth.value.get_secret_value()
        if connector.auth.header:
            headers[connector.auth.header] = value
        elif connector.auth.query:
            params[connector.auth.query] = value
    return Api(client, base, headers, params)


@dataclass
class ScanStream(RestStream):
    """`order: cursor` without a window: the API cannot filter, so the listing is followed to its end (or the first
    row past the window) instead of being sent again from the start after every page."""

    restart_after_page: ClassVar[bool] = False


def streams_for(api: Api, name: str, pipeline: RestPipeline) -> dict[str, RestStream | ChildStream]:
    plain = {t.name: (ScanStream if t.order == "cursor" and not t.filters_start else RestStream)(
        api, name, t, pipeline.batch_size) for t in pipeline.tables}
    # a child reads its parent's listing with a stream of its own: streams run in threads of their own
    return {t.name: ChildStream(replace(plain[t.parent]), plain[t.name]) if t.parent else plain[t.name]
            for t in pipeline.tables}


def shape_problem(stream: RestStream, rows: list[Record]) -> ConfigError | None:
    """The first record against the table's declared key and cursor (a missing field is a config mistake)."""
    if not rows:
        return None
    first = rows[0]
    for key in stream.spec.keys:
        if dig(first, key) in (_MISSING, None):
            fields = ", ".join(list(flat_fields(first))[:15])
            return ConfigError(f"table {stream.name}: the first record has no primary key field '{key}' "
                               f"(its fields: {fields})", "set primary_key to a field every record has")
    spec = stream.spec.cursor
    if spec is not None and dig(first, spec.field) is _MISSING:
        fields = ", ".join(list(flat_fields(first))[:15])
        return ConfigError(f"table {stream.name}: the first record has no cursor field '{spec.field}' "
                           f"(its fields: {fields})", "set cursor.field to the record's last-updated field")
    return None


class RestSource:
    def __init__(self, name: str, connector: RestConnector, pipeline: RestPipeline) -> None:
        self.name, self.connector, self.pipeline = name, connector, pipeline
        self.api = api_for(name, connector, pipeline)
        self.notes: list[str] = []

    def streams(self) -> list[Stream]:
        """Every table, after its first page was checked against the declared shape (records path, key, cursor
        and its format), so a mistake stops the run before anything is stored."""
        streams = streams_for(self.api, self.name, self.pipeline)
        for spec in self.pipeline.tables:
            paging = spec.paginator
            if spec.order == "none" and spec.cursor is not None and not isinstance(paging, OffsetPaginator) and \
                    not (isinstance(paging, PagePaginator) and paging.total_path) and paging.type != "none":
                self.notes.append(f"{self.name}/{spec.name}: a {paging.type} listing read without order cannot see a "
                                  "record move past the read while paging; set order: cursor if the API sorts by "
                                  f"{spec.cursor.field}, or total_path")
        for stream in streams.values():
            if isinstance(stream, RestStream):
                rows = stream.probe()
                problem = shape_problem(stream, rows)
                if problem is not None:
                    raise problem
                if rows:
                    stream.cursor_of(rows[0])
        return list(streams.values())

    @property
    def stats(self) -> CallStats:
        return self.api.client.stats

    def close(self) -> None:
        self.api.client.close()


def build(config: Config, pipeline_name: str) -> RestSource:
    pipeline = config.pipeline(pipeline_name)
    connector = config.connector(pipeline.connector)
    assert isinstance(connector, RestConnector) and isinstance(pipeline, RestPipeline)
    return RestSource(pipeline.connector, connector, pipeline)


# ---------------------------------------------------------------------------------------------------------------
# Discovery and diagnostics


def _table(pipeline: RestPipeline, table: str) -> RestTable:
    names = [t.name for t in pipeline.tables]
    if table not in names:
        raise ConfigError(f"'{table}' is not a table of this connector's pipelines",
                          f"use one of: {', '.join(names) or '(none: declare tables in a pipeline)'}")
    return pipeline.tables[names.index(table)]


def discover(name: str, connector: RestConnector, pipeline: RestPipeline, table: str | None
             ) -> dict[str, dict[str, str]]:
    """The declared tables (with their paths); for one table, the fields of its first page's records and their
    JSON types (a child table: the children of the parent's first record)."""
    if table is None:
        return {t.name: {t.path: "path"} for t in pipeline.tables}
    spec = _table(pipeline, table)
    api = api_for(name, connector, pipeline)
    try:
        streams = streams_for(api, name, pipeline)
        stream = streams[table]
        if isinstance(stream, ChildStream):
            parents = stream.parent.probe()
            if not parents:
                return {table: {}}
            rows = [orjson.loads(data) for _, _, data, _ in
                    stream.children(parents[0], stream.parent.key_of(parents[0]))[:20]]
        else:
            rows = stream.probe()
        fields: dict[str, str] = {}
        for row in rows:
            fields.update({k: v for k, v in flat_fields(row).items() if v != "null" or k not in fields})
        return {spec.name: fields}
    finally:
        api.client.close()


def check(name: str, connector: RestConnector, pipeline: RestPipeline) -> list[Finding]:
    """`udc check`: each table's first page — auth, permission (0 records), the records path, the key and cursor
    fields, and the cursor's format on the first record."""
    if not pipeline.tables:
        return [Finding("warn", "tables", "no pipeline declares tables for this connector: nothing to check",
                        "add a pipeline with tables: [{name, path, ...}]")]
    api = api_for(name, connector, pipeline, check=True)
    findings: list[Finding] = []
    try:
        for stream in streams_for(api, name, pipeline).values():
            if isinstance(stream, ChildStream):
                findings.append(Finding("skip", f"table {stream.name}", f"a child of {stream.parent.name}: read "
                                        "for each parent record"))
                continue
            request = f"GET {stream.spec.path}"
            try:
                rows = stream.probe()
            except HttpError as exc:
                findings += _http_findings(exc, connector, request, api.base_url, stream.name)
                if exc.status in (401, None) or exc.kind != "status":
                    return findings
                continue
            except UdcError as exc:
                findings.append(Finding("fail", f"table {stream.name}", exc.message, exc.hint))
                continue
            if not rows:
                findings.append(Finding("warn", f"table {stream.name}", f"{request}: 0 records",
                                        "the account may not be allowed to see any (permission), or the endpoint "
                                        "is empty: check in the API's own UI"))
                continue
            problem = shape_problem(stream, rows)
            if problem is not None:
                findings.append(Finding("fail", f"table {stream.name}", problem.message, problem.hint))
                continue
            try:
                cursor = stream.cursor_of(rows[0])
            except UdcError as exc:
                findings.append(Finding("fail", f"table {stream.name} cursor", exc.message, exc.hint))
                continue
            said = f"; cursor {stream.cursor_field} reads as {cursor}" if stream.spec.cursor else ""
            findings.append(Finding("ok", f"table {stream.name}", f"{request}: {len(rows)} record(s) on the first "
                                    f"page, key {stream.primary_key} present{said}"))
    finally:
        api.client.close()
    return findings


def _http_findings(exc: HttpError, connector: RestConnector, request: str, url: str, table: str) -> list[Finding]:
    auth = connector.auth
    if exc.status == 401 and isinstance(auth, NoAuth | ApiKeyAuth):
        where = "no credentials are configured" if isinstance(auth, NoAuth) else \
            f"the API key in {'header ' + str(auth.header) if auth.header else 'parameter ' + str(auth.query)}"
        return [Finding("fail", "401 Unauthorized", f"{request} returned 401 ({where})",
                        "set auth: to what the API expects (api_key with the right header and value format, "
                        "bearer, basic or oauth_client_credentials), and check the key is valid")]
    if exc.status == 403:
        return [Finding("fail", f"table {table}: 403 Forbidden", f"{request}: {exc.message}",
                        "the credentials work but may not read this endpoint: grant the account read access")]
    shown = http_auth(auth) or BearerAuth.model_construct(type="bearer", token=SecretStr(""))  # 401 is handled above
    return connection_findings(exc, request=request, auth=shown, url=url)
