"""The knowledge graph inside the SQLite store (udc.store.graph says what it holds): nodes with their links as a JSON
column, an index of link ends, and an FTS5 full-text index, all written in the transaction that stores the record.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson

from udc.store.graph import NODE_COLUMNS, GraphReads, Prepared, graph_rows, stated_ends

# BM25 costs ~6 µs a match (FTS5 reads each one's length): ranking every record holding two common words took 80 ms
# at 1,000,000 records. A query matching more is ranked among the records holding its words in their key or title,
# which BM25 (the title weighing 4 to the body's 1, the key 2) ranks first but for short records holding a word in
# their body only: on the bench's 100 pairs of common words, 99.2% of the top 20 (and 97 of the top 5s) are those
# of ranking every match.
RANKED_MATCHES = 2000

# A node's table and when it was opened are words of its `tags` column (`text_tags`), so FTS5 itself narrows a search
# filtered by table and time (reading the node of every match took 150 ms at p95 on 1,000,000 records): xy<year><table>
# and xm<year><month><table>. They only narrow: the nodes' own dataset and time still decide. `--since` reads its
# months to the end of that year, then whole years up to TAGGED_YEARS after it: a record opened later than that is not
# found by a search filtered by table and time. By table alone the nodes filter (a table is a large share of a store:
# its word would cost more than it saves, `similar` took twice as long).
TAGGED_YEARS = 30

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
    started TEXT,   -- --for` reads only the changes around its window
    resolved TEXT); -- when it was resolved (RESOLVED_FIELDS), a cursor string: `trends` counts in SQL
CREATE INDEX IF NOT EXISTS graph_nodes_key ON graph_nodes (key) WHERE key IS NOT NULL;
{GRAPH_ENDS}-- porter: 'disconnecting' finds 'disconnects'; detail=column: a third cheaper to write (no phrase queries);
-- tags: text_tags (searches look in the other columns only)
CREATE VIRTUAL TABLE IF NOT EXISTS graph_text USING fts5 (key, title, body, tags,
    tokenize = 'porter unicode61 remove_diacritics 2', detail = column);
"""
# Written page by page, the text index is many segments (FTS5 merges them 4 at a time: 10 after 1,000,000 records),
# and a search reads its words' records in each one. A run that wrote MERGE_AFTER_ROWS records or more merges them into
# one at its end ('optimize', 1.9-3 s on 1,000,000 records): search p50 -25%, p95 -10 to -20% there. Smaller runs
# leave it to FTS5's own merging (optimize rewrites the whole index).
MERGE_AFTER_ROWS = 100_000
# Smaller runs (a backfill resumed in parts, incremental cycles) merge it too once FTS5's own merging left it in
# MERGE_AFTER_SEGMENTS segments or more (it lets up to 15 pile up): after a merge, a store written by small runs merges
# again after about as many runs as this.
MERGE_AFTER_SEGMENTS = 8
MERGE_TEXT = "INSERT INTO graph_text (graph_text) VALUES ('optimize')"
_STRUCTURE_V2 = b"\xff\x00\x00\x01"  # after the cookie, in FTS5's structure record from SQLite 3.42 on
# Searches read posting lists, nodes and record sizes scattered over the file: mapped, SQLite reads them in place
# instead of copying each page in (search p50 -10%, p95 -3 to -18% at 1,000,000 records). This is SQLite's own
# ceiling (2 GB); SQLCipher maps nothing (its pages are decrypted).
READ_MMAP = "PRAGMA mmap_size = 2147418112"
# BM25 weights of key, title, body and tags
_BM25 = "2.0, 4.0, 1.0, 0.0"
_TEXT = "{key title body}"


def text_segments(conn: sqlite3.Connection) -> int:
    """How many segments the text index is in: one row read, FTS5's structure record (a 4-byte cookie, then the
    number of levels and of segments as SQLite varints)."""
    row = conn.execute("SELECT block FROM graph_text_data WHERE id = 10").fetchone()
    if row is None:
        return 0
    block = bytes(row[0])
    at = 8 if block[4:8] == _STRUCTURE_V2 else 4
    for _ in range(2):  # levels, then segments
        value = 0
        for _ in range(9):
            byte, at = block[at], at + 1
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
    return value


def _table_word(dataset: str) -> str:
    return re.sub(r"[^0-9a-z]", "", dataset.rpartition("/")[2].lower())


