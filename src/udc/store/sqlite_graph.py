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
from typing import Any, NamedTuple

import orjson

from udc.records import Record
from udc.timeutil import cursor_str

GRAPH_SCHEMA = """
CREATE TABLE IF NOT EXISTS graph_nodes (
    id INTEGER PRIMARY KEY,  -- the record's rowid in records
    dataset TEXT NOT NULL, pk TEXT NOT NULL,
    key TEXT,       -- what people call it: INC0012345, OPS-42, a case number, a page id
    title TEXT, opened TEXT);  -- opened: a cursor string (fixed-width UTC ISO), so string order is time order
CREATE INDEX IF NOT EXISTS graph_nodes_key ON graph_nodes (key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS graph_nodes_pk ON graph_nodes (pk);
CREATE INDEX IF NOT EXISTS graph_nodes_opened ON graph_nodes (dataset, opened);
CREATE TABLE IF NOT EXISTS graph_links (
    owner INTEGER NOT NULL,  -- rowid of the record whose write stated the link: replaced and dropped with it
    src_dataset TEXT NOT NULL, src_pk TEXT NOT NULL, rel TEXT NOT NULL,
    dst_dataset TEXT NOT NULL,  -- '' for a mention: dst_pk is then a key (INC0012345, OPS-42), resolved when read
    dst_pk TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS graph_links_owner ON graph_links (owner);
CREATE INDEX IF NOT EXISTS graph_links_src ON graph_links (src_pk);
CREATE INDEX IF NOT EXISTS graph_links_dst ON graph_links (dst_pk);
CREATE VIRTUAL TABLE IF NOT EXISTS graph_text USING fts5 (key, title, body, tokenize = 'unicode61 remove_diacritics 2');
"""

MENTION = ""  # dst_dataset of a mention: the target is named by its key, in whichever source holds it

# Keys in free text. ServiceNow numbers; Jira keys (the ones naming no stored issue never resolve); Salesforce case
# numbers when called a case; Confluence page links.
_SNOW_NUMBER = re.compile(r"\b(?:INC|CHG|PRB|PTASK|RITM|REQ|SCTASK|CTASK|TASK|KB|VND)\d{7}\b")
_JIRA_KEY = re.compile(r"\b[A-Z][A-Z0-9_]{1,9}-[1-9]\d{0,6}\b")
_CASE_NUMBER = re.compile(r"\bcase\s*(?:number\s*|no\.?\s*)?#?\s*(\d{8})\b", re.IGNORECASE)
_PAGE_LINK = re.compile(r"/pages/(\d+)|pageId=(\d+)")
_TAGS = re.compile(r"<[^>]+>")
_SF_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_SF_SYSTEM_LOOKUPS = frozenset({"OwnerId", "CreatedById", "LastModifiedById", "RecordTypeId", "MasterRecordId"})

_KEY_FIELDS = ("number", "u_number", "key", "CaseNumber")
_TITLE_FIELDS = ("short_description", "summary", "title", "Subject", "u_summary", "name", "Name")
_OPENED_FIELDS = ("opened_at", "created", "CreatedDate", "sys_created_on")
_NOT_TEXT = frozenset({"self", "url", "body", "avatarUrls", "sys_created_on", "sys_updated_on", "opened_at",
                       "closed_at", "resolved_at", "due_date", "start_date", "end_date", "updated", "created"})


class Node(NamedTuple):
    key: str | None
    title: str | None
    opened: str | None
    body: str
    links: list[tuple[str, str, str, str, str]]  # (src_dataset, src_pk, rel, dst_dataset, dst_pk)


def _field(record: Record, name: str) -> Any:
    value = record.get(name)
    if value is None and isinstance(fields := record.get("fields"), dict):  # Jira keeps most fields here
        value = fields.get(name)
    return value


