"""The graph kept by the store: links both ways, replaced with their record, dropped with it; mentions that arrive
before their target; relation tables as links; the full-text index following every upsert and tombstone."""

from __future__ import annotations

import importlib
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from stores import Backend, mapped_files
from udc.errors import ConfigError
from udc.query import search
from udc.query.changes import changes as changes_for
from udc.store import PageWrite, SqliteStore, Store, open_reader, open_store, postgres

pytestmark = pytest.mark.both_stores

T1, T2, T3 = "2025-01-01T00:00:00.000000Z", "2025-01-02T00:00:00.000000Z", "2025-01-03T00:00:00.000000Z"
CI_A, CI_B, CI_C = "a" * 32, "b" * 32, "c" * 32
INC = "1" * 32


def put(store: Store, dataset: str, pk: str, cursor: str, record: dict[str, Any],
        links: list[tuple[str, str, str]] | None = None) -> None:
    store.write(PageWrite(dataset, [(pk, cursor, record)], links={pk: links} if links else {}), 1)


def node(store: Store, ref: str) -> int:
    found = store.find_nodes(ref)
    assert len(found) == 1, found
    return int(found[0]["id"])


def around(store: Store, ref: str) -> set[tuple[str, str, str]]:
    """(src key, rel, dst key) of every link touching the record called `ref`."""
    me = node(store, ref)
    links = store.neighbours([me])
    ends = [x for link in links for x in (link["src"], link["dst"])]
    names = {i: n["key"] or n["pk"] for i, n in store.nodes(ends).items()}
    return {(names[link["src"]], link["rel"], names[link["dst"]]) for link in links}


def incident(number: str, text: str, ci: str = "", **extra: Any) -> dict[str, Any]:
    return {"number": number, "short_description": text, "description": f"{text} reported by monitoring",
            "opened_at": "2025-01-01 10:00:00", "cmdb_ci": ci, **extra}


def changes_near(store: Store, ci: int, during: tuple[str, str] | None = None) -> set[str]:
    """The keys of the changes linked to CI node `ci` (within `during`, when given)."""
    return {store.nodes([x])[x]["key"] for link in store.neighbours([ci], ("change_request",), during)
            for x in (link["src"], link["dst"]) if x != ci}


def test_a_reference_is_queryable_from_both_ends_even_when_it_names_the_base_table(store: Store) -> None:
    put(store, "snow/cmdb_ci_server", CI_A, T1, {"name": "db01", "sys_id": CI_A})
    put(store, "snow/incident", INC, T1, incident("INC0010001", "Disk full on db01", CI_A),
        [("cmdb_ci", "snow/cmdb_ci", CI_A)])  # the dictionary names cmdb_ci; the CI is stored as a server
    assert around(store, "INC0010001") == {("INC0010001", "cmdb_ci", CI_A)}
    assert around(store, CI_A) == {("INC0010001", "cmdb_ci", CI_A)}


def test_a_resynced_record_replaces_its_links_and_a_tombstone_drops_them(store: Store) -> None:
    for ci in (CI_A, CI_B):
        put(store, "snow/cmdb_ci", ci, T1, {"name": ci[:4], "sys_id": ci})
    put(store, "snow/incident", INC, T1, incident("INC0010001", "Disk full", CI_A), [("cmdb_ci", "snow/cmdb_ci", CI_A)])
    put(store, "snow/incident", INC, T2, incident("INC0010001", "Disk full", CI_B), [("cmdb_ci", "snow/cmdb_ci", CI_B)])
    assert around(store, CI_A) == set()  # no stale edge
    assert around(store, CI_B) == {("INC0010001", "cmdb_ci", CI_B)}
    assert store.execute("SELECT count(*) FROM graph_ends")[0][0] == 1
    store.write(PageWrite("snow/incident", tombstones=[(INC, T3)]), 2)
    assert around(store, CI_B) == set()
    assert store.find_nodes("INC0010001") == []
    assert store.execute("SELECT count(*) FROM graph_ends")[0][0] == 0
    assert store.text_search('"disk"', 10) == []  # the deleted record left the index