def text_tags(dataset: str, opened: str | None) -> str:
    """The `tags` of a node of `dataset` opened at `opened` (a cursor string, or None)."""
    table = _table_word(dataset)
    return f"xy{opened[:4]}{table} xm{opened[:4]}{opened[5:7]}{table}" if opened else ""


def tags_filter(datasets: Sequence[str], since: str | None) -> str | None:
    """An FTS5 expression over `tags` that every node of `datasets` opened at or after `since` matches (None: no
    narrowing, without both)."""
    tables = sorted({_table_word(name) for name in datasets})
    if not tables or not since:
        return None
    year, month = int(since[:4]), int(since[5:7])
    words = [f"xm{year}{m:02d}{t}" for t in tables for m in range(month, 13)]
    words += [f"xy{y}{t}" for t in tables for y in range(year + 1, year + TAGGED_YEARS + 1)]
    return f"{{tags}}: ({' OR '.join(words)})"


def _rowids(conn: sqlite3.Connection, dataset: str, pks: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(pks), 900):
        chunk = pks[start:start + 900]
        found.update(conn.execute(f"SELECT pk, rowid FROM records WHERE dataset = ? AND pk IN "
                                  f"({','.join('?' * len(chunk))})", (dataset, *chunk)).fetchall())
    return found


def index_page(conn: sqlite3.Connection, dataset: str, written: Sequence[tuple[str, str | bytes, str | None]],
               replaced: Sequence[str], ahead: Mapping[str, Prepared] | None = None,
               known: Mapping[str, int] | None = None) -> None:
    """Keep the graph current for a page, inside its transaction: `written` are the records stored now (pk, JSON,
    links JSON), `replaced` the keys whose earlier version (updated or deleted) leaves the graph first. `ahead`: its
    records described already (udc.store.graph.describe_ahead), by key; `known`: the rowids of all of `written`, by
    key, when the caller knows them (else they are looked up)."""
    last = {pk: (data, links) for pk, data, links in written}  # a key twice in a page: its last version was stored
    ids = dict(known) if known and not replaced and last.keys() <= known.keys() else \
        _rowids(conn, dataset, list(set(replaced) | last.keys()))
    gone = [ids[pk] for pk in replaced if pk in ids]
    if gone:
        stale = stated_ends(_fetch(conn, "SELECT id, links FROM graph_nodes WHERE id IN ({})", gone))
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

    nodes, ends, texts = graph_rows(dataset, last, ids, rel_type_name, ahead)
    conn.executemany(f"INSERT INTO graph_nodes ({', '.join(NODE_COLUMNS)}, ended, started, resolved) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", nodes)
    conn.executemany("INSERT OR IGNORE INTO graph_ends VALUES (?, ?, ?)", ends)
    tags = {node[0]: text_tags(dataset, node[5]) for node in nodes}
    conn.executemany("INSERT INTO graph_text (rowid, key, title, body, tags) VALUES (?, ?, ?, ?, ?)",
                     [(*text, tags[text[0]]) for text in texts])


def _fetch(conn: sqlite3.Connection, sql: str, ids: Sequence[int]) -> Iterator[tuple[Any, ...]]:
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        yield from conn.execute(sql.format(",".join("?" * len(chunk))), chunk)


