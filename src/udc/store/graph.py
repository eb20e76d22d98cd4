"""The knowledge graph as every store keeps it, whatever the database: a node per live record (its key, title,
opened time), its links (references, relations read from relation tables, mentions of other records' keys in its
text) and its text for a full-text index, all written in the transaction that stores the record, from the record as
stored (so redacted text only: the index never sees what the redactor removed).

A link belongs to the record whose write stated it (its owner): storing the record again replaces its links, a
tombstone drops them, so the graph never holds a stale edge. Ends are kept as (dataset, key) and resolved when read,
so a mention of a record that is not stored yet is kept and found once the record arrives. Each store keeps the
tables (udc.store.sqlite_graph, udc.store.postgres_graph); what a record says, and how links resolve, is here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
import xxhash

from udc.records import Record
from udc.timeutil import cursor_str

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
# when its work was resolved, as udc.query.trends counts it (the first that holds a time)
RESOLVED_FIELDS = ("resolved_at", "closed_at", "resolutiondate", "ClosedDate")
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
    resolved: str | None = None


# the same users, groups and CIs are linked from page after page; kept small because each key costs ~170 bytes with
# its string, so a cache of 65,536 grew a long sync's RSS by ~11 MB
@lru_cache(maxsize=1 << 12)
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


def resolved_at(record: Record) -> str | None:
    """When the record's work was resolved: the first of RESOLVED_FIELDS that holds a time (a field that holds
    something else is passed over), at the top of the record or in Jira's `fields`, as a cursor string."""
    fields = record.get("fields")
    fields = fields if isinstance(fields, dict) else None
    for name in RESOLVED_FIELDS:
        value = record.get(name)
        if value is None and fields is not None:
            value = fields.get(name)
        if value.__class__ is str and value.strip():
            try:
                return cursor_str(value)
            except ValueError:
                pass
    return None


def resolved_times(rows: Iterable[tuple[int, str | bytes]]) -> list[tuple[str, int]]:
    """(resolved time, node id) of the records (node id, JSON) that have one: what version 4 of both stores fills
    graph_nodes.resolved with."""
    return [(when, node_id) for node_id, data in rows if (when := resolved_at(orjson.loads(data)))]


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
                _time(record, fields, STARTED_FIELDS), resolved_at(record))


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


def end_hashes(links: Iterable[Sequence[str]]) -> set[int]:
    """The hashes under which other records find these links: each target, and a relation's source; not people."""
    ends = set()
    for link in links:  # a loop, not a comprehension over each link's ends: a third less, for every record synced
        if not link[1].endswith(UNINDEXED_TARGETS):
            ends.add(key_hash(link[2]))
        if len(link) > 3 and not link[3].endswith(UNINDEXED_TARGETS):
            ends.add(key_hash(link[4]))
    return ends


def end_rows(node_id: int, dataset: str, links: str | None) -> list[tuple[int, int, int]]:
    """graph_ends' rows for a node's links (as graph_nodes.links holds them)."""
    kind = dataset_kind(dataset)
    return [(end, node_id, kind) for end in end_hashes(orjson.loads(links))] if links else []


def stated_ends(rows: Iterable[tuple[int, str | None]]) -> list[tuple[int, int]]:
    """(end hash, owner) of the links these (node id, links JSON) state: what leaves the ends' index with them."""
    return [(end, owner) for owner, links in rows if links for end in end_hashes(orjson.loads(links))]


# A record's node with what it writes to the graph's rows but its id: key, title, opened, body, links JSON, ended,
# started, resolved and its links' end hashes. A plain tuple: it travels to the writer process, and a NamedTuple pickles
# through Python calls (two per record cost the syncing process 7 µs and the writer 6).
Prepared = tuple[str | None, str | None, str | None, str, str | None, str | None, str | None, str | None,
                 tuple[int, ...]]


def prepare(node: Node, own: str | None) -> Prepared:
    # a record that states just its references keeps their JSON as the source gave it (not encoded again)
    links = (own if len(node.links) == node.own else orjson.dumps(node.links).decode()) if node.links else None
    return (node.key, node.title, node.opened, node.body, links, node.ended, node.started, node.resolved,
            tuple(end_hashes(node.links)))