def test_a_cross_source_mention_is_kept_until_its_target_arrives(store: Store) -> None:
    # a Jira comment names an incident that is not stored yet; a work note names the Jira issue
    put(store, "jira/comments", "20001", T1, {"id": "20001", "issue_id": "10001",
                                              "body_text": "Same symptom as INC0010001, see the runbook."},
        [("comment_on", "jira/issues", "10001")])
    put(store, "jira/issues", "10001", T1, {"id": "10001", "key": "OPS-42", "fields": {"summary": "db01 slow"}})
    assert around(store, "OPS-42") == {("20001", "comment_on", "OPS-42")}
    put(store, "snow/incident", INC, T1,
        incident("INC0010001", "db01 slow", work_notes="Tracked in OPS-42; not in UTF-8"))
    assert around(store, "INC0010001") == {("20001", "mentions", "INC0010001"), ("INC0010001", "mentions", "OPS-42")}
    assert ("INC0010001", "mentions", "OPS-42") in around(store, "OPS-42")


def test_relation_tables_become_typed_links_between_the_records_they_relate(store: Store) -> None:
    put(store, "snow/cmdb_rel_type", "t1", T1, {"sys_id": "t1", "name": "Depends on::Used by"})
    for ci in (CI_A, CI_B):
        put(store, "snow/cmdb_ci_server", ci, T1, {"name": ci[:4], "sys_id": ci})
    put(store, "snow/cmdb_rel_ci", "r1", T1, {"sys_id": "r1", "parent": CI_A, "child": CI_B, "type": "t1"},
        [("parent", "snow/cmdb_ci", CI_A), ("child", "snow/cmdb_ci", CI_B), ("type", "snow/cmdb_rel_type", "t1")])
    put(store, "snow/incident", INC, T1, incident("INC0010001", "Disk full"))
    put(store, "snow/task_ci", "tc1", T1, {"sys_id": "tc1", "task": INC, "ci_item": CI_B})
    put(store, "snow/kb_knowledge", "kb1", T1, {"sys_id": "kb1", "number": "KB0010001", "short_description": "Clean"})
    put(store, "snow/m2m_kb_task", "m1", T1, {"sys_id": "m1", "kb_knowledge": "kb1", "task": INC})
    assert around(store, CI_B) == {(CI_A, "Depends on::Used by", CI_B), ("INC0010001", "affects_ci", CI_B)}
    assert ("KB0010001", "kb_for", "INC0010001") in around(store, "INC0010001")
    store.write(PageWrite("snow/cmdb_rel_ci", tombstones=[("r1", T2)]), 2)  # the relationship is removed
    assert around(store, CI_B) == {("INC0010001", "affects_ci", CI_B)}


def test_salesforce_lookups_link_a_case_to_its_account(store: Store) -> None:
    put(store, "sf/Account", "0015g0000000001AAA", T1, {"Id": "0015g0000000001AAA", "Name": "Northwind",
                                                       "SystemModstamp": T1})
    put(store, "sf/Case", "5005g0000000001AAA", T1, {
        "Id": "5005g0000000001AAA", "CaseNumber": "00001026", "Subject": "Login loops", "SystemModstamp": T1,
        "AccountId": "0015g0000000001AAA", "OwnerId": "0055g0000000003AAA", "ContactId": None})
    assert around(store, "00001026") == {("00001026", "AccountId", "0015g0000000001AAA")}


def test_the_index_follows_updates_and_ranks_title_matches_first(store: Store) -> None:
    put(store, "snow/incident", INC, T1, incident("INC0010001", "Printer jam on floor 3"))
    put(store, "snow/incident", "2" * 32, T1, incident("INC0010002", "VPN down", work_notes="printer unrelated"))
    assert [h["key"] for h in store.text_search("printer", 10)] == ["INC0010001", "INC0010002"]
    hit = store.text_search("jam", 10)[0]
    assert hit["key"] == "INC0010001" and "«jam»" in hit["snippet"]
    put(store, "snow/incident", INC, T2, incident("INC0010001", "Toner low"))
    assert [h["key"] for h in store.text_search("jam", 10)] == []
    assert [h["key"] for h in store.text_search("toner", 10)] == ["INC0010001"]
    assert store.execute("SELECT count(*) FROM graph_text")[0][0] == 2


