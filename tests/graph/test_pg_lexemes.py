"""The PostgreSQL store's full-text lexemes: made as SQLite's FTS5 makes its tokens (runs of letters and digits),
Snowball-stemmed, with the title's positions weighing A and the key's B; FTS5 queries become tsqueries of the same."""

from __future__ import annotations

import psycopg

from udc.store import postgres_graph
from udc.store.postgres_graph import MAX_WORD, lexemes, ts_query, ts_vector


def test_a_records_text_becomes_weighted_stemmed_lexemes() -> None:
    assert ts_vector("INC0010001", "Disk full", "disks are full: db01.corp") == (
        "'disk':1A 'full':2A 'inc0010001':3B 'disk':4 'are':5 'full':6 'db01':7 'corp':8")
    assert ts_vector(None, None, "Ünïcode wörds, ASCII_too") == "'ünïcode':1 'wörds':2 'ascii':3 'too':4"


def test_the_server_merges_a_lexemes_positions_as_one_value(pg_url: str) -> None:
    """Each position written apart is the tsvector of the lexemes with their positions merged: sorted, the first
    256 kept, the words past position 16383 at that one."""
    many = " ".join(["disk"] * 300 + ["full"] * 17_000 + ["end"])
    with psycopg.connect(pg_url.split("?")[0]) as conn:
        row = conn.execute("SELECT %s::tsvector::text, %s::tsvector::text, length(%s::tsvector)", (
            ts_vector("INC0010001", "Disk full", "disks are full: db01.corp"), ts_vector(None, "full", many),
            ts_vector(None, "full", many))).fetchone()
    assert row is not None
    assert row[0] == "'are':5 'corp':8 'db01':7 'disk':1A,4 'full':2A,6 'inc0010001':3B"
    merged = dict(part.split(":") for part in row[1].split(" "))
    assert merged["'disk'"] == ",".join(str(at) for at in range(2, 258))  # 256 of its 300
    assert merged["'full'"].startswith("1A,302,303,") and len(merged["'full'"].split(",")) == 256
    assert merged["'end'"] == "16383" and row[2] == 3


def test_words_too_long_are_not_indexed_and_the_stems_remembered_stay_bounded() -> None:
    """A word over MAX_WORD characters (a hash, base64) is left out, wherever it stands; the stems remembered for
    speed are forgotten at STEMS_KEPT, so a sync's memory does not grow with its vocabulary."""
    long = "x" * (MAX_WORD + 1)
    assert lexemes(f"{long} Running {long} jobs") == ["run", "job"] and lexemes(long) == []
    assert ts_vector(None, long, "jobs") == "'job':1"
    for n in range(postgres_graph.STEMS_KEPT + 10):
        lexemes(f"w{n}")
    assert len(postgres_graph._STEMS) <= postgres_graph.STEMS_KEPT
    assert lexemes("Disks disconnecting") == ["disk", "disconnect"]


def test_fts5_queries_become_tsqueries_of_the_same_lexemes() -> None:
    assert ts_query('"disconnecting" AND ("db01" OR "ORA-01653")') == (
        "('disconnect') & ( ('db01') | ('ora' & '01653') )")
    assert ts_query("disk full NOT printer") == "('disk') & ('full') & ! ('printer')"  # side by side: AND
    assert ts_query('"--"') == "('_')"  # no word: a lexeme no text has