def graph_rows(dataset: str, written: dict[str, tuple[str | bytes, str | None]], ids: dict[str, int],
               rel_type_name: Callable[[str], str | None], ahead: Mapping[str, Prepared] | None = None
               ) -> tuple[list[tuple[Any, ...]], list[tuple[int, int, int]], list[tuple[Any, ...]]]:
    """The rows a page's records (pk → (JSON, links JSON)) add to the graph, by node id: nodes (id, dataset, pk, key,
    title, opened, links JSON, ended, started, resolved), ends (end hash, id, dataset kind) and texts (id, key, title,
    body). `ahead`: records already described (`describe_ahead`), by key."""
    nodes, ends, texts = [], [], []
    kind = dataset_kind(dataset)
    for pk, (data, own) in written.items():
        key, title, opened, body, links, ended, started, resolved, hashes = (ahead.get(pk) if ahead else None) or \
            prepare(describe(dataset, pk, orjson.loads(data), orjson.loads(own) if own else (), rel_type_name), own)
        node_id = ids[pk]
        nodes.append((node_id, dataset, pk, key, title, opened, links, ended, started, resolved))
        ends += [(end, node_id, kind) for end in hashes]
        texts.append((node_id, key, title, body))
    ends.sort()  # in index order the inserts walk the b-tree instead of jumping about it
    return nodes, ends, texts


def describe_ahead(dataset: str, encoded: Sequence[tuple[str, str, str | bytes, str | None]]
                   ) -> dict[str, Prepared]:
    """A page's records (pk, cursor, JSON, links JSON) described before its transaction, by key: only keys the page
    holds once (a key's stored version is then that one) and no relation records (which name a CMDB relationship's
    type from the store, as the transaction sees it)."""
    if dataset.partition("/")[2] in RELATION_TABLES:
        return {}
    once = Counter(pk for pk, _, _, _ in encoded)
    return {pk: prepare(describe(dataset, pk, orjson.loads(data), orjson.loads(own) if own else ()), own)
            for pk, _, data, own in encoded if once[pk] == 1}


NODE_COLUMNS = ("id", "dataset", "pk", "key", "title", "opened", "links")


