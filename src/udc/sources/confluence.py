"""Confluence connector: Cloud (v2 `/wiki/api/v2` for spaces and bodies, CQL through v1 `/wiki/rest/api`) and
Server / Data Center (v1 `/rest/api`, `start`/`limit`).

v2 lists cannot filter by modification date, so changes are read with CQL: `lastmodified >= "yyyy/MM/dd HH:mm"`,
minute-precision and read in the account's (Cloud) or server's zone, with DST. The literals come from
`udc.sources.atlassian`: every reading of the lower one lies at least a minute before the position (the overlap),
every reading of the upper one at or after the window's end; the client keeps only what lies strictly after the
keyset position (lastmodified, id) and before the end, once per (id, version), so content edited in the boundary
minute is neither lost nor doubled.

CQL orders by `lastmodified` only, and equal timestamps may straddle a page boundary in any order: rows at the
page's last timestamp are held until a later timestamp (or the end) shows their group is whole, then kept in
(lastmodified, id) order. After each page the query is sent again from the keyset position (`restart_after_page`),
so content edited mid-read never shifts unseen rows past the read; `next` links only step over already-seen rows.
Only a missing `next` link ends a listing: restricted content is dropped after the limit, so pages come back short.

On Cloud the bodies are fetched by id from v2 (`/pages?id=…`, `/blogposts?id=…`, `/footer-comments/{id}`); a v2
`next` link already holds `/wiki` and is joined to the site origin, a v1 one is relative to the `/wiki` context.
Server returns bodies with the search (`expand=body.storage`) and caps `limit` below what was asked.

Every listed space is checked first (the space-gap report): readable (with its page count), or absent — Confluence
answers "does not exist" and "cannot read" the same way. Tables: `pages` (default), `blogposts`, `comments`,
`spaces`; trashed, purged and archived pages and blog posts become tombstones (`<table>.deletes`).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from udc.config import BearerAuth, Config, ConfluenceConnector, ConfluencePipeline
from udc.config.confluence import TABLES
from udc.errors import ConfigError, SourceError, UdcError
from udc.http.client import CallStats, HttpClient, HttpError
from udc.http.errors import source_message
from udc.records import Page, Position, Record, Window
from udc.sources.atlassian import adf_text, lower_literal, upper_literal
from udc.sources.base import Stream
from udc.sources.diagnostics import Finding, check_client, connection_findings
from udc.sources.keyset import SNAPSHOT_CURSOR, Batch, KeysetStream, dataset_of
from udc.timeutil import cursor_str, parse_time

log = logging.getLogger("udc.confluence")

KEY = "id"
CQL_TYPE = {"pages": "page", "blogposts": "blogpost", "comments": "comment"}
V2_LIST = {"pages": "pages", "blogposts": "blogposts"}
MAX_LIMIT = 250  # v2's cap, and the most ids one `?id=` filter takes
GONE = {"pages": "trashed,deleted,archived", "blogposts": "trashed,deleted"}  # blog posts cannot be archived
# the fields of a stored record and their types, as `udc discover` shows them
FIELDS = {"id": "string", "type": "string", "space_key": "string", "space_id": "string", "title": "string",
          "status": "string", "version": "integer", "author": "string", "created": "datetime", "updated": "datetime",
          "parent_id": "string", "container_id": "string", "container_type": "string", "location": "string",
          "labels": "array", "body": "string", "body_format": "string", "body_text": "string", "url": "string"}
SPACE_FIELDS = {"id": "string", "key": "string", "name": "string", "type": "string", "status": "string",
                "homepageId": "string"}
_JIRA_KEY = re.compile(r"\b([A-Z][A-Z0-9_]{1,9}-[1-9]\d*)\b")
_PAGE_LINK = re.compile(r"""(?:/pages/|pageId=|ri:content-id=")(\d+)""")
UNREADABLE_FIX = ("Confluence answers 'does not exist' and 'cannot read' the same way: open the space in a browser "
                  "as the service account (or check Space settings → Permissions) to tell which; fix the key in "
                  "space_keys, or grant the account View on the space")


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers


def id_order(content_id: str) -> str:
    """A string whose order is the numeric order of Confluence ids."""
    return content_id.zfill(20)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre"):
            self.parts.append("\n")


def storage_text(storage: str) -> str:
    """Plain text of a storage-format (XHTML) body."""
    parser = _Text()
    parser.feed(storage)
    parser.close()
    return re.sub(r"\n{2,}", "\n\n", html.unescape("".join(parser.parts))).strip()


def body_text(value: str, body_format: str) -> str:
    if body_format == "atlas_doc_format":
        try:
            return adf_text(orjson.loads(value)).strip()
        except orjson.JSONDecodeError:
            return value
    return storage_text(value)


def mentions(body: str, text: str) -> tuple[list[str], list[str]]:
    """Jira issue keys named in the text, and ids of Confluence pages linked from the body."""
    keys = list(dict.fromkeys(_JIRA_KEY.findall(text)))
    pages = list(dict.fromkeys(_PAGE_LINK.findall(body)))
    return keys, pages


# ---------------------------------------------------------------------------------------------------------------
# API access


@dataclass
class SpaceReport:
    """The listed spaces this account can read (key → space), and those it cannot (absent or unreadable)."""

    readable: dict[str, Record]
    missing: list[str]
    counts: dict[str, int] = field(default_factory=dict)  # key → pages

    def lines(self) -> list[str]:
        seen = [f"{k} readable ({self.counts.get(k, 0):,} pages)" for k in self.readable]
        gone = [f"{k} does not exist or is not readable by this account" for k in self.missing]
        return seen + gone


class ConfluenceApi:
    def __init__(self, client: HttpClient, deployment: str, auth_kind: str) -> None:
        self.client, self.deployment, self.auth_kind = client, deployment, auth_kind
        self.context = "/wiki" if deployment == "cloud" else ""  # Server's context path is in the client's base
        self.v1 = self.context + "/rest/api"
        self.v2 = "/wiki/api/v2"
        self._tz: tuple[ZoneInfo | None, str | None] | None = None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self.client.get_json(path, params)
        except HttpError as exc:
            raise explain(exc, self.deployment, self.auth_kind) from None

    def follow(self, link: str, v2: bool) -> str:
        """A `next` link as a path on the client's base: v2 links hold `/wiki` already (joining them to a base that
        ends in /wiki doubles it); v1 links are relative to the context."""
        path = urlsplit(link).path
        if v2 or path.startswith(self.v1):
            return link
        return self.context + link

    def zone(self, me: Record | None = None) -> tuple[ZoneInfo | None, str | None]:
        """The zone CQL dates are read in (the account's on Cloud, the user's or server's on Server), from `me`, the
        account's `/user/current` answer, when the caller has it already."""
        if self._tz is None:
            name = (me if me is not None else self.get(f"{self.v1}/user/current")).get("timeZone")
            tz: ZoneInfo | None = None
            if name:
                try:
                    tz = ZoneInfo(name)
                except (ZoneInfoNotFoundError, ValueError):
                    log.warning("confluence: unknown time zone %r; widening date overlaps to +-14h", name)
            self._tz = (tz, name)
        return self._tz

    def spaces(self, keys: list[str]) -> SpaceReport:
        found: dict[str, Record] = {}
        if self.deployment == "cloud":
            for chunk in (keys[i:i + MAX_LIMIT] for i in range(0, len(keys), MAX_LIMIT)):
                for space in self.v2_list("spaces", {"keys": ",".join(chunk), "limit": MAX_LIMIT}):
                    found[str(space["key"]).upper()] = space
        else:
            for space in self.v1_list("space", {"spaceKey": keys, "limit": 100}):
                found[str(space["key"]).upper()] = space
        readable = {k: found[k.upper()] for k in keys if k.upper() in found}
        return SpaceReport(readable, [k for k in keys if k.upper() not in found])

    def count(self, key: str, kind: str = "page") -> int:
        data = self.get(f"{self.v1}/search", {"cql": f'space = "{key}" AND type = {kind}', "limit": 1})
        return int(data.get("totalSize") or 0)

    def v2_list(self, what: str, params: dict[str, Any]) -> Iterator[Record]:
        return self._listing(f"{self.v2}/{what}", params, v2=True)

    def v1_list(self, what: str, params: dict[str, Any]) -> Iterator[Record]:
        return self._listing(f"{self.v1}/{what}", params, v2=False)

    def _listing(self, first: str, params: dict[str, Any], v2: bool) -> Iterator[Record]:
        """Every result of a listing: its `next` links followed until there is none (short pages do not end it)."""
        path: str | None = first
        query: dict[str, Any] | None = params
        while path:
            data = self.get(path, query)
            yield from data.get("results") or []
            link = (data.get("_links") or {}).get("next")
            path, query = (self.follow(link, v2), None) if link else (None, None)

    def search(self, cql: str, expand: str, continuation: str | None, limit: int
               ) -> tuple[list[Record], str | None]:
        """One CQL page and the path to the next (None: the API says this was the last)."""
        if continuation:
            data = self.get(continuation)
        else:
            data = self.get(f"{self.v1}/content/search", {"cql": cql, "limit": limit, "expand": expand})
        link = (data.get("_links") or {}).get("next")
        return list(data.get("results") or []), self.follow(link, v2=False) if link else None

    def bodies(self, table: str, rows: list[Record], body_format: str) -> dict[str, Record]:
        """v2 documents (with bodies) by id: one listing per 250 pages or blog posts, one request per comment."""
        out: dict[str, Record] = {}
        if table in V2_LIST:
            ids = [str(r["id"]) for r in rows]
            for chunk in (ids[i:i + MAX_LIMIT] for i in range(0, len(ids), MAX_LIMIT)):
                for doc in self.v2_list(V2_LIST[table], {"id": ",".join(chunk), "body-format": body_format,
                                                         "limit": MAX_LIMIT}):
                    out[str(doc["id"])] = doc
            return out
        for row in rows:
            where = (row.get("extensions") or {}).get("location") or "footer"
            try:
                out[str(row["id"])] = self.client.get_json(f"{self.v2}/{where}-comments/{row['id']}",
                                                           {"body-format": body_format})
            except HttpError as exc:
                if exc.status != 404:  # deleted or restricted since the search: its next change tells
                    raise explain(exc, self.deployment, self.auth_kind) from None
        return out


