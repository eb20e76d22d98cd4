"""The graph's questions on a real sync of a planted outage (tests/graph/conftest.py): exact answers."""

from __future__ import annotations

import pytest

from udc.query import QueryError, changes, related, search, similar

from .conftest import SSN, Planted


def test_changes_before_the_incident_nearest_first_with_why(planted: Planted) -> None:
    answer = changes(planted.store, planted.incident, hours=12)
    got = [(c["key"], c["hops"]) for c in answer["changes"]]
    n = planted.changes
    # same CI ended 40 min before; linked by a work note, ended 4 h before; on db01 through task_ci, ended 5 h
    # before; one hop away and running when the incident opened; two hops away. Not: three hops, 20 h before, after.
    assert got == [(n["same_ci"], 0), (n["linked"], 0), (n["task_ci"], 0), (n["one_hop_running"], 1),
                   (n["two_hops"], 2)]
    why = {c["key"]: c["why"] for c in answer["changes"]}
    assert why[n["same_ci"]] == "same CI db01, ended 40 min before"
    assert why[n["linked"]] == "linked to the incident, ended 4 h before"
    assert why[n["one_hop_running"]] == "CI 1 hop away (app01 → db01), in progress when it opened"
    assert why[n["two_hops"]] == "CI 2 hops away (lb01 → app01 → db01), ended 2 h before"
    assert [c["key"] for c in changes(planted.store, planted.incident, hours=1)["changes"]] == [
        n["same_ci"], n["one_hop_running"]]


def test_similar_ranks_the_planted_duplicate_first_with_its_problem_and_article(planted: Planted) -> None:
    answer = similar(planted.store, planted.incident, limit=5)
    first = answer["similar"][0]
    assert first["key"] == planted.duplicate and first["shared_ci"] is True
    assert {(x["key"], x["table"]) for x in first["linked"]} == {(planted.problem, "problem"),
                                                                 (planted.article, "kb_knowledge")}
    assert planted.incident not in [s["key"] for s in answer["similar"]]


def test_search_finds_redacted_text_but_never_the_ssn(planted: Planted) -> None:
    hits = search(planted.store, "ORA-01653 checkout", table="incident")
    assert {h["key"] for h in hits} == {planted.incident, planted.duplicate}
    assert all("«" in h["snippet"] for h in hits)
    for q in (SSN, SSN.replace("-", ""), "8019"):
        assert search(planted.store, q) == []
    assert planted.store.match_count('"536"', 10) == 0
    assert planted.store.execute("SELECT count(*) FROM graph_text WHERE body LIKE '%8019%'")[0][0] == 0


def test_related_walks_links_both_ways(planted: Planted) -> None:
    one = related(planted.store, planted.incident, depth=1)
    assert {(n["table"], n["title"]) for n in one["nodes"] if n["table"] == "cmdb_ci"} == {("cmdb_ci", "db01")}
    two = related(planted.store, planted.incident, depth=2)
    keys = {n["key"] for n in two["nodes"]}
    assert planted.duplicate in keys  # incident → db01 ← duplicate
    assert planted.changes["same_ci"] in keys
    assert {"src": planted.duplicate, "rel": "cmdb_ci", "dst": next(n["key"] for n in one["nodes"]
                                                                  if n["title"] == "db01")} in two["links"]


def test_unknown_and_ambiguous_keys_are_clear_answers(planted: Planted) -> None:
    with pytest.raises(QueryError, match="no stored record is called 'INC9999999'"):
        changes(planted.store, "INC9999999")
    with pytest.raises(QueryError, match="--hours"):
        changes(planted.store, planted.incident, hours=0)
    assert search(planted.store, "zyxxyqqq") == []