class SqliteGraph(GraphReads):
    """The store's graph reads (udc.store.base.GraphQueries) over the tables above; mixed into SqliteStore."""

    location: str

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _translated(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._translated():
            return self._conn().execute(sql, args).fetchall()

    def _by_pk(self, pk: str, datasets: Sequence[str]) -> list[int]:
        if not datasets:
            return []
        return [r[0] for r in self._rows(
            f"SELECT n.id FROM records AS r JOIN graph_nodes AS n ON n.id = r.rowid "
            f"WHERE r.dataset IN ({','.join('?' * len(datasets))}) AND r.pk = ?", (*datasets, pk))]

    def _by_key(self, keys: Sequence[str]) -> list[int]:
        return [r[0] for r in self._rows(f"SELECT id FROM graph_nodes WHERE key IN ({','.join('?' * len(keys))})",
                                         keys)]

    def _in_chunks(self, sql: str, values: Sequence[Any], before: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """`sql` with its `IN ({})` filled with the values, a few hundred at a time (`before`: the arguments first)."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(values), 500):
            chunk = values[start:start + 500]
            rows += self._rows(sql.format(",".join("?" * len(chunk))), (*before, *chunk))
        return rows

    def _keys_found(self, keys: Sequence[str]) -> list[tuple[str, int]]:
        return [(key, node_id) for key, node_id in self._in_chunks("SELECT key, id FROM graph_nodes WHERE key IN ({})",
                                                                   keys)]

    def _pks_found(self, datasets: Sequence[str], pks: Sequence[str]) -> list[tuple[str, str, int]]:
        return [(d, pk, i) for d, pk, i in self._in_chunks(
            f"SELECT r.dataset, r.pk, n.id FROM records AS r JOIN graph_nodes AS n ON n.id = r.rowid "
            f"WHERE r.dataset IN ({','.join('?' * len(datasets))}) AND r.pk IN ({{}})", pks, datasets)]

    def _linking(self, hashes: Sequence[int], me: int, kinds: Sequence[int] | None, during: tuple[str, str] | None
                 ) -> list[tuple[int, str | None]]:
        where, args = "", list[Any]()
        if kinds is not None:
            where, args = f" AND e.kind IN ({','.join('?' * len(kinds))})", list(kinds)
        if during:
            where, args = where + (" AND (n.ended IS NULL OR n.ended >= ?) AND (n.started IS NULL "
                                   "OR n.started <= ?)"), [*args, *during]
        return [(owner, links) for owner, links in self._rows(
            f"SELECT e.owner, n.links FROM graph_ends AS e JOIN graph_nodes AS n ON n.id = e.owner "
            f"WHERE e.end_hash IN ({','.join('?' * len(hashes))}) AND e.owner <> ?{where}", (*hashes, me, *args))]

    def _edges_at(self, pk: str, connector: str) -> list[tuple[str, str, str, str, str]]:
        return [(a, b, c, d, e) for a, b, c, d, e in self._rows(
            "SELECT src_dataset, src_pk, rel, dst_dataset, dst_pk FROM edges "
            "WHERE (src_pk = ?1 AND substr(src_dataset, 1, ?2) = ?3) "
            "OR (dst_pk = ?1 AND substr(dst_dataset, 1, ?2) = ?3)", (pk, len(connector), connector))]

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

    def text_search(self, query: str, limit: int, datasets: Sequence[str] = (), since: str | None = None,
                    until: str | None = None, exclude: Sequence[int] = ()) -> list[dict[str, Any]]:
        """Nodes matching an FTS5 query, best first (BM25, the title weighing more than the body), each with a
        snippet (matches between « and »). `datasets`: only these (a name without '/' is a table of any source);
        `since`/`until`: opened in [since, until) (cursor strings)."""
        words = f"{_TEXT}: ({query})"
        where, args = ["graph_text MATCH ?"], list[Any]([words])
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
        tags = tags_filter(datasets, since)
        scope = f"{words} AND {tags}" if tags else words  # a superset of the matches the filters keep
        # More matches in scope than RANKED_MATCHES: those holding the query's words in their key or title are
        # ranked, if they are enough (else every match is)
        narrow = self._count(scope, RANKED_MATCHES + 1) > RANKED_MATCHES
        for among_titles in (True, False) if narrow else (False,):
            rank = f"bm25(graph_text, {_BM25})"
            if among_titles or tags:
                # `+`: a filter on the rows FTS5 gives, not a lookup per id (each of which would count the terms'
                # records again); BM25 is the query's own (not the scope's), so the scores are those of the whole
                # ranking, and the tags' records are not counted
                inner = f"{{key title}}: ({query})" + (f" AND {tags}" if tags else "") if among_titles else scope
                ranked = [*where, "+graph_text.rowid IN (SELECT rowid FROM graph_text WHERE graph_text MATCH ?)"]
                ranked_args = [*args, inner]
            elif len(where) == 1:  # FTS5 sorts by BM25 itself: half the time of ORDER BY bm25() unfiltered, but
                # twice it with filters on the nodes (measured on 300,000 records)
                rank, ranked, ranked_args = "rank", [*where, f"rank MATCH 'bm25({_BM25})'"], args
            else:
                ranked, ranked_args = where, args
            rows = self._rows(
                f"SELECT {', '.join('n.' + c for c in NODE_COLUMNS)}, {rank} FROM graph_text "
                "JOIN graph_nodes AS n ON n.id = graph_text.rowid "
                f"WHERE {' AND '.join(ranked)} ORDER BY {rank} LIMIT ?", (*ranked_args, limit))
            if len(rows) == limit:
                break
        # the snippets of the hits only (made in the query above, one was made for every match: seconds for common
        # words), one lookup each: `rowid IN (…)` walked every match (3–15 ms against 3 at 1,000,000 records)
        snippets = {row[0]: found[0][0] for row in rows if (found := self._rows(
            "SELECT snippet(graph_text, -1, '«', '»', '…', 12) FROM graph_text WHERE graph_text MATCH ? "
            "AND rowid = ?", (words, row[0])))}
        return [{**dict(zip(NODE_COLUMNS, row, strict=False)), "score": round(-row[-1], 3),
                 "snippet": snippets.get(row[0], "")} for row in rows]

    def match_count(self, query: str, cap: int) -> int:
        """How many records match an FTS5 query, counted up to `cap` (the cost stays bounded for common words)."""
        return self._count(f"{_TEXT}: ({query})", cap)

    def _count(self, expression: str, cap: int) -> int:
        return int(self._rows("SELECT count(*) FROM (SELECT 1 FROM graph_text WHERE graph_text MATCH ? LIMIT ?)",
                              (expression, cap))[0][0])

    def node_text(self, node_id: int) -> tuple[str, str]:
        """A node's indexed (title, body)."""
        rows = self._rows("SELECT coalesce(title, ''), body FROM graph_text WHERE rowid = ?", (node_id,))
        return (rows[0][0], rows[0][1]) if rows else ("", "")

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

    def trend_counts(self, table: str, by: str, every: str) -> list[tuple[str, str, Any, int, float | None]]:
        """What `trends` counts, aggregated in SQL over the live records of a table (in any source) that have an
        opened time, per bucket (a day, or a week from Monday: 'YYYY-MM-DD') and value of the field `by` (at the top
        of the record or in Jira's `fields`; objects as JSON text): ('opened', bucket of opened, value, count, None),
        ('resolved', bucket of resolved, value, count, seconds from opened to resolved summed) and ('closed', bucket
        of the later of opened and resolved, value, count, None)."""
        datasets = self._table_datasets(table)
        if not datasets:
            return []

        def bucket(at: str) -> str:
            return f"date({at}, '-6 days', 'weekday 1')" if every == "week" else f"substr({at}, 1, 10)"

        marks = ",".join(f"?{3 + i}" for i in range(len(datasets)))
        rows = self._rows(
            "WITH t AS MATERIALIZED (SELECT n.opened AS o, n.resolved AS r, coalesce(json_extract(r.data, ?1), "
            "json_extract(r.data, ?2)) AS v FROM records AS r JOIN graph_nodes AS n ON n.id = r.rowid "
            f"WHERE r.dataset IN ({marks}) AND r.deleted = 0 AND n.opened IS NOT NULL) "
            f"SELECT 'opened', {bucket('o')}, v, count(*), NULL FROM t GROUP BY 2, 3 UNION ALL "
            # time to resolve in whole microseconds (cursor strings are 'YYYY-MM-DDTHH:MM:SS.ffffffZ'), summed
            # exactly: julianday's milliseconds in floating point would move a mean rounded to 0.01 h
            f"SELECT 'resolved', {bucket('r')}, v, count(*), sum(CAST(round((julianday(substr(r, 1, 19)) - "
            "julianday(substr(o, 1, 19))) * 86400) AS INTEGER) * 1000000 + substr(r, 21, 6) - substr(o, 21, 6)) "
            "FROM t WHERE r IS NOT NULL GROUP BY 2, 3 UNION ALL "
            f"SELECT 'closed', {bucket('max(o, r)')}, v, count(*), NULL FROM t WHERE r IS NOT NULL GROUP BY 2, 3",
            (f'$."{by}"', f'$.fields."{by}"', *datasets))
        return [(kind, at, value, count, micros / 1e6 if micros is not None else None)
                for kind, at, value, count, micros in rows]


__all__ = ["GRAPH_ENDS", "GRAPH_SCHEMA", "SqliteGraph", "index_page", "text_segments"]