def _first(record: Record, names: Sequence[str]) -> str | None:
    for name in names:
        value = _field(record, name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return str(value)
    return None


def _texts(record: Record) -> Iterator[str]:
    """The record's free text: string values with a space in them (not dates, links or raw bodies beside their
    plain text), one level into Jira's `fields`."""
    for name, value in record.items():
        if name in _NOT_TEXT:
            continue
        if isinstance(value, str):
            if " " in value or "\n" in value:
                yield _TAGS.sub(" ", value) if "<" in value else value
        elif name == "fields" and isinstance(value, dict):
            yield from _texts(value)


def describe(dataset: str, pk: str, record: Record, own_links: Iterable[Sequence[str]],
             rel_type_name: Any = None) -> Node:
    """A stored record as a graph node: its key, title, opened time, text and links (`own_links`: the references
    the source stated; relation tables become links between the records they relate; `rel_type_name(sys_id)`
    names a CMDB relationship type when it is stored)."""
    connector, _, table = dataset.partition("/")
    key = _first(record, _KEY_FIELDS)
    if key is None and "space_key" in record:  # Confluence content is called by its id
        key = pk
    title = _first(record, _TITLE_FIELDS)
    opened_raw = _first(record, _OPENED_FIELDS)
    opened = None
    if opened_raw:
        try:
            opened = cursor_str(opened_raw)
        except ValueError:
            opened = None
    body = "\n".join(_texts(record))
    links: list[tuple[str, str, str, str, str]] = []
    derived = _relation(connector, table, record, rel_type_name)
    if derived is not None:
        links.append(derived)
    else:
        links += [(dataset, pk, rel, dst, dst_pk) for rel, dst, dst_pk in own_links]
        if "SystemModstamp" in record:  # Salesforce: lookups are fields named ...Id / custom ...__c holding an id
            links += [(dataset, pk, name, f"{connector}/{name[:-2] if name.endswith('Id') else name}", value)
                      for name, value in record.items()
                      if isinstance(value, str) and (name.endswith("Id") or name.endswith("__c"))
                      and name != "Id" and name not in _SF_SYSTEM_LOOKUPS and _SF_ID.match(value)]
    seen = {key}
    for found in _mentions(f"{title or ''}\n{body}"):
        if found not in seen:
            seen.add(found)
            links.append((dataset, pk, "mentions", MENTION, found))
    return Node(key, title, opened, body, links)


def _mentions(text: str) -> Iterator[str]:
    yield from _SNOW_NUMBER.findall(text)
    yield from _JIRA_KEY.findall(text)
    yield from _CASE_NUMBER.findall(text)
    for a, b in _PAGE_LINK.findall(text):
        yield a or b


def _relation(connector: str, table: str, record: Record, rel_type_name: Any
              ) -> tuple[str, str, str, str, str] | None:
    """A ServiceNow relation record as the link it states, or None for any other record."""
    def ref(name: str) -> str:
        value = record.get(name)
        return value.get("value", "") if isinstance(value, dict) else str(value or "")

    if table == "cmdb_rel_ci" and ref("parent") and ref("child"):
        rel = (rel_type_name(ref("type")) if rel_type_name and ref("type") else None) or "cmdb_rel"
        return (f"{connector}/cmdb_ci", ref("parent"), rel, f"{connector}/cmdb_ci", ref("child"))
    if table == "task_ci" and ref("task") and ref("ci_item"):
        return (f"{connector}/task", ref("task"), "affects_ci", f"{connector}/cmdb_ci", ref("ci_item"))
    if table == "m2m_kb_task" and ref("kb_knowledge") and ref("task"):
        return (f"{connector}/kb_knowledge", ref("kb_knowledge"), "kb_for", f"{connector}/task", ref("task"))
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
    gone = [(ids[pk],) for pk in replaced if pk in ids]
    if gone:
        conn.executemany("DELETE FROM graph_nodes WHERE id = ?", gone)
        conn.executemany("DELETE FROM graph_links WHERE owner = ?", gone)
        conn.executemany("DELETE FROM graph_text WHERE rowid = ?", gone)
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

    nodes, links, texts = [], [], []
    for pk, (data, own) in last.items():
        node = describe(dataset, pk, orjson.loads(data), orjson.loads(own) if own else (), rel_type_name)
        rowid = ids[pk]
        nodes.append((rowid, dataset, pk, node.key, node.title, node.opened))
        links += [(rowid, *link) for link in node.links]
        texts.append((rowid, node.key, node.title, node.body))
    conn.executemany("INSERT INTO graph_nodes VALUES (?, ?, ?, ?, ?, ?)", nodes)
    conn.executemany("INSERT INTO graph_links VALUES (?, ?, ?, ?, ?, ?)", links)
    conn.executemany("INSERT INTO graph_text (rowid, key, title, body) VALUES (?, ?, ?, ?)", texts)


NODE_COLUMNS = ("id", "dataset", "pk", "key", "title", "opened")


class SqliteGraph:
    """The store's graph reads (udc.store.base.GraphQueries) over the tables above; mixed into SqliteStore."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _translated(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._translated():
            return self._conn().execute(sql, args).fetchall()

    def find_nodes(self, ref: str) -> list[dict[str, Any]]:
        """Live records called `ref`: by key (INC0012345, OPS-42, a case number, a page id), then by primary key."""
        cols = ", ".join(NODE_COLUMNS)
        rows = self._rows(f"SELECT {cols} FROM graph_nodes WHERE key = ? OR key = ? ORDER BY id", (ref, ref.upper()))
        if not rows:
            rows = self._rows(f"SELECT {cols} FROM graph_nodes WHERE pk = ? ORDER BY id", (ref,))
        return [dict(zip(NODE_COLUMNS, row, strict=True)) for row in rows]

    def nodes(self, ids: Iterable[int], with_data: bool = False) -> dict[int, dict[str, Any]]:
        """Nodes by id; `with_data`: each with its record as stored (`data`)."""
        wanted = sorted(set(ids))
        found: dict[int, dict[str, Any]] = {}
        extra = ", r.data" if with_data else ""
        for start in range(0, len(wanted), 900):
            chunk = wanted[start:start + 900]
            for row in self._rows(f"SELECT {', '.join('n.' + c for c in NODE_COLUMNS)}{extra} FROM graph_nodes AS n "
                                  f"JOIN records AS r ON r.rowid = n.id WHERE n.id IN ({','.join('?' * len(chunk))})",
                                  chunk):
                node = dict(zip(NODE_COLUMNS, row, strict=False))
                if with_data:
                    node["data"] = orjson.loads(row[-1])
                found[node["id"]] = node
        return found

    def _resolve(self, dataset: str, pk: str) -> list[int]:
        """The live records a link's end names: the record itself; else the record of that key in the same source
        (a ServiceNow reference names the base table, cmdb_ci, of a record stored as cmdb_ci_server; a Salesforce
        lookup's object is a guess); a mention resolves by key in any source."""
        if dataset == MENTION or dataset.endswith("_key"):
            return [r[0] for r in self._rows("SELECT id FROM graph_nodes WHERE key = ?", (pk,))]
        row = self._rows("SELECT n.id FROM records AS r JOIN graph_nodes AS n ON n.id = r.rowid "
                         "WHERE r.dataset = ? AND r.pk = ?", (dataset, pk))
        if row:
            return [row[0][0]]
        connector = dataset.partition("/")[0] + "/"
        rows = self._rows("SELECT id FROM graph_nodes WHERE pk = ? AND substr(dataset, 1, ?) = ?",
                          (pk, len(connector), connector))
        return [r[0] for r in rows] if len(rows) == 1 else []

    def neighbours(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """Every link touching these nodes, both ways, with both ends resolved to node ids:
        {src, dst, rel, owner}. Links whose other end is not stored are left out."""
        out: dict[tuple[int, int, str], dict[str, Any]] = {}
        nodes = self.nodes(ids)
        for node in nodes.values():
            connector = node["dataset"].partition("/")[0] + "/"
            rows = self._rows(
                "SELECT owner, src_dataset, src_pk, rel, dst_dataset, dst_pk FROM graph_links WHERE src_pk = ? "
                "UNION ALL SELECT owner, src_dataset, src_pk, rel, dst_dataset, dst_pk FROM graph_links "
                "WHERE dst_pk IN (?, ?) "
                "UNION ALL SELECT 0, src_dataset, src_pk, rel, dst_dataset, dst_pk FROM edges "
                "WHERE (src_pk = ?1 AND substr(src_dataset, 1, ?4) = ?5) "
                "OR (dst_pk = ?1 AND substr(dst_dataset, 1, ?4) = ?5)",
                (node["pk"], node["pk"], node["key"] or node["pk"], len(connector), connector))
            for owner, src_ds, src_pk, rel, dst_ds, dst_pk in rows:
                for src in self._resolve(src_ds, src_pk):
                    for dst in self._resolve(dst_ds, dst_pk):
                        if node["id"] in (src, dst) and src != dst:
                            out.setdefault((src, dst, rel), {"src": src, "dst": dst, "rel": rel, "owner": owner})
        return list(out.values())

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
        rows = self._rows(
            f"SELECT {', '.join('n.' + c for c in NODE_COLUMNS)}, bm25(graph_text, 2.0, 4.0, 1.0), "
            "snippet(graph_text, -1, '«', '»', '…', 12) FROM graph_text "
            "JOIN graph_nodes AS n ON n.id = graph_text.rowid "
            f"WHERE {' AND '.join(where)} ORDER BY bm25(graph_text, 2.0, 4.0, 1.0) LIMIT ?", (*args, limit))
        return [{**dict(zip(NODE_COLUMNS, row, strict=False)), "score": round(-row[-2], 3), "snippet": row[-1]}
                for row in rows]

    def node_text(self, node_id: int) -> tuple[str, str]:
        """A node's indexed (title, body)."""
        rows = self._rows("SELECT coalesce(title, ''), body FROM graph_text WHERE rowid = ?", (node_id,))
        return (rows[0][0], rows[0][1]) if rows else ("", "")

    def opened_between(self, table: str, since: str | None, until: str | None) -> list[dict[str, Any]]:
        """Nodes of a table (in any source) opened in [since, until), with their records."""
        args: list[Any] = [f"%/{table}"]
        where = "n.dataset LIKE ?"
        if since:
            where, args = where + " AND n.opened >= ?", [*args, since]
        if until:
            where, args = where + " AND n.opened < ?", [*args, until]
        rows = self._rows(f"SELECT {', '.join('n.' + c for c in NODE_COLUMNS)}, r.data FROM graph_nodes AS n "
                          f"JOIN records AS r ON r.rowid = n.id WHERE {where} ORDER BY n.opened", args)
        return [{**dict(zip(NODE_COLUMNS, row, strict=False)), "data": orjson.loads(row[-1])} for row in rows]

    def graph_datasets(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT DISTINCT dataset FROM graph_nodes ORDER BY dataset")]


__all__ = ["GRAPH_SCHEMA", "MENTION", "Node", "SqliteGraph", "describe", "index_page"]