def explain(exc: HttpError, deployment: str, auth_kind: str) -> UdcError:
    """A Confluence failure as a message and a fix (401 credentials, 400 CQL, 429)."""
    status, body = exc.status, exc.body or ""
    if status == 401:
        return SourceError(f"Confluence refused the credentials (HTTP 401 on {urlsplit(exc.url).path})",
                           auth_hint(deployment, auth_kind))
    if status == 400:
        return ConfigError(f"Confluence rejected the request: {source_message(body) or body[:300]}",
                           "check space_keys (letters and digits only)")
    if status == 429:
        retry = {k.lower(): v for k, v in exc.headers.items()}.get("retry-after", "?")
        return SourceError(f"Confluence kept rate limiting (HTTP 429; Retry-After {retry}s)",
                           "lower max_calls_per_minute, or sync outside busy hours")
    return exc


def auth_hint(deployment: str, auth_kind: str) -> str:
    if deployment == "cloud":
        if auth_kind == "bearer":
            return ("Confluence Cloud REST takes basic auth with your email and an API token (auth type: basic, "
                    "username: <email>, password: env:CONFLUENCE_TOKEN), not a bearer token")
        return ("use the Atlassian account's email as username and an API token (not the account password) as "
                "password; create one at id.atlassian.com → Security → API tokens (tokens can expire)")
    if auth_kind == "bearer":
        return "the personal access token is invalid, expired or revoked: create one under Profile → Personal Access " \
               "Tokens"
    return "the username/password was refused: prefer a personal access token (auth type: bearer)"


# ---------------------------------------------------------------------------------------------------------------
# Streams


@dataclass
class ContentQuery:
    """A window's CQL from a position, and what the client keeps of its answer: content before `end` whose
    (lastmodified, id) lies after `after`. `held`: rows at the last timestamp of pages read so far, waiting until
    their tie group is whole."""

    cql: str
    end: str
    after: tuple[str, str]
    held: dict[str, Record] = field(default_factory=dict)


