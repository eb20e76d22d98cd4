"""ServiceNow end to end: the invariants of docs/ARCHITECTURE.md, each attacked through the simulator over HTTP."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from udc.cli import app
from udc.config import TableSpec
from udc.errors import ConfigError
from udc.simulators.base import Request
from udc.simulators.servicenow import Access
from udc.sources import build_source
from udc.sources.servicenow import TableStream

from .conftest import AFTER_DATA, START, Harness, source_truth, stored_truth, write_config


def incident_queries(h: Harness) -> list[str]:
    return [r.arg("sysparm_query") or "" for r in h.sim.requests if r.path == "/api/now/table/incident"]


@pytest.mark.both_stores
def test_historical_sync_stores_exactly_the_source(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 600, "change_request": 80, "cmdb_ci_server": 40, "u_vendor_ticket": 30})
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 37, "tables": [
        "incident", "change_request", "cmdb_ci_server", "u_vendor_ticket"]}})
    summary = h.sync("hist")
    assert summary.status == "succeeded"
    for table in ("incident", "change_request", "cmdb_ci_server", "u_vendor_ticket"):
        assert stored_truth(h, table) == source_truth(sim, table), table
    incident = next(iter(h.stored().values()))
    assert incident["caller_id"] in {r["sys_id"] for r in sim.records("sys_user")}  # a raw sys_id, not display
    assert h.store.edge_count() > 600  # references became graph edges
    assert all(r.arg("sysparm_exclude_reference_link") == "true" for r in h.sim.requests if "incident" in r.path)
    by_id = {r["sys_id"]: r for r in sim.records("incident")}
    assert h.stored() == by_id  # each row's JSON as the source sent it, parsed back
    callers = h.store.execute("SELECT src_pk, dst_dataset, dst_pk FROM graph_edges WHERE rel = 'caller_id'")
    assert sorted(callers) == sorted((pk, "snow/sys_user", r["caller_id"]) for pk, r in by_id.items()
                                     if r["caller_id"])


def test_rows_are_kept_as_the_source_sent_them_unless_the_answer_has_another_shape() -> None:
    """With a dictionary, a page's rows are cut out of the answer (key, cursor and references read, the rest left as
    JSON text); an answer of any other shape is parsed whole for the general path, and one that is not JSON is
    refused as such (the client retries it)."""
    stream = TableStream(None, "snow", TableSpec(name="incident"), 10, None,  # type: ignore[arg-type]
                         references={"caller_id": "sys_user", "cmdb_ci": "cmdb_ci"})
    rows = [{"sys_id": "a1", "sys_updated_on": "2025-03-01 10:00:00", "caller_id": "u1", "cmdb_ci": "",
             "short_description": "VPN down for Zo\u00eb ", "nested": {"x": [1, None]}},
            {"sys_id": "a2", "sys_updated_on": "2025-03-01 10:00:01", "caller_id": None, "cmdb_ci": "c9"}]
    texts = [orjson.dumps(row).replace("ë".encode(), b"\\u00eb") for row in rows]  # an escape, kept as sent
    body = b'{"result": [' + b", ".join(texts) + b"]}"
    encoded = stream._decode(body)["result"]
    assert [(pk, cursor, links) for pk, cursor, _, links in encoded] == [
        ("a1", "2025-03-01T10:00:00.000000Z", '[["caller_id","snow/sys_user","u1"]]'),
        ("a2", "2025-03-01T10:00:01.000000Z", '[["cmdb_ci","snow/cmdb_ci","c9"]]')]
    assert [data for _, _, data, _ in encoded] == texts and b"\\u00eb" in texts[0]
    assert [orjson.loads(data) for _, _, data, _ in encoded] == rows
    for other in ({"result": [{"number": "INC1"}]}, {"result": {"sys_id": "a1"}}, {"error": {"message": "x"}},
                  {"result": [{"sys_id": 7, "sys_updated_on": "2025-03-01 10:00:00"}]}):
        assert stream._decode(orjson.dumps(other)) == other
    for broken in (body[:-5], body.replace(b"VPN", b"VP\xff")):  # cut short; not UTF-8 in a field never read
        with pytest.raises(ValueError):
            stream._decode(broken)


def test_the_dictionary_is_read_in_two_round_trips_whatever_the_tables(tmp_path: Path, make_sim) -> None:
    """sys_db_object (with the deletions probe beside it), then the fields of every table and of the tables they
    extend, all at once: against a distant instance, one round trip per table would delay every sync's start."""
    sim = make_sim({"incident": 5, "change_request": 5, "problem": 5, "cmdb_ci_server": 5})
    h = Harness(tmp_path, sim, {"hist": {"tables": ["incident", "change_request", "problem", "cmdb_ci_server"]}})
    # Round trips are counted, not timed: a request's trip is one more than the deepest one whose answer was given
    # before it arrived (a request sent only after another's answer is a trip later). Each is held 0.3 s before its
    # answer, so requests sent together are all in flight at once.
    sim.faults.latency = 0.3
    trips: dict[int, int] = {}
    answered: list[int] = []
    lock = threading.Lock()
    log, handle = sim.log, sim.handle

    def arrive(request: Request) -> None:
        with lock:
            trips[id(request)] = 1 + max(answered, default=0)
        log(request)

    def answer(request: Request) -> Any:
        response = handle(request)
        with lock:
            answered.append(trips[id(request)])
        return response

    sim.log, sim.handle = arrive, answer  # type: ignore[method-assign]
    source = build_source(h.config, "hist")
    streams = source.streams()
    source.close()
    dictionary = {r.arg("sysparm_query") for r in sim.requests if r.path == "/api/now/table/sys_dictionary"}
    assert len(dictionary) >= 6  # incident, change_request, problem, task, cmdb_ci_server and its ancestors
    assert len(answered) >= 8 and max(answered) == 2, f"{max(answered)} round trips, not two"
    assert {s.name for s in streams} >= {"incident", "cmdb_ci_server.deletes"}


