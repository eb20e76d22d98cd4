"""The knowledge graph inside the SQLite store: a node per live record (its key, title, opened time), its links
(references, relations read from relation tables, mentions of other records' keys in its text) and a full-text
index of its text, all written in the transaction that stores the record, from the record as stored (so redacted
text only: the index never sees what the redactor removed).

A link belongs to the record whose write stated it (its owner): storing the record again replaces its links, a
tombstone drops them, so the graph never holds a stale edge. Ends are kept as (dataset, key) and resolved when read,
so a mention of a record that is not stored yet is kept and found once the record arrives.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
import xxhash

from udc.records import Record
from udc.timeutil import cursor_str

# Every b-tree here is paid for on every record a sync writes, so there are few and small ones: a node's links are a
# JSON column of its row (appended in rowid order), and the one lookup by a random key — which records link to this
# one — goes through 63-bit hashes of link ends, two integers per entry.
GRAPH_ENDS = """
CREATE TABLE IF NOT EXISTS graph_ends (  -- which nodes state a link to a key: key_hash(a link end's key), the node
    end_hash INTEGER NOT NULL, owner INTEGER NOT NULL,
    kind INTEGER NOT NULL,  -- dataset_kind(the node's dataset): a lookup for some tables skips the others' nodes
    PRIMARY KEY (end_hash, owner)) WITHOUT ROWID;
"""
GRAPH_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS graph_nodes (
    id INTEGER PRIMARY KEY,  -- the record's rowid in records
    dataset TEXT NOT NULL, pk TEXT NOT NULL,
    key TEXT,       -- what people call it: INC0012345, OPS-42, a case number, a page id
    title TEXT, opened TEXT,  -- opened: a cursor string (fixed-width UTC ISO), so string order is time order
    links TEXT,     -- the links it states, [[rel, dst_dataset, dst_pk(, src_dataset, src_pk)], ...]: from itself,
                    -- or (a relation record) between the two records it relates; dst_dataset '' for a mention,
                    -- whose dst_pk is a key (INC0012345, OPS-42) resolved when read
    ended TEXT,     -- when its work ended (ENDED_FIELDS) and started (STARTED_FIELDS), cursor strings: `changes
    started TEXT);  -- --for` reads only the changes around its window
CREATE INDEX IF NOT EXISTS graph_nodes_key ON graph_nodes (key) WHERE key IS NOT NULL;
{GRAPH_ENDS}-- porter: 'disconnecting' finds 'disconnects'; detail=column: a third cheaper to write (no phrase queries)
CREATE VIRTUAL TABLE IF NOT EXISTS graph_text USING fts5 (key, title, body,
    tokenize = 'porter unicode61 remove_diacritics 2', detail = column);
"""

RELATION_TABLES = ("cmdb_rel_ci", "task_ci", "m2m_kb_task")  # records that state a link between two others
# People and groups are referenced by nearly every record (caller, assignee, assignment group, opened by…): which
# records reference them is not indexed — 5 or 6 of a ServiceNow incident's 7 link ends, a fifth of what the graph
# cost a sync. A record's links to people are still read from its side; a person's own links are still theirs.
UNINDEXED_TARGETS = ("/sys_user", "/sys_user_group")
MENTION = ""  # dst_dataset of a mention: the target is named by its key, in whichever source holds it

# Keys in free text: ServiceNow numbers and Jira keys (those naming no stored record never resolve) in one pattern
# that starts with a character class, so the regex engine skips ahead to capitals (the prefix and the boundary
# before it are checked after); Salesforce case numbers when called a case; Confluence page links.
_KEY = re.compile(r"[A-Z][A-Z0-9_]{1,9}(?:-[1-9]\d{0,6}|\d{7})\b")
_SNOW_PREFIXES = frozenset({"INC", "CHG", "PRB", "PTASK", "RITM", "REQ", "SCTASK", "CTASK", "TASK", "KB", "VND"})
_CASE_NUMBER = re.compile(r"\bcase\s*(?:number\s*|no\.?\s*)?#?\s*(\d{8})\b", re.IGNORECASE)
_PAGE_LINK = re.compile(r"/pages/(\d+)|pageId=(\d+)")
_TAGS = re.compile(r"<[^>]+>")
_SF_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_SF_SYSTEM_LOOKUPS = frozenset({"OwnerId", "CreatedById", "LastModifiedById", "RecordTypeId", "MasterRecordId"})

_KEY_FIELDS = ("number", "u_number", "key", "CaseNumber")
_TITLE_FIELDS = ("short_description", "summary", "title", "Subject", "u_summary", "name", "Name")
_OPENED_FIELDS = ("opened_at", "created", "CreatedDate", "sys_created_on")
# a change's end and start as udc.query.changes reads them (the first given)
ENDED_FIELDS = ("work_end", "end_date", "closed_at")
STARTED_FIELDS = ("work_start", "start_date", "opened_at", "sys_created_on")
# The fields whose text is indexed and read for mentions: what people write (descriptions, notes, comments, page and
# comment bodies), at the top of the record or in Jira's `fields`; the title fields above are indexed too. Ids, dates,
# choice values and custom fields are not: looking at every field of every record cost the sync more than the rest of
# the graph together, and found little anyone searches for.
TEXT_FIELDS = ("description", "description_text", "body_text", "text", "work_notes", "comments", "close_notes",
               "comments_and_work_notes", "resolution", "cause_notes", "fix_notes", "workaround", "justification",
               "implementation_plan", "backout_plan", "test_plan", "environment", "Description", "Comments")
MAX_TEXT = 20_000  # characters of a record's text indexed: a long page's start (its title is indexed whole)


class Node(NamedTuple):
    key: str | None
    title: str | None
    opened: str | None
    body: str
    links: list[tuple[str, ...]]  # (rel, dst_dataset, dst_pk), from the record itself; or + (src_dataset, src_pk)
    own: int = -1  # how many of the links, first, are `own_links` as given (-1: none are)
    ended: str | None = None
    started: str | None = None


@lru_cache(maxsize=1 << 16)  # the same users, groups and CIs are linked from page after page
def key_hash(key: str) -> int:
    """A link target's key as a signed 63-bit integer: its index holds 8 bytes per link, not the key's text."""
    return xxhash.xxh3_64_intdigest(key.encode()) >> 1


@lru_cache(maxsize=4096)
def dataset_kind(dataset: str) -> int:
    """A dataset as a 31-bit integer (4 bytes in each of graph_ends' entries); a collision only lets another table's
    links through the index, which the reader filters again."""
    return xxhash.xxh3_64_intdigest(dataset.encode()) >> 33


def _first(record: Record, fields: dict[str, Any] | None, names: Sequence[str]) -> str | None:
    """The first of these fields that holds a value, at the top of the record or in Jira's `fields`."""
    for name in names:
        value = record.get(name)
        if value is None and fields is not None:
            value = fields.get(name)
        if value.__class__ is str:
            if value.strip():
                return str(value)
        elif value.__class__ is int:
            return str(value)
    return None


def _texts(record: Record, fields: dict[str, Any] | None) -> list[str]:
    """The record's free text (TEXT_FIELDS), HTML tags dropped."""
    texts = [v for v in map(record.get, TEXT_FIELDS) if v.__class__ is str and v]
    if fields:
        texts += [v for v in map(fields.get, TEXT_FIELDS) if v.__class__ is str and v]
    return [_TAGS.sub(" ", v) if "<" in v else v for v in texts]


def _time(record: Record, fields: dict[str, Any] | None, names: Sequence[str]) -> str | None:
    """The first of these fields that holds a value, as a cursor string; None when it is not a time."""
    raw = _first(record, fields, names)
    if raw:
        try:
            return cursor_str(raw)
        except ValueError:
            return None
    return None


def describe(dataset: str, pk: str, record: Record, own_links: Iterable[Sequence[str]],
             rel_type_name: Any = None) -> Node:
    """A stored record as a graph node: its key, title, opened time, text and links (`own_links`: the references
    the source stated; relation tables become links between the records they relate; `rel_type_name(sys_id)`
    names a CMDB relationship type when it is stored)."""
    connector, _, table = dataset.partition("/")
    fields = record.get("fields")
    fields = fields if isinstance(fields, dict) else None  # Jira keeps most fields here
    key = _first(record, fields, _KEY_FIELDS)
    if key is None and "space_key" in record:  # Confluence content is called by its id
        key = pk
    title = _first(record, fields, _TITLE_FIELDS)
    opened = _time(record, fields, _OPENED_FIELDS)
    body = "\n".join(_texts(record, fields))[:MAX_TEXT]
    links: list[tuple[str, ...]] = []
    own = -1
    derived = _relation(connector, table, record, rel_type_name)
    if derived is not None:
        links.append(derived)
    else:
        links += [(rel, dst, dst_pk) for rel, dst, dst_pk in own_links]
        own = len(links)
        if "SystemModstamp" in record:  # Salesforce: lookups are fields named ...Id / custom ...__c holding an id
            links += [(name, f"{connector}/{name[:-2] if name.endswith('Id') else name}", value)
                      for name, value in record.items()
                      if isinstance(value, str) and (name.endswith("Id") or name.endswith("__c"))
                      and name != "Id" and name not in _SF_SYSTEM_LOOKUPS and _SF_ID.match(value)]
    seen = {key}
    for found in _mentions(f"{title or ''}\n{body}"):
        if found not in seen:
            seen.add(found)
            links.append(("mentions", MENTION, found))
    return Node(key, title, opened, body, links, own, _time(record, fields, ENDED_FIELDS),
                _time(record, fields, STARTED_FIELDS))


def _mentions(text: str) -> Iterator[str]:
    for match in _KEY.finditer(text):
        start, found = match.start(), match.group()
        if (start == 0 or not text[start - 1].isalnum()) and ("-" in found or found.rstrip("0123456789")
                                                               in _SNOW_PREFIXES):
            yield found
    if "case" in text or "Case" in text or "CASE" in text:  # cheap tests first: most text names no case
        yield from _CASE_NUMBER.findall(text)
    if "pages/" in text or "pageId=" in text:
        for a, b in _PAGE_LINK.findall(text):
            yield a or b


def _relation(connector: str, table: str, record: Record, rel_type_name: Any) -> tuple[str, ...] | None:
    """A ServiceNow relation record as the link it states, or None for any other record."""
    def ref(name: str) -> str:
        value = record.get(name)
        return value.get("value", "") if isinstance(value, dict) else str(value or "")

    if table == RELATION_TABLES[0] and ref("parent") and ref("child"):
        rel = (rel_type_name(ref("type")) if rel_type_name and ref("type") else None) or "cmdb_rel"
        return (rel, f"{connector}/cmdb_ci", ref("child"), f"{connector}/cmdb_ci", ref("parent"))
    if table == RELATION_TABLES[1] and ref("task") and ref("ci_item"):
        return ("affects_ci", f"{connector}/cmdb_ci", ref("ci_item"), f"{connector}/task", ref("task"))
    if table == RELATION_TABLES[2] and ref("kb_knowledge") and ref("task"):
        return ("kb_for", f"{connector}/task", ref("task"), f"{connector}/kb_knowledge", ref("kb_knowledge"))
    return None


def _rowids(conn: sqlite3.Connection, dataset: str, pks: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(pks), 900):
        chunk = pks[start:start + 900]
        found.update(conn.execute(f"SELECT pk, rowid FROM records WHERE dataset = ? AND pk IN "
                                  f"({','.join('?' * len(chunk))})", (dataset, *chunk)).fetchall())
    return found


def index_page(conn: sqlite3.Connection, dataset: str, written: Sequence[tuple[str, str | bytes, str | None]],
               replaced: Sequence[str]) -> None:
    """Keep the graph current for a page, inside its transaction: `written` are the records stored now (pk, JSON,
    links JSON), `replaced` the keys whose earlier version (updated or deleted) leaves the graph first."""
    last = {pk: (data, links) for pk, data, links in written}  # a key twice in a page: its last version was stored
    ids = _rowids(conn, dataset, list(set(replaced) | last.keys()))
    gone = [ids[pk] for pk in replaced if pk in ids]
    if gone:
        stale = []
        for owner, links in _fetch(conn, "SELECT id, links FROM graph_nodes WHERE id IN ({})", gone):
            stale += [(end, owner) for end in _end_hashes(orjson.loads(links))] if links else []
        conn.executemany("DELETE FROM graph_ends WHERE end_hash = ? AND owner = ?", stale)
        conn.executemany("DELETE FROM graph_nodes WHERE id = ?", [(i,) for i in gone])
        conn.executemany("DELETE FROM graph_text WHERE rowid = ?", [(i,) for i in gone])
    if not last:
        return
    connector = dataset.partition("/")[0]
    rel_types: dict[str, str | None] = {}

    def rel_type_name(sys_id: str) -> str | None:
        if sys_id not in rel_types:
            row = conn.execute("SELECT json_extract(data, '$.name') FROM records WHERE dataset = ? AND pk = ? "
                               "AND deleted = 0", (f"{connector}/cmdb_rel_type", sys_id)).fetchone()
            rel_types[sys_id] = row[0] if row else None
        return rel_types[sys_id]

    nodes, ends, texts = [], [], []
    kind = dataset_kind(dataset)
    for pk, (data, own) in last.items():
        node = describe(dataset, pk, orjson.loads(data), orjson.loads(own) if own else (), rel_type_name)
        rowid = ids[pk]
        # a record that states just its references keeps their JSON as the source gave it (not encoded again)
        links = (own if len(node.links) == node.own else orjson.dumps(node.links).decode()) if node.links else None
        nodes.append((rowid, dataset, pk, node.key, node.title, node.opened, links, node.ended, node.started))
        ends += [(end, rowid, kind) for end in _end_hashes(node.links)]
        texts.append((rowid, node.key, node.title, node.body))
    ends.sort()  # in index order the inserts walk the b-tree instead of jumping about it
    conn.executemany(f"INSERT INTO graph_nodes ({', '.join(NODE_COLUMNS)}, ended, started) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", nodes)
    conn.executemany("INSERT OR IGNORE INTO graph_ends VALUES (?, ?, ?)", ends)
    conn.executemany("INSERT INTO graph_text (rowid, key, title, body) VALUES (?, ?, ?, ?)", texts)


def end_rows(node_id: int, dataset: str, links: str | None) -> list[tuple[int, int, int]]:
    """graph_ends' rows for a node's links (as graph_nodes.links holds them)."""
    kind = dataset_kind(dataset)
    return [(end, node_id, kind) for end in _end_hashes(orjson.loads(links))] if links else []


def _end_hashes(links: Iterable[Sequence[str]]) -> set[int]:
    """The hashes under which other records find these links: each target, and a relation's source; not people."""
    return {key_hash(link[i + 1]) for link in links for i in range(1, len(link), 2)
            if not link[i].endswith(UNINDEXED_TARGETS)}


def _fetch(conn: sqlite3.Connection, sql: str, ids: Sequence[int]) -> Iterator[tuple[Any, ...]]:
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        yield from conn.execute(sql.format(",".join("?" * len(chunk))), chunk)


NODE_COLUMNS = ("id", "dataset", "pk", "key", "title", "opened", "links")


class SqliteGraph:
    """The store's graph reads (udc.store.base.GraphQueries) over the tables above; mixed into SqliteStore."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _translated(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._translated():
            return self._conn().execute(sql, args).fetchall()

    def _in_chunks(self, sql: str, values: Sequence[Any], before: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """`sql` with its `IN ({})` filled with the values, a few hundred at a time (`before`: the arguments first)."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            rows += self._rows(sql.format(",".join("?" * len(chunk))), (*before, *chunk))
        return rows

    def _datasets(self) -> list[str]:
        """Every dataset, by skipping through the records' (dataset, pk) index: one probe per dataset."""
        return [r[0] for r in self._rows(
            "WITH RECURSIVE d(name) AS (SELECT min(dataset) FROM records UNION ALL "
            "SELECT (SELECT min(dataset) FROM records WHERE dataset > d.name) FROM d WHERE d.name IS NOT NULL) "
            "SELECT name FROM d WHERE name IS NOT NULL")]

    def _by_pk(self, pk: str, datasets: Sequence[str]) -> list[int]:
        if not datasets:
            return []
        return [r[0] for r in self._rows(
            f"SELECT n.id FROM records AS r JOIN graph_nodes AS n ON n.id = r.rowid "
            f"WHERE r.dataset IN ({','.join('?' * len(datasets))}) AND r.pk = ?", (*datasets, pk))]

    def find_nodes(self, ref: str) -> list[dict[str, Any]]:
        """Live records called `ref`: by key (INC0012345, OPS-42, a case number, a page id), then by primary key."""
        ids = [r[0] for r in self._rows("SELECT id FROM graph_nodes WHERE key IN (?, ?) AND key IS NOT NULL",
                                        (ref, ref.upper()))]
        if not ids:
            ids = self._by_pk(ref, self._datasets())
        found = self.nodes(ids)
        return [found[i] for i in sorted(found)]

    def nodes(self, ids: Iterable[int], with_data: bool = False, fields: Sequence[str] = ()
              ) -> dict[int, dict[str, Any]]:
        """Nodes by id; `with_data`: each with its record as stored (`data`); `fields`: with just these fields of
        it (`fields`, a dict; objects as JSON text), read in SQL, which costs less than the whole record."""
        wanted = sorted(set(ids))
        found: dict[int, dict[str, Any]] = {}
        extra = ", r.data" if with_data else ""
        extra += "".join(f", json_extract(r.data, '$.\"' || ?{i + 1} || '\"')" for i in range(len(fields)))
        # the record is read only when asked for: its row is several times the node's
        join = " JOIN records AS r ON r.rowid = n.id" if extra else ""
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            marks = ",".join(f"?{len(fields) + 1 + i}" for i in range(len(chunk)))
            for row in self._rows(f"SELECT {', '.join('n.' + c for c in NODE_COLUMNS)}{extra} FROM graph_nodes AS n"
                                  f"{join} WHERE n.id IN ({marks})", (*fields, *chunk)):
                node = dict(zip(NODE_COLUMNS, row, strict=False))
                rest = row[len(NODE_COLUMNS):]
                if with_data:
                    node["data"], rest = orjson.loads(rest[0]), rest[1:]
                if fields:
                    node["fields"] = dict(zip(fields, rest, strict=True))
                found[node["id"]] = node
        return found

    def neighbours(self, ids: Iterable[int], tables: Sequence[str] = (), during: tuple[str, str] | None = None
                   ) -> list[dict[str, Any]]:
        """Every link touching these nodes, both ways, with both ends resolved to node ids:
        {src, dst, rel, owner}. Links whose other end is not stored are left out; with `tables` (names or name
        prefixes such as `cmdb_ci`), so are those whose other end is in no such table; with `during` (since, until:
        cursor strings), so are links stated by other records whose work ended (ENDED_FIELDS) before `since` or
        started (STARTED_FIELDS) after `until`."""
        out: dict[tuple[int, int, str], dict[str, Any]] = {}
        nodes = self.nodes(ids)
        datasets = self._datasets()
        resolved: dict[tuple[str, str], list[int]] = {}

        def resolve(dataset: str, pk: str) -> list[int]:
            """The live records a link's end names (found by `prefetch`, which every end passes through first)."""
            return resolved[(dataset, pk)]

        def prefetch(ends: set[tuple[str, str]]) -> None:
            """Resolve link ends, in one query per source and one for mentions rather than one or two per end: the
            record itself; else the record of that key in the same source (a ServiceNow reference names the base
            table, cmdb_ci, of a record stored as cmdb_ci_server; a Salesforce lookup's object is a guess); a mention
            resolves by key in any source."""
            todo = [end for end in ends if end not in resolved]
            mention = {end for end in todo if end[0] == MENTION or end[0].endswith("_key")}
            by_key: dict[str, list[int]] = {}
            for key, node_id in self._in_chunks("SELECT key, id FROM graph_nodes WHERE key IN ({})",
                                                sorted({pk for _, pk in mention})):
                by_key.setdefault(key, []).append(node_id)
            by_source: dict[str, set[str]] = {}
            for dataset, pk in todo:
                if (dataset, pk) not in mention:
                    by_source.setdefault(dataset.partition("/")[0] + "/", set()).add(pk)
            found: dict[tuple[str, str], list[int]] = {}
            for prefix, pks in by_source.items():
                names = [d for d in datasets if d.startswith(prefix)]
                for dataset, pk, node_id in self._in_chunks(
                        f"SELECT r.dataset, r.pk, n.id FROM records AS r JOIN graph_nodes AS n ON n.id = r.rowid "
                        f"WHERE r.dataset IN ({','.join('?' * len(names))}) AND r.pk IN ({{}})", sorted(pks), names):
                    found.setdefault((dataset, pk), []).append(node_id)
            for dataset, pk in todo:
                if (dataset, pk) in mention:
                    resolved[(dataset, pk)] = by_key.get(pk, [])
                    continue
                ids = found.get((dataset, pk), [])
                if not ids:
                    prefix = dataset.partition("/")[0] + "/"
                    ids = [i for d in datasets if d.startswith(prefix) for i in found.get((d, pk), [])]
                    ids = ids if len(ids) == 1 else []
                resolved[(dataset, pk)] = ids

        wanted = tuple(tables)

        def table_ok(dataset: str) -> bool:
            return not wanted or dataset.partition("/")[2].startswith(wanted)

        # with `tables`, the linking records looked at are those in them and relations (found by kind in the index)
        owner_args: list[Any] = [dataset_kind(d) for d in datasets
                                 if table_ok(d) or d.partition("/")[2] in RELATION_TABLES] if wanted else []
        owner_filter = f" AND e.kind IN ({','.join('?' * len(owner_args))})" if wanted else ""
        if during:
            owner_filter += " AND (n.ended IS NULL OR n.ended >= ?) AND (n.started IS NULL OR n.started <= ?)"
            owner_args += during

        def add(src: int, dst: int, rel: str, owner: int) -> None:
            if src != dst:
                out.setdefault((src, dst, rel), {"src": src, "dst": dst, "rel": rel, "owner": owner})

        def touching(links: list[list[str]], me: int | None, names: tuple[str, str]) -> list[list[str]]:
            """The links that may touch `me`, called `names` (pk, key): those naming it (all, without `me`)."""
            return links if me is None else [link for link in links
                                              if link[2] in names or (len(link) > 4 and link[4] in names)]

        # first every link that may touch the nodes, so that their ends are resolved together
        stated: list[tuple[int, list[list[str]], int | None]] = []  # (owner, its links touching `me`, me)
        apart: list[tuple[tuple[str, ...], int]] = []  # (a link stated apart from its records, me)
        for node in nodes.values():
            me, pk, key = node["id"], node["pk"], node["key"] or node["pk"]
            stated.append((me, orjson.loads(node["links"] or "[]"), None))  # its own links
            for owner, links in self._rows(  # the records linking to it: with `tables`, those in them or relations
                    f"SELECT e.owner, n.links FROM graph_ends AS e JOIN graph_nodes AS n ON n.id = e.owner "
                    f"WHERE e.end_hash IN (?, ?) AND e.owner <> ?{owner_filter}",
                    (key_hash(pk), key_hash(key), me, *owner_args)):
                stated.append((owner, touching(orjson.loads(links or "[]"), me, (pk, key)), me))
            connector = node["dataset"].partition("/")[0] + "/"
            apart += [(row, me) for row in self._rows(
                "SELECT src_dataset, src_pk, rel, dst_dataset, dst_pk FROM edges "
                "WHERE (src_pk = ?1 AND substr(src_dataset, 1, ?2) = ?3) "
                "OR (dst_pk = ?1 AND substr(dst_dataset, 1, ?2) = ?3)", (pk, len(connector), connector))]
        prefetch({(link[i], link[i + 1]) for _, links, _ in stated for link in links for i in range(1, len(link), 2)}
                 | {(row[0], row[1]) for row, _ in apart} | {(row[3], row[4]) for row, _ in apart})
        for owner, links, me in stated:
            for link in links:
                rel, dst_ds, dst_pk = link[:3]
                for src in resolve(link[3], link[4]) if len(link) > 3 else [owner]:
                    for dst in resolve(dst_ds, dst_pk):
                        if me is None or me in (src, dst):
                            add(src, dst, rel, owner)
        for (src_ds, src_pk, rel, dst_ds, dst_pk), me in apart:
            for src in resolve(src_ds, src_pk):
                for dst in resolve(dst_ds, dst_pk):
                    if me in (src, dst):
                        add(src, dst, rel, 0)
        links = list(out.values())
        if wanted:
            ends = self.nodes({x for link in links for x in (link["src"], link["dst"])})
            links = [link for link in links if all(
                end in nodes or (end in ends and table_ok(ends[end]["dataset"])) for end in (link["src"], link["dst"]))]
        return links

    def text_search(self, query: str, limit: int, datasets: Sequence[str] = (), since: str | None = None,
                    until: str | None = None, exclude: Sequence[int] = ()) -> list[dict[str, Any]]:
        """Nodes matching an FTS5 query, best first (BM25, the title weighing more than the body), each with a
        snippet (matches between « and »). `datasets`: only these (a name without '/' is a table of any source);
        `since`/`until`: opened in [since, until) (cursor strings)."""
        where, args = ["graph_text MATCH ?"], list[Any]([query])
        if datasets:
            parts = []
            for name in datasets:
                if "/" in name:
                    parts.append("n.dataset = ?")
                    args.append(name)
                else:
                    parts.append("n.dataset LIKE ?")
                    args.append(f"%/{name}")
            where.append(f"({' OR '.join(parts)})")
        if since:
            where.append("n.opened >= ?")
            args.append(since)
        if until:
            where.append("n.opened < ?")
            args.append(until)
        if exclude:
            where.append(f"n.id NOT IN ({','.join('?' * len(exclude))})")
            args += list(exclude)
        if len(where) == 1:  # FTS5 sorts by BM25 itself: half the time of ORDER BY bm25() unfiltered, but twice
            # it with filters on the nodes (measured on 300,000 records)
            rank, where = "rank", [*where, "rank MATCH 'bm25(2.0, 4.0, 1.0)'"]
        else:
            rank = "bm25(graph_text, 2.0, 4.0, 1.0)"
        rows = self._rows(
            f"SELECT {', '.join('n.' + c for c in NODE_COLUMNS)}, {rank} FROM graph_text "
            "JOIN graph_nodes AS n ON n.id = graph_text.rowid "
            f"WHERE {' AND '.join(where)} ORDER BY {rank} LIMIT ?", (*args, limit))
        # the snippets of the hits only: made in the query above, one was made for every match (seconds for common
        # words)
        snippets = dict(self._rows(
            f"SELECT rowid, snippet(graph_text, -1, '«', '»', '…', 12) FROM graph_text WHERE graph_text MATCH ? "
            f"AND rowid IN ({','.join('?' * len(rows))})", (query, *(row[0] for row in rows)))) if rows else {}
        return [{**dict(zip(NODE_COLUMNS, row, strict=False)), "score": round(-row[-1], 3),
                 "snippet": snippets.get(row[0], "")} for row in rows]

    def match_count(self, query: str, cap: int) -> int:
        """How many records match an FTS5 query, counted up to `cap` (the cost stays bounded for common words)."""
        return int(self._rows("SELECT count(*) FROM (SELECT 1 FROM graph_text WHERE graph_text MATCH ? LIMIT ?)",
                              (query, cap))[0][0])

    def node_text(self, node_id: int) -> tuple[str, str]:
        """A node's indexed (title, body)."""
        rows = self._rows("SELECT coalesce(title, ''), body FROM graph_text WHERE rowid = ?", (node_id,))
        return (rows[0][0], rows[0][1]) if rows else ("", "")

    def _table_datasets(self, table: str) -> list[str]:
        return [d for d in self._datasets() if d.partition("/")[2] == table]

    def table_fields(self, table: str) -> list[str]:
        """The field names of a table's stored records (in any source; a sample of them), Jira's `fields` included."""
        datasets = self._table_datasets(table)
        if not datasets:
            return []
        marks = ",".join("?" * len(datasets))
        return [r[0] for r in self._rows(
            f"SELECT DISTINCT j.key FROM (SELECT data FROM records WHERE dataset IN ({marks}) AND deleted = 0 "
            "LIMIT 500) AS r, json_each(r.data) AS j UNION SELECT DISTINCT j.key FROM (SELECT data FROM records "
            f"WHERE dataset IN ({marks}) AND deleted = 0 LIMIT 500) AS r, json_each(r.data, '$.fields') AS j "
            "ORDER BY 1", (*datasets, *datasets))]

    def field_rows(self, table: str, fields: Sequence[str]) -> list[tuple[Any, ...]]:
        """(opened, value of each field...) of every live record of a table (in any source) that has an opened
        time; a field is read at the top of the record or in Jira's `fields`; objects come as JSON text."""
        datasets = self._table_datasets(table)
        if not datasets:
            return []
        picks = "".join(f", coalesce(json_extract(r.data, '$.\"' || ?{i + 1} || '\"'), "
                        f"json_extract(r.data, '$.fields.\"' || ?{i + 1} || '\"'))" for i in range(len(fields)))
        marks = ",".join(f"?{len(fields) + 1 + i}" for i in range(len(datasets)))
        return self._rows(f"SELECT n.opened{picks} FROM records AS r JOIN graph_nodes AS n ON n.id = r.rowid "
                          f"WHERE r.dataset IN ({marks}) AND r.deleted = 0 AND n.opened IS NOT NULL",
                          (*fields, *datasets))

    def graph_datasets(self) -> list[str]:
        return self._datasets()


__all__ = ["ENDED_FIELDS", "GRAPH_ENDS", "GRAPH_SCHEMA", "MENTION", "STARTED_FIELDS", "Node", "SqliteGraph",
           "dataset_kind", "describe", "end_rows", "index_page"]