def _at(row: Record) -> tuple[str, str]:
    return cursor_str(row["version"]["when"]), id_order(str(row["id"]))


@dataclass
class ContentStream(KeysetStream[ContentQuery, str]):
    """Pages, blog posts or comments of the listed spaces changed in a window (CQL), in (lastmodified, id) order."""

    api: ConfluenceApi
    connector: str
    name: str
    spaces: dict[str, Record]
    body_format: str
    batch_size: int
    dataset: str = ""
    primary_key: str = KEY
    cursor_field: str = "updated"

    def __post_init__(self) -> None:
        self.dataset = dataset_of(self.connector, self.name)
        self.expand = "version,space,history,ancestors,container,metadata.labels,extensions" + (
            ",body.storage" if self.api.deployment == "server" else "")

    def query(self, window: Window, after: Position | None) -> ContentQuery:
        tz, _ = self.api.zone()
        keys = ", ".join(f'"{k}"' for k in self.spaces)
        clauses = [f"space in ({keys})", f"type = {CQL_TYPE[self.name]}"]
        if after is not None:
            clauses.append(f'lastmodified >= "{lower_literal(parse_time(after.cursor), tz)[0]}"')
        clauses.append(f'lastmodified < "{upper_literal(window.end, tz)}"')
        cql = " AND ".join(clauses) + " ORDER BY lastmodified ASC"
        return ContentQuery(cql, cursor_str(window.end),
                            (after.cursor, id_order(after.pk) if after.pk else "") if after else ("", ""))

    def fetch(self, query: ContentQuery, continuation: str | None, limit: int) -> Batch[str]:
        rows, more = self.api.search(query.cql, self.expand, continuation, min(limit, MAX_LIMIT))
        for row in rows:
            at = _at(row)
            if at[0] < query.end and at > query.after:
                kept = query.held.get(at[1])
                if kept is None or int(kept["version"]["number"]) < int(row["version"]["number"]):
                    query.held[at[1]] = row  # once per (id, version): the newest sighting
        if more is None:
            ready, query.held = list(query.held.values()), {}
        else:  # rows at this page's last timestamp may continue on the next page: hold them
            last = cursor_str(rows[-1]["version"]["when"]) if rows else ""
            ready = [r for r in query.held.values() if _at(r)[0] < last]
            for row in ready:
                del query.held[_at(row)[1]]
        ready.sort(key=_at)
        return Batch(ready, more)

    def position_of(self, row: Record) -> Position:
        return Position(cursor_str(row["version"]["when"]), str(row["id"]))

    def page(self, rows: list[Record], position: Position) -> Page:
        docs = self.api.bodies(self.name, rows, self.body_format) if self.api.deployment == "cloud" else {}
        records = []
        for row in rows:
            doc = docs.get(str(row["id"])) if self.api.deployment == "cloud" else row
            if doc is None:
                continue  # gone or restricted between the search and the fetch: its next change tells
            records.append(self.record(row, doc))
        return Page(records=records, links={r["id"]: self.references(r) for r in records}, position=position)

    def record(self, row: Record, doc: Record) -> Record:
        """One record from the CQL row (space, labels, ancestors) and the document with its body (v2 on Cloud, the
        row itself on Server); the document's version wins when it moved on since the search."""
        space = row.get("space") or {}
        fmt = self.body_format
        if self.api.deployment == "cloud":
            version = doc.get("version") or {}
            number, updated, author = version.get("number"), version.get("createdAt"), version.get("authorId")
            body = ((doc.get("body") or {}).get(fmt) or {}).get("value") or ""
            created = doc.get("createdAt") or (row.get("history") or {}).get("createdDate")
            parent = doc.get("parentId")
            container = doc.get("pageId") or doc.get("blogPostId")
        else:
            version = row.get("version") or {}
            by = version.get("by") or {}
            number, updated = version.get("number"), version.get("when")
            author = by.get("accountId") or by.get("username")
            body = ((row.get("body") or {}).get("storage") or {}).get("value") or ""
            created = (row.get("history") or {}).get("createdDate")
            ancestors = row.get("ancestors") or []
            parent = ancestors[-1]["id"] if ancestors else None
            container = (row.get("container") or {}).get("id")
        text = body_text(body, fmt)
        return {"id": str(row["id"]), "type": row.get("type"), "space_key": space.get("key"),
                "space_id": str(space.get("id")) if space.get("id") is not None else None,
                "title": row.get("title"), "status": doc.get("status") or row.get("status"),
                "version": number, "author": author, "created": created, "updated": updated,
                "parent_id": str(parent) if parent else None,
                "container_id": str(container) if container else None,
                "container_type": (row.get("container") or {}).get("type"),
                "location": (row.get("extensions") or {}).get("location"),
                "labels": [lab.get("name") for lab in ((row.get("metadata") or {}).get("labels") or {})
                           .get("results") or []],
                "body": body, "body_format": fmt, "body_text": text,
                "url": ((row.get("_links") or {}).get("webui"))}

    def references(self, record: Record) -> list[tuple[str, str, str]]:
        """The record's own graph links, replaced with it: its parent page, its space, the page or blog post a
        comment is on, and the Jira issues and Confluence pages its body mentions."""
        pages = dataset_of(self.connector, "pages")
        refs: list[tuple[str, str, str]] = []
        if record["parent_id"]:
            refs.append(("child_of", pages, record["parent_id"]))
        if record["space_id"] and self.name != "comments":
            refs.append(("in_space", dataset_of(self.connector, "spaces"), record["space_id"]))
        if record["container_id"]:
            on = "blogposts" if record.get("container_type") == "blogpost" else "pages"
            refs.append(("comment_on", dataset_of(self.connector, on), record["container_id"]))
        keys, linked = mentions(record["body"], record["body_text"])
        refs += [("mentions", "jira/issue_key", key) for key in keys]
        refs += [("mentions", pages, page) for page in linked if page != record["id"]]
        return refs