def test_without_a_readable_dictionary_references_are_stored_the_same(tmp_path: Path, make_sim) -> None:
    """The reference links then name the graph's targets, and are dropped: the stored shape does not depend on the
    account's rights to sys_dictionary."""
    sim = make_sim({"incident": 40}, access={"svc_udc": Access(unreadable_tables={"sys_db_object", "sys_dictionary"})})
    h = Harness(tmp_path, sim, {"hist": {"tables": ["incident"]}})
    assert h.sync("hist").status == "succeeded"
    stored = h.stored()
    assert stored_truth(h) == source_truth(sim)
    by_id = {r["sys_id"]: r for r in sim.records("incident")}
    for pk, record in stored.items():
        assert record["caller_id"] == by_id[pk]["caller_id"] and len(record["caller_id"]) == 32
    callers = h.store.execute("SELECT dst_dataset, dst_pk FROM graph_edges WHERE rel = 'caller_id'")
    assert sorted(callers) == sorted(("snow/sys_user", r["caller_id"]) for r in by_id.values() if r["caller_id"])


@pytest.mark.both_stores
def test_equal_timestamps_across_page_boundaries_lose_nothing(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 300})
    tie = START + timedelta(days=30)
    tied = {sim.insert("incident", {"short_description": f"tied {n}"}, at=tie) for n in range(23)}
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 4, "tables": ["incident"]}})
    h.sync("hist")
    assert tied <= set(h.stored())
    assert stored_truth(h) == source_truth(sim)
    # pages really did split ties: some resume query asked for "same second, greater sys_id"
    assert any("^NQ" in q and "sys_updated_on=2025-01-31 00:00:00^sys_id>" in q for q in incident_queries(h))


@pytest.mark.both_stores
def test_records_inserted_updated_deleted_while_paging_are_caught(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 500})
    h = Harness(tmp_path, sim, {
        "hist": {"batch_size": 25, "tables": ["incident"]},
        "live": {"mode": "incremental", "lag": "0s", "batch_size": 25, "tables": ["incident"]},
    })
    h.sync("live", now=AFTER_DATA)  # incremental starts at AFTER_DATA; the historical seeds everything before
    ordered = sorted(sim.records("incident"), key=lambda r: (r["sys_updated_on"], r["sys_id"]))
    early, late = ordered[10]["sys_id"], ordered[-10]["sys_id"]  # one already read, one not yet, when we mutate
    victims = [ordered[5]["sys_id"], ordered[-5]["sys_id"]]
    changed_at = AFTER_DATA + timedelta(seconds=30)

    def mutate(_: Request) -> None:
        sim.update("incident", early, {"state": "2"}, at=changed_at)
        sim.update("incident", late, {"state": "2"}, at=changed_at)
        for victim in victims:
            sim.delete("incident", victim, at=changed_at)
        sim.insert("incident", {"short_description": "new while paging", "sys_created_on": "2025-03-01 00:00:00",
                                "sys_updated_on": "2025-03-01 00:00:00"})  # lands behind the reader
        sim.insert("incident", {"short_description": "new, current"}, at=changed_at)

    first = sim.table_request_count
    sim.on_request(first + 6, mutate)
    h.sync("hist", now=AFTER_DATA)
    h.sync("live", now=changed_at + timedelta(minutes=1))
    assert stored_truth(h) == source_truth(sim)
    assert set(victims) <= {pk for pk, _, deleted in h.store.iter_records("snow/incident") if deleted}
    assert h.stored()[early]["state"] == "2" and h.stored()[late]["state"] == "2"