def test_a_store_written_before_the_graph_existed_joins_it_when_opened(tmp_path: Path) -> None:
    old = open_store(Backend.store_url(tmp_path / "udc.db"))
    put(old, "snow/cmdb_ci", CI_A, T1, {"name": "db01", "sys_id": CI_A})
    put(old, "snow/incident", INC, T1, incident("INC0010001", "Disk full on db01", CI_A),
        [("cmdb_ci", "snow/cmdb_ci", CI_A)])
    old.write(PageWrite("snow/incident", tombstones=[("9" * 32, T1)]), 1)
    old.close()
    if Backend.kind == "sqlite":
        with sqlite3.connect(tmp_path / "udc.db") as conn:  # as an older udc left it: no graph tables, no version
            conn.executescript("DROP TABLE graph_nodes; DROP TABLE graph_ends; DROP TABLE graph_text; "
                               "PRAGMA user_version = 0;")
    else:  # as udc left a PostgreSQL store at version 2: no graph tables, no record ids
        with postgres.PostgresStore(Backend.store_url(tmp_path / "udc.db")).connect() as conn:
            conn.execute("DROP TABLE graph_nodes, graph_ends, graph_text; ALTER TABLE records DROP COLUMN id; "
                         "UPDATE schema_version SET version = 2")
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    assert around(store, CI_A) == {("INC0010001", "cmdb_ci", CI_A)}
    assert [h["key"] for h in store.text_search('"disk"', 5)] == ["INC0010001"]
    assert store.execute("SELECT count(*) FROM graph_nodes")[0][0] == 2
    store.close()


@pytest.mark.sqlite_only
def test_a_version_2_store_gains_the_kinds_of_its_link_ends_and_its_changes_ends_when_opened(tmp_path: Path
                                                                                             ) -> None:
    """Version 2's graph_ends had no kind, its nodes no `ended`: version 3 computes both, so a lookup by table finds
    them and a change that ended before a time is left out."""
    old = SqliteStore(tmp_path / "udc.db", write_process=False)
    put(old, "snow/cmdb_ci", CI_A, T1, {"name": "db01", "sys_id": CI_A})
    put(old, "snow/incident", INC, T1, incident("INC0010001", "Disk full on db01", CI_A),
        [("cmdb_ci", "snow/cmdb_ci", CI_A)])
    for n, start, end in ((1, "2025-01-01 08:00:00", "2025-01-01 09:00:00"),
                          (2, "2025-01-02 08:00:00", "2025-01-02 09:00:00")):
        put(old, "snow/change_request", str(n) * 32, T1, {
            "number": f"CHG001000{n}", "short_description": "Resize db01", "cmdb_ci": CI_A, "work_end": "",
            "start_date": start, "end_date": end, "opened_at": "2024-12-30 10:00:00"},
            [("cmdb_ci", "snow/cmdb_ci", CI_A)])
    old.close()
    with sqlite3.connect(tmp_path / "udc.db") as conn:  # as udc left it at version 2
        conn.executescript("CREATE TABLE n2 (id INTEGER PRIMARY KEY, dataset TEXT NOT NULL, pk TEXT NOT NULL, "
                           "key TEXT, title TEXT, opened TEXT, links TEXT); INSERT INTO n2 SELECT id, dataset, pk, "
                           "key, title, opened, links FROM graph_nodes; DROP TABLE graph_nodes; "
                           "ALTER TABLE n2 RENAME TO graph_nodes; CREATE INDEX graph_nodes_key ON graph_nodes (key) "
                           "WHERE key IS NOT NULL; "
                           "CREATE TABLE v2 (end_hash INTEGER NOT NULL, owner INTEGER NOT NULL, "
                           "PRIMARY KEY (end_hash, owner)) WITHOUT ROWID; "
                           "INSERT INTO v2 SELECT end_hash, owner FROM graph_ends; DROP TABLE graph_ends; "
                           "ALTER TABLE v2 RENAME TO graph_ends; PRAGMA user_version = 2;")
    reader = open_reader(Backend.store_url(tmp_path / "udc.db"))  # a reader cannot upgrade it, and says so
    with pytest.raises(ConfigError, match=r"written by an older udc \(schema version 2\)") as refused:
        changes_for(reader, "INC0010001")
    assert "udc status" in refused.value.hint
    reader.close()
    store = SqliteStore(tmp_path / "udc.db", write_process=False)
    assert store.schema_version() == 5
    assert store.execute("SELECT count(*) FROM graph_ends")[0][0] == 3
    ci = node(store, CI_A)
    changes = partial(changes_near, store, ci)

    assert changes() == {"CHG0010001", "CHG0010002"}
    assert changes(("2025-01-02T00:00:00.000000Z", T3)) == {"CHG0010002"}  # the first ended the day before
    assert changes(("2024-12-01T00:00:00.000000Z", "2025-01-01T12:00:00.000000Z")) == {"CHG0010001"}  # not begun
    assert around(store, CI_A) == {("INC0010001", "cmdb_ci", CI_A), ("CHG0010001", "cmdb_ci", CI_A),
                                   ("CHG0010002", "cmdb_ci", CI_A)}
    put(store, "snow/incident", INC, T2, incident("INC0010001", "Disk full on db01", CI_A))  # its link dropped
    assert ("INC0010001", "cmdb_ci", CI_A) not in around(store, CI_A)
    put(store, "snow/change_request", "3" * 32, T2, {"number": "CHG0010003", "cmdb_ci": CI_A,
                                                   "work_end": "2025-01-01 08:00:00"},
        [("cmdb_ci", "snow/cmdb_ci", CI_A)])  # written at version 3
    assert changes(("2025-01-01T08:30:00.000000Z", T3)) == {"CHG0010001", "CHG0010002"}
    store.close()