@dataclass
class SpaceStream:
    """The listed spaces this account can read: a small snapshot each run, every record at `SNAPSHOT_CURSOR`."""

    connector: str
    spaces: dict[str, Record]
    name: str = "spaces"
    dataset: str = ""
    primary_key: str = KEY
    cursor_field: str = ""

    def __post_init__(self) -> None:
        self.dataset = dataset_of(self.connector, "spaces")

    def cursor_of(self, record: Record) -> str:
        return SNAPSHOT_CURSOR

    def read(self, window: Window, resume: Position | None) -> Iterator[Page]:
        yield Page(records=[{**space, "id": str(space["id"])} for space in self.spaces.values()])


@dataclass
class GoneStream:
    """Trashed, purged and archived pages or blog posts of the listed spaces, as tombstones for their table. Their
    status changes without a new version, so every pass lists them whole (Cloud: v2 `status=`; Server: trashed
    content, `/rest/api/content?status=trashed`)."""

    api: ConfluenceApi
    connector: str
    table: str
    spaces: dict[str, Record]
    name: str = ""
    dataset: str = ""
    primary_key: str = KEY
    cursor_field: str = "updated"

    def __post_init__(self) -> None:
        self.name, self.dataset = f"{self.table}.deletes", dataset_of(self.connector, self.table)

    def cursor_of(self, record: Record) -> str:
        return cursor_str(record[self.cursor_field])

    def read(self, window: Window, resume: Position | None) -> Iterator[Page]:
        stamp = cursor_str(window.end)
        if self.api.deployment == "cloud":
            ids = [str(s["id"]) for s in self.spaces.values()]
            for chunk in (ids[i:i + 100] for i in range(0, len(ids), 100)):
                gone = self.api.v2_list(V2_LIST[self.table], {"space-id": ",".join(chunk), "status": GONE[self.table],
                                                              "limit": MAX_LIMIT})
                yield Page(tombstones=[(str(doc["id"]), stamp) for doc in gone])
            return
        for key in self.spaces:
            gone = self.api.v1_list("content", {"spaceKey": key, "type": CQL_TYPE[self.table], "status": "trashed",
                                                "limit": 100})
            yield Page(tombstones=[(str(doc["id"]), stamp) for doc in gone])


