"""The PostgreSQL store's full-text lexemes: made as SQLite's FTS5 makes its tokens (runs of letters and digits),
Snowball-stemmed, with the title's positions weighing A and the key's B; FTS5 queries become tsqueries of the same."""

from __future__ import annotations

from udc.store.postgres_graph import ts_query, ts_vector


def test_a_records_text_becomes_weighted_stemmed_lexemes() -> None:
    assert ts_vector("INC0010001", "Disk full", "disks are full: db01.corp") == (
        "'disk':1A,4 'full':2A,6 'inc0010001':3B 'are':5 'db01':7 'corp':8")
    assert ts_vector(None, None, "Ünïcode wörds, ASCII_too") == "'ünïcode':1 'wörds':2 'ascii':3 'too':4"


def test_fts5_queries_become_tsqueries_of_the_same_lexemes() -> None:
    assert ts_query('"disconnecting" AND ("db01" OR "ORA-01653")') == (
        "('disconnect') & ( ('db01') | ('ora' & '01653') )")
    assert ts_query("disk full NOT printer") == "('disk') & ('full') & ! ('printer')"  # side by side: AND
    assert ts_query('"--"') == "('_')"  # no word: a lexeme no text has