def test_changes_outside_a_window_are_left_out_of_a_cis_links(store: Store) -> None:
    put(store, "snow/cmdb_ci", CI_A, T1, {"name": "db01", "sys_id": CI_A})
    for n, start, end in ((1, "2025-01-01 08:00:00", "2025-01-01 09:00:00"),
                          (2, "2025-01-02 08:00:00", "2025-01-02 09:00:00")):
        put(store, "snow/change_request", str(n) * 32, T1, {
            "number": f"CHG001000{n}", "short_description": "Resize db01", "cmdb_ci": CI_A, "work_end": "",
            "start_date": start, "end_date": end}, [("cmdb_ci", "snow/cmdb_ci", CI_A)])
    put(store, "snow/incident", INC, T1, incident("INC0010001", "Disk full on db01", CI_A),
        [("cmdb_ci", "snow/cmdb_ci", CI_A)])
    ci = node(store, CI_A)
    changes = partial(changes_near, store, ci)

    assert changes() == {"CHG0010001", "CHG0010002"}
    assert changes(("2025-01-02T00:00:00.000000Z", T3)) == {"CHG0010002"}  # the first ended the day before
    assert changes(("2024-12-01T00:00:00.000000Z", "2025-01-01T12:00:00.000000Z")) == {"CHG0010001"}  # not begun
    assert changes(("2025-01-03T00:00:00.000000Z", T3)) == set()
    assert ("INC0010001", "cmdb_ci", CI_A) in around(store, CI_A)  # an incident has no end: always there


def test_words_joined_by_punctuation_are_found_by_their_parts_and_stems(store: Store) -> None:
    """As FTS5 reads text (PostgreSQL's parser would read `db01.corp` as one host name and `OPS-42` as -42)."""
    put(store, "snow/incident", INC, T1, incident("INC0010001", "Disk full on db01.corp",
                                                  work_notes="ORA-01653 raised by a batch; see OPS-42, disconnecting"))
    put(store, "snow/incident", "2" * 32, T1, incident("INC0010002", "VPN down"))
    for words in ("db01", "corp", "db01.corp", "ORA-01653", "01653", "OPS-42", "disconnects", "raise"):
        assert [h["key"] for h in search(store, words)] == ["INC0010001"], words
    assert "«db01»" in search(store, "db01")[0]["snippet"]



def test_the_text_people_write_is_indexed_and_other_fields_are_not(store: Store) -> None:
    put(store, "snow/incident", INC, T1, incident("INC0010001", "Printer jam", u_vendor_note="zebra stripes",
                                                   close_notes="<p>Replaced the <b>fuser</b></p>"))
    put(store, "jira/issues", "10001", T1, {"id": "10001", "key": "OPS-42", "fields": {
        "summary": "db01 slow", "environment": "kiwi cluster", "labels_text": "mango"}})
    assert store.text_search('"zebra"', 5) == [] and store.text_search('"mango"', 5) == []
    assert [h["key"] for h in store.text_search('"fuser"', 5)] == ["INC0010001"]
    assert [h["key"] for h in store.text_search('"kiwi"', 5)] == ["OPS-42"]


def test_links_to_people_are_read_from_the_referencing_side_only(store: Store) -> None:
    """Which records reference a person or group is not indexed (nearly every record does): the incident lists its
    caller, the caller's record does not list the incident; a CI still lists its incidents."""
    user = "u" * 32
    put(store, "snow/sys_user", user, T1, {"sys_id": user, "name": "Ann Lee"})
    put(store, "snow/cmdb_ci", CI_A, T1, {"name": "db01", "sys_id": CI_A})
    put(store, "snow/incident", INC, T1, incident("INC0010001", "Disk full", CI_A, caller_id=user),
        [("cmdb_ci", "snow/cmdb_ci", CI_A), ("caller_id", "snow/sys_user", user)])
    assert around(store, "INC0010001") == {("INC0010001", "cmdb_ci", CI_A), ("INC0010001", "caller_id", user)}
    assert around(store, user) == set()
    assert around(store, CI_A) == {("INC0010001", "cmdb_ci", CI_A)}
    assert store.execute("SELECT count(*) FROM graph_ends")[0][0] == 1