# ---------------------------------------------------------------------------------------------------------------
# Source


def client_for(name: str, connector: ConfluenceConnector, pipeline: ConfluencePipeline, **kwargs: Any) -> HttpClient:
    return HttpClient.for_pipeline(name, connector.base_url.rstrip("/"), connector.auth, pipeline,
                                   verify_tls=connector.verify_tls, **kwargs)


def _auth_kind(connector: ConfluenceConnector) -> str:
    return "bearer" if isinstance(connector.auth, BearerAuth) else "basic"


def wiki_suffix(connector: ConfluenceConnector) -> ConfigError | None:
    """A Cloud base URL given with /wiki: every path would hold it twice."""
    if connector.deployment == "cloud" and connector.base_url.rstrip("/").endswith("/wiki"):
        origin = connector.base_url.rstrip("/")[:-len("/wiki")]
        return ConfigError(f"base_url {connector.base_url} ends in /wiki",
                           f"give the site origin: base_url: {origin} (udc adds /wiki itself)")
    return None


def build(config: Config, pipeline_name: str) -> ConfluenceSource:
    pipeline = config.pipeline(pipeline_name)
    connector = config.connector(pipeline.connector)
    assert isinstance(connector, ConfluenceConnector) and isinstance(pipeline, ConfluencePipeline)
    return ConfluenceSource(pipeline.connector, connector, pipeline)


class ConfluenceSource:
    def __init__(self, name: str, connector: ConfluenceConnector, pipeline: ConfluencePipeline) -> None:
        self.name, self.connector, self.pipeline = name, connector, pipeline
        self.client = client_for(name, connector, pipeline)
        self.api = ConfluenceApi(self.client, connector.deployment, _auth_kind(connector))
        self.notes: list[str] = []

    def streams(self) -> list[Stream]:
        """The requested tables, after the space-gap report: a listed space this account cannot read fails the run
        before any data moves (or is a warning with `on_missing_space: warn`)."""
        wrong = wiki_suffix(self.connector)
        if wrong is not None:
            raise wrong
        if not self.pipeline.space_keys:
            raise ConfigError(f"pipeline of connector '{self.name}' lists no space_keys",
                              "name every space to sync, for example space_keys: [OPS, ENG]")
        if self.connector.deployment == "server" and self.pipeline.body_format != "storage":
            raise ConfigError("body_format atlas_doc_format is Confluence Cloud only",
                              "use body_format: storage on Server / Data Center")
        specs = self.pipeline.synced_tables
        tz, zone = self.api.zone()
        if tz is None:
            self.notes.append(f"{self.name}: the account's time zone ({zone or 'not shown'}) is not readable; CQL date "
                              "bounds are widened by the largest UTC offsets (more overlap, nothing lost)")
        report = self.api.spaces(self.pipeline.space_keys)
        report.counts = {key: self.api.count(key) for key in report.readable}
        self.notes.append(f"{self.name}: spaces: " + "; ".join(report.lines()))
        if report.missing:
            missing = ", ".join(report.missing)
            if self.pipeline.on_missing_space == "fail":
                raise SourceError(f"Confluence space(s) {missing} do not exist or are not readable by this account "
                                  "(nothing was synced)", UNREADABLE_FIX + "; or set on_missing_space: warn to sync "
                                                                           "the others")
            self.notes.append(f"{self.name}: not synced: {missing} ({UNREADABLE_FIX})")
        if not report.readable:
            return []
        streams: list[Stream] = []
        size = min(self.pipeline.batch_size, MAX_LIMIT)
        for spec in specs:
            if spec.name == "spaces":
                streams.append(SpaceStream(self.name, report.readable))
                continue
            streams.append(ContentStream(self.api, self.name, spec.name, report.readable, self.pipeline.body_format,
                                         size))
            if spec.name in V2_LIST:
                streams.append(GoneStream(self.api, self.name, spec.name, report.readable))
        return streams

    @property
    def stats(self) -> CallStats:
        return self.client.stats

    def close(self) -> None:
        self.client.close()


# ---------------------------------------------------------------------------------------------------------------
# Discovery and diagnostics