class GraphReads:
    """The graph's reads that do not depend on the database (finding records, resolving links both ways), over the
    few lookups each store answers in its own SQL."""

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _datasets(self) -> list[str]:
        """Every dataset, by skipping through the records' (dataset, pk) index: one probe per dataset."""
        return [r[0] for r in self._rows(
            "WITH RECURSIVE d(name) AS (SELECT min(dataset) FROM records UNION ALL "
            "SELECT (SELECT min(dataset) FROM records WHERE dataset > d.name) FROM d WHERE d.name IS NOT NULL) "
            "SELECT name FROM d WHERE name IS NOT NULL")]

    def _by_pk(self, pk: str, datasets: Sequence[str]) -> list[int]:
        """The nodes of these datasets whose primary key is `pk`."""
        raise NotImplementedError

    def _by_key(self, keys: Sequence[str]) -> list[int]:
        """The nodes called by any of these keys."""
        raise NotImplementedError

    def _linking(self, hashes: Sequence[int], me: int, kinds: Sequence[int] | None, during: tuple[str, str] | None
                 ) -> list[tuple[int, str | None]]:
        """(id, links JSON) of the nodes other than `me` that state a link to an end of one of these hashes;
        `kinds`: only those of datasets of these kinds (dataset_kind); `during` (since, until): not those whose work
        ended before `since` or started after `until`."""
        raise NotImplementedError

    def _keys_found(self, keys: Sequence[str]) -> list[tuple[str, int]]:
        """(key, node id) of the nodes called by these keys."""
        raise NotImplementedError

    def _pks_found(self, datasets: Sequence[str], pks: Sequence[str]) -> list[tuple[str, str, int]]:
        """(dataset, pk, node id) of the nodes of these datasets with these primary keys."""
        raise NotImplementedError

    def _edges_at(self, pk: str, connector: str) -> list[tuple[str, str, str, str, str]]:
        """(src dataset, src pk, rel, dst dataset, dst pk) of the links stated apart from their records (the edges
        table) with `pk` at either end, in a dataset of `connector` (its name and '/')."""
        raise NotImplementedError

    def nodes(self, ids: Iterable[int], with_data: bool = False, fields: Sequence[str] = ()
              ) -> dict[int, dict[str, Any]]:
        raise NotImplementedError

    def find_nodes(self, ref: str) -> list[dict[str, Any]]:
        """Live records called `ref`: by key (INC0012345, OPS-42, a case number, a page id), then by primary key."""
        ids = self._by_key(list(dict.fromkeys((ref, ref.upper()))))
        if not ids:
            ids = self._by_pk(ref, self._datasets())
        found = self.nodes(ids)
        return [found[i] for i in sorted(found)]

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
            for key, node_id in self._keys_found(sorted({pk for _, pk in mention})):
                by_key.setdefault(key, []).append(node_id)
            by_source: dict[str, set[str]] = {}
            for dataset, pk in todo:
                if (dataset, pk) not in mention:
                    by_source.setdefault(dataset.partition("/")[0] + "/", set()).add(pk)
            found: dict[tuple[str, str], list[int]] = {}
            for prefix, pks in by_source.items():
                names = [d for d in datasets if d.startswith(prefix)]
                for dataset, pk, node_id in self._pks_found(names, sorted(pks)) if names else ():
                    found.setdefault((dataset, pk), []).append(node_id)
            for dataset, pk in todo:
                if (dataset, pk) in mention:
                    resolved[(dataset, pk)] = by_key.get(pk, [])
                    continue
                ids = found.get((dataset, pk), [])
                # not for short numbers: Jira's and Confluence's ids count per kind (project 10000, issue 10000)
                if not ids and not (pk.isdigit() and len(pk) < 15):
                    prefix = dataset.partition("/")[0] + "/"
                    ids = [i for d in datasets if d.startswith(prefix) for i in found.get((d, pk), [])]
                    ids = ids if len(ids) == 1 else []
                resolved[(dataset, pk)] = ids

        wanted = tuple(tables)

        def table_ok(dataset: str) -> bool:
            return not wanted or dataset.partition("/")[2].startswith(wanted)

        # with `tables`, the linking records looked at are those in them and relations (found by kind in the index)
        kinds = [dataset_kind(d) for d in datasets
                 if table_ok(d) or d.partition("/")[2] in RELATION_TABLES] if wanted else None

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
            for owner, theirs in self._linking(list({key_hash(pk), key_hash(key)}), me, kinds, during):
                stated.append((owner, touching(orjson.loads(theirs or "[]"), me, (pk, key)), me))
            apart += [(row, me) for row in self._edges_at(pk, node["dataset"].partition("/")[0] + "/")]
        prefetch({(link[i], link[i + 1]) for _, said, _ in stated for link in said for i in range(1, len(link), 2)}
                 | {(row[0], row[1]) for row, _ in apart} | {(row[3], row[4]) for row, _ in apart})
        for owner, said, me in stated:
            for link in said:
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

    def _table_datasets(self, table: str) -> list[str]:
        return [d for d in self._datasets() if d.partition("/")[2] == table]

    def graph_datasets(self) -> list[str]:
        return self._datasets()


__all__ = ["ENDED_FIELDS", "MAX_TEXT", "MENTION", "NODE_COLUMNS", "RELATION_TABLES", "RESOLVED_FIELDS",
           "STARTED_FIELDS", "TEXT_FIELDS", "UNINDEXED_TARGETS",
           "GraphReads", "Node", "Prepared", "dataset_kind", "describe", "describe_ahead", "end_hashes", "end_rows",
           "graph_rows", "key_hash", "prepare", "resolved_at", "resolved_times", "stated_ends"]