@pytest.mark.both_stores
def test_acl_short_and_empty_pages_are_not_the_end(tmp_path: Path, make_sim) -> None:
    def visible(table: str, record: dict[str, str]) -> bool:  # long runs of hidden rows: whole pages come back empty
        return table != "incident" or int(record["sys_id"], 16) % 7 == 0

    sim = make_sim({"incident": 700}, access={"svc_udc": Access(row_visible=visible)})
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 5, "tables": ["incident"]}})
    h.sync("hist")
    expected = {k: v for k, v in source_truth(sim).items() if int(k, 16) % 7 == 0}
    assert stored_truth(h) == expected
    assert h.stored(), "some rows are visible"


@pytest.mark.both_stores
def test_empty_acl_pages_while_rows_leave_the_window_lose_nothing(tmp_path: Path, make_sim) -> None:
    def visible(table: str, record: dict[str, str]) -> bool:
        return table != "incident" or int(record["sys_id"], 16) % 5 == 0

    sim = make_sim({"incident": 400}, access={"svc_udc": Access(row_visible=visible)})
    hidden = [r["sys_id"] for r in sorted(sim.records("incident"), key=lambda r: r["sys_updated_on"])
              if int(r["sys_id"], 16) % 5 != 0][:40]
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 4, "tables": ["incident"]}})
    # while the reader steps over hidden rows, hidden rows are updated out of the window: offsets shift
    for n, victim in enumerate(hidden[:12]):
        sim.on_request(sim.table_request_count + 3 + n, lambda _r, v=victim: sim.update(
            "incident", v, {"state": "3"}, at=AFTER_DATA + timedelta(days=1)))
    h.sync("hist", now=AFTER_DATA)
    expected = {k: v for k, v in source_truth(sim).items() if int(k, 16) % 5 == 0}
    assert stored_truth(h) == expected


def test_incremental_starts_now_and_never_looks_back(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 200})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "lag": "0s", "start_date": "2020-01-01",
                                         "tables": ["incident"]}})
    first = h.sync("live", now=AFTER_DATA)
    assert first.status == "succeeded" and h.stored() == {}
    assert not any("sys_updated_on" in q for q in incident_queries(h))  # nothing before "now" was asked for
    new = sim.insert("incident", {"short_description": "after start"}, at=AFTER_DATA + timedelta(seconds=10))
    second = h.sync("live", now=AFTER_DATA + timedelta(minutes=2))
    assert set(h.stored()) == {new}
    assert second.streams[0].rows == 1
    third = h.sync("live", now=AFTER_DATA + timedelta(minutes=4))
    assert third.streams[0].rows == 0  # the cursor moved forward


@pytest.mark.both_stores
def test_historical_and_incremental_feed_one_dataset_with_own_cursors(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 150})
    h = Harness(tmp_path, sim, {
        "seed": {"tables": ["incident"]},
        "live": {"mode": "incremental", "lag": "0s", "tables": ["incident"]},
    })
    h.sync("live", now=AFTER_DATA)
    h.sync("seed", now=AFTER_DATA)
    updated = next(iter(source_truth(sim)))
    sim.update("incident", updated, {"state": "7"}, at=AFTER_DATA + timedelta(seconds=5))
    h.sync("live", now=AFTER_DATA + timedelta(minutes=2))
    assert stored_truth(h) == source_truth(sim)
    seed_state, live_state = h.store.all_state("seed"), h.store.all_state("live")
    assert seed_state["historical:incident"]["done"] is True
    assert live_state["incremental:incident"]["position"][0].startswith("2025-07-20T00:02:00")
    assert seed_state["historical:incident"]["position"] != live_state["incremental:incident"]["position"]


def test_historical_window_respects_start_and_end_dates(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 300})
    h = Harness(tmp_path, sim, {"hist": {"start_date": "2025-02-01", "end_date": "2025-03-01", "batch_size": 50,
                                         "tables": ["incident"]}})
    h.sync("hist")
    expected = {k: v for k, v in source_truth(sim).items() if "2025-02-01" <= v < "2025-03-01"}
    assert expected and stored_truth(h) == expected