def test_similar_with_only_common_words_wants_records_holding_them_together(store: SqliteStore,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """In a large store every word of a record can be common: `similar` then asks for three of them together, not
    any of them (which scored most of the store, seconds at 1,000,000 records)."""
    similar_module = importlib.import_module("udc.query.similar")  # the module (udc.query exports its function)
    monkeypatch.setattr(similar_module, "COMMON", 2)  # every word below is in 2 records or more
    texts = {"1": "mercury venus jupiter", "2": "mercury venus jupiter saturn", "3": "mercury neptune",
             "4": "venus neptune", "5": "jupiter neptune"}
    for n, text in texts.items():
        put(store, "snow/incident", n * 32, T1, {"number": f"INC001000{n}", "short_description": text,
                                                 "opened_at": "2025-01-01 10:00:00"})
    found = similar_module.similar(store, "INC0010001", limit=5)["similar"]
    assert [hit["key"] for hit in found] == ["INC0010002"]


@pytest.mark.sqlite_only
def test_a_query_matching_many_records_ranks_those_with_its_words_in_their_title(store: SqliteStore,
                                                                                  monkeypatch: pytest.MonkeyPatch
                                                                                  ) -> None:
    """Past RANKED_MATCHES matches, the records holding the words in their key or title are ranked (BM25 ranks them
    first), with the scores of the whole ranking; when they are fewer than asked for, every match is ranked."""
    sqlite_graph = importlib.import_module("udc.store.sqlite_graph")
    titles = ["printer jam", "printer offline now", "printer toner low again", "vpn down", "disk full", "mail stuck"]
    for n, title in enumerate(titles, 1):
        put(store, "snow/incident", f"{n:032x}", T1, incident(f"INC001000{n}", title,
                                                               work_notes="the printer on floor 3"))
    everything = store.text_search('"printer"', 6)  # 6 matches: all ranked
    assert [h["key"] for h in everything][:3] == ["INC0010001", "INC0010002", "INC0010003"]
    monkeypatch.setattr(sqlite_graph, "RANKED_MATCHES", 4)
    asked: list[Any] = []
    rows = store._rows
    monkeypatch.setattr(store, "_rows", lambda sql, args=(): asked.append(args) or rows(sql, args))
    narrowed = store.text_search('"printer"', 3)
    assert [(h["key"], h["score"]) for h in narrowed] == [(h["key"], h["score"]) for h in everything[:3]]
    assert '{key title}: ("printer")' in [arg for args in asked for arg in args]  # the title holders were ranked
    assert [h["key"] for h in store.text_search('"printer"', 5)] == [h["key"] for h in everything[:5]]  # 3 < 5


@pytest.mark.sqlite_only
def test_a_run_that_wrote_many_records_merges_the_text_index_into_one_segment(store: SqliteStore,
                                                                              monkeypatch: pytest.MonkeyPatch
                                                                              ) -> None:
    """Each page is a segment of the text index until FTS5 merges 4 of them; a run writing MERGE_AFTER_ROWS records
    or more leaves one, a smaller run leaves them as they are, and searches find the same either way."""
    def segments() -> int:
        return int(store.execute("SELECT count(DISTINCT rowid >> 37) FROM graph_text_data WHERE rowid > 10")[0][0])

    for n in range(1, 4):  # 3 pages
        put(store, "snow/incident", f"{n:032x}", T1, incident(f"INC001000{n}", f"printer jam {n}"))
    found = [hit["key"] for hit in store.text_search("printer", 5)]
    assert segments() == 3
    monkeypatch.setattr(importlib.import_module("udc.store.sqlite_graph"), "MERGE_AFTER_ROWS", 3)
    store.finish_run(store.begin_run("p", "historical"), "succeeded", {"streams": [{"rows": 2}]})
    assert segments() == 3
    store.finish_run(store.begin_run("p", "historical"), "succeeded", {"streams": [{"rows": 2}, {"rows": 1}]})
    assert segments() == 1
    assert [hit["key"] for hit in store.text_search("printer", 5)] == found
    assert [run["status"] for run in store.runs("p")] == ["succeeded", "succeeded"]


@pytest.mark.sqlite_only
def test_the_merge_at_a_runs_end_leaves_none_of_the_text_index_mapped(store: SqliteStore,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The merge reads the whole text index: through the memory map, each page it read stayed in the syncing
    process's resident size (a worker's peak RSS grew with the store). It runs unmapped; searches map again."""
    for n in range(40):
        put(store, "snow/incident", f"{n:032x}", T1, incident(f"INC00{n:05d}", f"printer jam {n} " + "toner " * 300))
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # into the file: pages in the WAL are not mapped
    found = [hit["key"] for hit in store.text_search("printer", 5)]
    assert str(store.path) in mapped_files("self")  # the search read through the map
    monkeypatch.setattr(importlib.import_module("udc.store.sqlite_graph"), "MERGE_AFTER_ROWS", 3)
    store.finish_run(store.begin_run("p", "historical"), "succeeded", {"streams": [{"rows": 40}]})
    assert store.execute("SELECT count(DISTINCT rowid >> 37) FROM graph_text_data WHERE rowid > 10")[0][0] == 1
    assert str(store.path) not in mapped_files("self")
    assert [hit["key"] for hit in store.text_search("printer", 5)] == found
    assert str(store.path) in mapped_files("self")


@pytest.mark.sqlite_only
def test_each_node_is_its_records_row_after_pages_of_new_and_of_stored_keys(store: SqliteStore) -> None:
    """A page of new keys takes the next rowids, which its nodes take without looking the keys up again; a page with
    stored keys looks them up: either way each node is its record's row."""
    def page(dataset: str, numbers: range) -> PageWrite:
        return PageWrite(dataset, [(f"{n:032x}", T1, incident(f"INC00100{n:02d}", f"printer {n}")) for n in numbers])

    for dataset, numbers in (("snow/incident", range(0, 3)), ("snow/problem", range(0, 2)),
                             ("snow/incident", range(3, 6)), ("snow/incident", range(2, 8))):
        store.write(page(dataset, numbers), 1)
    assert store.execute("SELECT count(*) FROM graph_nodes AS n JOIN records AS r ON r.rowid = n.id "
                         "AND r.dataset = n.dataset AND r.pk = n.pk")[0][0] == 10 == \
        store.execute("SELECT count(*) FROM graph_nodes")[0][0]
    assert [hit["key"] for hit in store.text_search("printer 7", 5)] == ["INC0010007"]


@pytest.mark.sqlite_only
def test_a_small_run_merges_the_text_index_once_it_is_in_many_segments(store: SqliteStore,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The segments are counted from FTS5's structure record (one row): the count is that of the segments holding
    the index's data, as FTS5's own merging moves it; a run that leaves MERGE_AFTER_SEGMENTS or more merges them
    into one whatever it wrote (a backfill of small chunks), one that leaves fewer does not."""
    sqlite_graph = importlib.import_module("udc.store.sqlite_graph")

    def segments() -> tuple[int, int]:
        counted = store.execute("SELECT count(DISTINCT rowid >> 37) FROM graph_text_data WHERE rowid > 10")[0][0]
        return sqlite_graph.text_segments(store._conn()), int(counted)

    assert segments() == (0, 0)
    seen = set()
    for n in range(1, 21):  # 20 pages: FTS5 merges some of them on the way
        put(store, "snow/incident", f"{n:032x}", T1, incident(f"INC00100{n:02d}", f"printer jam {n}"))
        seen.add(segments()[0])
        assert segments()[0] == segments()[1]
    assert max(seen) > segments()[0] > 1  # merged on the way, not into one
    found = sorted(hit["key"] for hit in store.text_search("printer", 30))
    left = segments()
    monkeypatch.setattr(sqlite_graph, "MERGE_AFTER_SEGMENTS", left[0] + 1)
    store.finish_run(store.begin_run("p", "historical"), "succeeded", {"streams": [{"rows": 1}]})
    assert segments() == left
    monkeypatch.setattr(sqlite_graph, "MERGE_AFTER_SEGMENTS", left[0])
    store.finish_run(store.begin_run("p", "historical"), "succeeded", {"streams": [{"rows": 1}]})
    assert segments() == (1, 1)
    assert sorted(hit["key"] for hit in store.text_search("printer", 30)) == found