def discover(name: str, connector: ConfluenceConnector, pipeline: ConfluencePipeline, table: str | None
             ) -> dict[str, dict[str, str]]:
    """The tables and their fields, and each readable space (listed ones, or all) with its page and blog post
    counts."""
    if table is not None and table not in TABLES:
        raise ConfigError(f"'{table}' is not a Confluence table", f"use one of: {', '.join(TABLES)}")
    client = client_for(name, connector, pipeline)
    try:
        api = ConfluenceApi(client, connector.deployment, _auth_kind(connector))
        tables = {t: SPACE_FIELDS if t == "spaces" else FIELDS for t in TABLES}
        if table is not None:
            return {table: tables[table]}
        if pipeline.space_keys:
            spaces = list(api.spaces(pipeline.space_keys).readable.values())
        elif connector.deployment == "cloud":
            spaces = list(api.v2_list("spaces", {"limit": MAX_LIMIT}))
        else:
            spaces = list(api.v1_list("space", {"limit": 100}))
        for space in spaces:
            key = str(space["key"])
            tables[f"space {key}"] = {f"{api.count(key):,} pages": "count",
                                      f"{api.count(key, 'blogpost'):,} blog posts": "count"}
        return tables
    finally:
        client.close()


def check(name: str, connector: ConfluenceConnector, pipeline: ConfluencePipeline) -> list[Finding]:
    """`udc check`: the base URL, credentials (401 text/plain on Cloud), the zone CQL dates are read in, and the
    space-gap report: every listed space readable (with its page count), or absent/unreadable."""
    wrong = wiki_suffix(connector)
    if wrong is not None:
        return [Finding("fail", "base_url", wrong.message, wrong.hint)]
    base = connector.base_url.rstrip("/")
    client = check_client(base, connector.auth, pipeline, name, verify_tls=connector.verify_tls)
    kind = _auth_kind(connector)
    api = ConfluenceApi(client, connector.deployment, kind)
    findings: list[Finding] = []
    try:
        me = f"{api.v1}/user/current"
        try:
            account = client.get_json(me)
        except HttpError as exc:
            if exc.status == 401:
                findings.append(Finding("fail", "401 Unauthorized", f"GET {me} returned 401",
                                        auth_hint(connector.deployment, kind)))
            else:
                findings += connection_findings(exc, request=f"GET {me}", auth=connector.auth, url=base)[:1]
            return findings
        who = account.get("email") or account.get("displayName") or account.get("username") or "(unnamed account)"
        findings.append(Finding("ok", "credentials", f"signed in as {who}"))
        tz, zone = api.zone(account)
        findings.append(Finding("ok", "time zone", f"{zone}: CQL dates are read in it; udc converts its bounds to "
                                                   "it, with a one-minute overlap") if tz else
                        Finding("warn", "time zone", "the account's time zone is not readable",
                                "udc widens its date overlap to the largest UTC offsets (more re-reads, no loss)"))
        if not pipeline.space_keys:
            findings.append(Finding("fail", "space_keys", "no pipeline lists space_keys: nothing would be synced",
                                    "list every space to sync in space_keys"))
            return findings
        report = api.spaces(pipeline.space_keys)
        for key in report.readable:
            findings.append(Finding("ok", f"space {key}", f"readable, {api.count(key):,} pages"))
        for key in report.missing:
            findings.append(Finding("fail", f"space {key}", "does not exist or is not readable by this account",
                                    UNREADABLE_FIX))
        listed = {k.upper() for k in pipeline.space_keys}
        spaces = (api.v2_list("spaces", {"limit": MAX_LIMIT}) if connector.deployment == "cloud" else
                  api.v1_list("space", {"limit": 100}))
        others = [str(s["key"]) for s in spaces if str(s["key"]).upper() not in listed]
        if others:
            shown = ", ".join(others[:20]) + (f" and {len(others) - 20} more" if len(others) > 20 else "")
            findings.append(Finding("ok", "spaces not listed", f"readable but not in space_keys, so not synced: "
                                                               f"{shown} (list any you mean to ingest)"))
    except UdcError as exc:
        findings.append(Finding("fail", "check", exc.message, exc.hint))
    finally:
        client.close()
    return findings