@pytest.mark.both_stores
def test_deletes_become_tombstones(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 120})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "lag": "0s", "tables": ["incident"]},
                                "seed": {"tables": ["incident"]}})
    h.sync("live", now=AFTER_DATA)
    h.sync("seed", now=AFTER_DATA)
    gone = sorted(source_truth(sim))[:3]
    for sys_id in gone:
        sim.delete("incident", sys_id, at=AFTER_DATA + timedelta(seconds=3))
    summary = h.sync("live", now=AFTER_DATA + timedelta(minutes=2))
    deleted = {pk for pk, _, dead in h.store.iter_records("snow/incident") if dead}
    assert deleted == set(gone)
    assert sum(s.counts.deleted for s in summary.streams) == 3


def test_unreadable_audit_table_is_said_in_the_summary(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 50}, access={"svc_udc": Access(unreadable_tables={"sys_audit_delete"})})
    h = Harness(tmp_path, sim, {"seed": {"tables": ["incident"]}})
    summary = h.sync("seed")
    assert any("sys_audit_delete" in w for w in summary.warnings)


def test_dot_walked_fields_are_stored_flat(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 60})
    h = Harness(tmp_path, sim, {"hist": {"tables": [
        {"name": "incident", "fields": ["number", "assigned_to.email", "caller_id.name", "sys_updated_on"]}]}})
    h.sync("hist")
    record = next(r for r in h.stored().values() if r.get("assigned_to.email"))
    assert set(record) == {"number", "assigned_to.email", "caller_id.name", "sys_updated_on", "sys_id"}
    assert "@" in record["assigned_to.email"]


@pytest.mark.parametrize(("table", "message"), [
    ({"name": "incident", "filter": "activ=true"}, "'activ' is not a field of incident"),
    ({"name": "incident", "fields": ["number", "assigned_to.emial"]}, "'emial' is not a field of sys_user"),
    ({"name": "incident", "fields": ["number.email"]}, "not a reference field"),
    ({"name": "incidnet"}, "table 'incidnet' does not exist"),
])
def test_typos_are_refused_before_any_data_is_read(tmp_path: Path, make_sim, table: dict[str, object],
                                                   message: str) -> None:
    sim = make_sim({"incident": 20})
    h = Harness(tmp_path, sim, {"hist": {"tables": [table]}})
    with pytest.raises(ConfigError, match=message):
        h.sync("hist")
    assert not incident_queries(h)


def test_inherited_fields_are_accepted_in_filters(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 80})
    h = Harness(tmp_path, sim, {"hist": {"tables": [{"name": "incident", "filter": "active=true^priority<=2"}]}})
    h.sync("hist")  # active and priority live on `task` in sys_dictionary
    expected = {r["sys_id"] for r in sim.records("incident") if r["active"] == "true" and int(r["priority"]) <= 2}
    assert set(h.stored()) == expected


def test_random_page_sizes_and_data_always_converge(tmp_path: Path, make_sim) -> None:
    rng = random.Random(11)
    for attempt in range(3):
        sim = make_sim({"incident": rng.randint(50, 250)}, seed=attempt + 20)
        (tmp_path / str(attempt)).mkdir()
        h = Harness(tmp_path / str(attempt), sim, {"hist": {"batch_size": rng.randint(1, 40), "tables": ["incident"]}})
        h.sync("hist")
        assert stored_truth(h) == source_truth(sim)
        assert max(Counter(pk for pk, _, _ in h.store.iter_records("snow/incident")).values()) == 1


def test_discover_json_gives_each_fields_type(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 5})
    h = Harness(tmp_path, sim, {"seed": {"tables": ["incident"]}})
    result = CliRunner().invoke(app, ["discover", "--connector", "snow", "--table", "incident", "--json",
                                      "--config", str(h.path)])
    assert result.exit_code == 0, result.output
    fields = orjson.loads(result.stdout)["incident"]
    assert fields["assigned_to"] == "reference" and fields["number"] == "string"
    assert "sys_updated_on" in fields  # inherited from task


@pytest.mark.both_stores
def test_a_first_sync_the_source_refuses_leaves_nothing_behind(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 5})
    path = write_config(tmp_path, sim, {"seed": {"tables": ["incident", "no_such_table"]}})
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(app, ["sync", "--pipeline", "seed", "--config", str(path)])
    assert result.exit_code == 2 and "no_such_table" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no udc.db, no lock folder


def test_a_sync_the_source_refuses_records_no_run(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 5})
    h = Harness(tmp_path, sim, {"seed": {"tables": ["incident"]}, "bad": {"tables": ["incident", "no_such_table"]}})
    assert h.sync("seed").status == "succeeded"
    result = CliRunner().invoke(app, ["sync", "--pipeline", "bad", "--config", str(h.path)])
    assert result.exit_code == 2 and "no_such_table" in result.output
    assert [run["pipeline"] for run in h.store.runs(limit=10)] == ["seed"]  # the refusal wrote nothing
