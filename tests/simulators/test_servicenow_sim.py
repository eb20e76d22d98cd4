"""The ServiceNow simulator, exercised over real HTTP the way a connector sees it."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from udc.simulators.base import Request
from udc.simulators.servicenow import (
    AUTH_REQUIRED,
    QUERY_FORBIDDEN,
    TRANSACTION_CANCELLED,
    Access,
    ServiceNowSim,
    hide_sys_id_mod,
)

START = datetime(2025, 1, 1, tzinfo=UTC)
SN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
KEYSET_ORDER = "ORDERBYsys_updated_on^ORDERBYsys_id"

MakeSim = Callable[..., ServiceNowSim]
COMPARE: dict[str, Callable[[str, str], bool]] = {
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}


@pytest.fixture
def make_sim() -> Iterator[MakeSim]:
    sims: list[ServiceNowSim] = []

    def make(**kwargs: Any) -> ServiceNowSim:
        kwargs.setdefault("counts", {"incident": 300})
        sim = ServiceNowSim(**kwargs)
        sims.append(sim)
        sim.start()
        return sim

    yield make
    for sim in sims:
        sim.stop()


@pytest.fixture
def sim(make_sim: MakeSim) -> ServiceNowSim:
    return make_sim()


@pytest.fixture
def client(sim: ServiceNowSim) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, auth=("admin", "admin"), timeout=30) as c:
        yield c


def rows(client: httpx.Client, table: str = "incident", **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/now/table/{table}", params=params)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["result"]
    return result


def ids(result: list[dict[str, Any]]) -> list[str]:
    return [r["sys_id"] for r in result]


def links(response: httpx.Response) -> dict[str, str]:
    return {m.group(2): m.group(1) for m in re.finditer(r'<([^>]+)>;rel="(\w+)"', response.headers.get("link", ""))}


def keyset_read(client: httpx.Client, table: str, limit: int, before: str = "2100-01-01 00:00:00"
                ) -> tuple[list[dict[str, Any]], int]:
    """Read a table with the compound keyset a connector uses; returns the rows and the number of requests."""
    out: list[dict[str, Any]] = []
    query = f"sys_updated_on<{before}^{KEYSET_ORDER}"
    requests = 0
    while True:
        page = rows(client, table, sysparm_query=query, sysparm_limit=limit)
        requests += 1
        if not page:
            return out, requests
        out.extend(page)
        t, last = page[-1]["sys_updated_on"], page[-1]["sys_id"]
        query = (f"sys_updated_on>{t}^sys_updated_on<{before}^NQsys_updated_on={t}^sys_id>{last}"
                 f"^sys_updated_on<{before}^{KEYSET_ORDER}")


def truth(sim: ServiceNowSim, table: str = "incident") -> list[dict[str, str]]:
    return sim.records(table)


# ---------------------------------------------------------------------------------------------------------------
# Seeded data


def test_same_seed_gives_the_same_data_and_another_seed_does_not() -> None:
    a = ServiceNowSim(seed=7, counts={"incident": 50})
    b = ServiceNowSim(seed=7, counts={"incident": 50})
    c = ServiceNowSim(seed=8, counts={"incident": 50})
    try:
        assert a.records("incident") == b.records("incident")
        assert a.records("sys_user") == b.records("sys_user")
        assert ids(a.records("incident")) != ids(c.records("incident"))
    finally:
        for s in (a, b, c):
            s.stop()


def test_records_have_servicenow_shapes(sim: ServiceNowSim) -> None:
    incidents = truth(sim)
    assert len(incidents) == 300
    assert sorted(r["number"] for r in incidents) == [f"INC{10001 + i:07d}" for i in range(300)]
    users = {u["sys_id"] for u in truth(sim, "sys_user")}
    cis = {c["sys_id"] for c in truth(sim, "cmdb_ci")}
    for r in incidents:
        assert re.fullmatch(r"[0-9a-f]{32}", r["sys_id"])
        assert SN_DATE.match(r["sys_created_on"]) and SN_DATE.match(r["sys_updated_on"])
        assert START <= datetime.fromisoformat(r["sys_created_on"]).replace(tzinfo=UTC) <= START + timedelta(180)
        assert r["sys_created_on"] <= r["sys_updated_on"]
        assert r["caller_id"] in users and r["opened_by"] in users
        assert r["assigned_to"] == "" or r["assigned_to"] in users
        assert r["cmdb_ci"] == "" or r["cmdb_ci"] in cis
        assert r["sys_class_name"] == "incident"
    assert {r["sys_class_name"] for r in truth(sim, "cmdb_ci")} == {"cmdb_ci", "cmdb_ci_server",
                                                                     "cmdb_ci_linux_server"}
    for table in ("change_request", "problem", "kb_knowledge", "u_vendor_ticket", "sys_user_group"):
        assert truth(sim, table), table


def test_free_text_reads_like_it_operations(sim: ServiceNowSim) -> None:
    text = "\n".join(r["short_description"] + r["description"] + r["work_notes"] + r["close_notes"]
                     for r in truth(sim))
    assert re.search(r"\b(lnx|srv)-[a-z0-9-]+-\d{3}\b", text)  # host names
    assert re.search(r"INC00\d{5}", text)  # incident numbers
    assert "Exception" in text or "Traceback" in text  # stack traces
    assert re.search(r"ORA-\d{5}|OutOfMemoryError|HTTP 503", text)  # error messages
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - .+ \(Work notes\)", text)  # journal entries


def test_many_records_share_their_sys_updated_on_second(sim: ServiceNowSim) -> None:
    counts = Counter(r["sys_updated_on"] for r in truth(sim))
    tied = sum(n for n in counts.values() if n > 1)
    assert 0.2 <= tied / 300 <= 0.5
    assert any(2 <= n <= 10 for n in counts.values())
    assert max(counts.values()) > 10  # one mass update: a tie larger than a small page


def test_incidents_average_about_1_4_kb(make_sim: MakeSim) -> None:
    sim = make_sim(counts={"incident": 2000})
    sizes = [len(orjson.dumps(r)) for r in truth(sim)]
    assert 1200 <= sum(sizes) / len(sizes) <= 1700
    assert len(sim.records("incident")[0]) >= 45  # all fields, task's and incident's


# ---------------------------------------------------------------------------------------------------------------
# Table hierarchy


def test_sys_db_object_chains_children_to_their_parents(client: httpx.Client) -> None:
    tables = {r["name"]: r for r in rows(client, "sys_db_object", sysparm_exclude_reference_link="true")}
    by_id = {r["sys_id"]: r["name"] for r in tables.values()}
    for child, parent in (("incident", "task"), ("change_request", "task"), ("problem", "task"),
                          ("cmdb_ci_server", "cmdb_ci"), ("cmdb_ci_linux_server", "cmdb_ci_server")):
        assert by_id[tables[child]["super_class"]] == parent
    assert tables["task"]["super_class"] == "" and tables["u_vendor_ticket"]["super_class"] == ""
    walked = rows(client, "sys_db_object", sysparm_query="name=cmdb_ci_linux_server",
                  sysparm_fields="name,super_class.name,super_class.super_class.name")
    assert walked == [{"name": "cmdb_ci_linux_server", "super_class.name": "cmdb_ci_server",
                       "super_class.super_class.name": "cmdb_ci"}]


def test_sys_dictionary_puts_inherited_fields_on_the_parent(client: httpx.Client) -> None:
    def elements(table: str) -> set[str]:
        entries = rows(client, "sys_dictionary", sysparm_query=f"name={table}^elementISNOTEMPTY",
                       sysparm_fields="element,internal_type")
        return {e["element"] for e in entries}

    assert "short_description" in elements("task") and "short_description" not in elements("incident")
    assert "caller_id" in elements("incident") and "caller_id" not in elements("task")
    assert "sys_updated_on" in elements("task") and "sys_updated_on" not in elements("incident")
    # The full field list of a table is its own plus its ancestors': exactly what the API returns.
    returned = set(rows(client, "incident", sysparm_limit=1)[0])
    assert returned == elements("incident") | elements("task")
    assert set(rows(client, "cmdb_ci_linux_server", sysparm_limit=1)[0]) == (
        elements("cmdb_ci_linux_server") | elements("cmdb_ci_server") | elements("cmdb_ci"))
    types = {e["element"]: e["internal_type"] for e in rows(
        client, "sys_dictionary", sysparm_query="name=task", sysparm_fields="element,internal_type")}
    assert types["assigned_to"] == "reference" and types["opened_at"] == "glide_date_time"


def test_parent_table_returns_children_with_parent_fields(sim: ServiceNowSim, client: httpx.Client) -> None:
    tasks = rows(client, "task", sysparm_exclude_reference_link="true")
    classes = Counter(t["sys_class_name"] for t in tasks)
    assert classes == {"incident": 300, "change_request": 100, "problem": 50}
    assert "caller_id" not in tasks[0] and "short_description" in tasks[0]
    servers = rows(client, "cmdb_ci_server", sysparm_fields="sys_class_name")
    assert {s["sys_class_name"] for s in servers} == {"cmdb_ci_server", "cmdb_ci_linux_server"}


# ---------------------------------------------------------------------------------------------------------------
# Encoded queries


def expect(sim: ServiceNowSim, keep: Callable[[dict[str, str]], bool]) -> set[str]:
    return {r["sys_id"] for r in truth(sim) if keep(r)}


QUERIES: list[tuple[str, Callable[[dict[str, str]], bool]]] = [
    ("priority=1", lambda r: r["priority"] == "1"),
    ("priority!=1", lambda r: r["priority"] != "1"),
    ("priority>3", lambda r: int(r["priority"]) > 3),
    ("priority>=3", lambda r: int(r["priority"]) >= 3),
    ("priority<2", lambda r: int(r["priority"]) < 2),
    ("priority<=2", lambda r: int(r["priority"]) <= 2),
    ("priorityIN1,2", lambda r: r["priority"] in ("1", "2")),
    ("priorityNOTIN1,2", lambda r: r["priority"] not in ("1", "2")),
    ("short_descriptionLIKEcpu", lambda r: "cpu" in r["short_description"].lower()),
    ("short_descriptionSTARTSWITHVPN", lambda r: r["short_description"].startswith("VPN")),
    ("assigned_toISEMPTY", lambda r: r["assigned_to"] == ""),
    ("assigned_toISNOTEMPTY", lambda r: r["assigned_to"] != ""),
    ("sys_created_onBETWEEN2025-02-01 00:00:00@2025-03-01 00:00:00",
     lambda r: "2025-02-01 00:00:00" <= r["sys_created_on"] <= "2025-03-01 00:00:00"),
    ("sys_updated_on>2025-04-01", lambda r: r["sys_updated_on"] > "2025-04-01 00:00:00"),
    ("active=true^priority=1", lambda r: r["active"] == "true" and r["priority"] == "1"),
    ("priority=1^ORpriority=5", lambda r: r["priority"] in ("1", "5")),
    ("priority=1^ORpriority=5^active=true", lambda r: r["priority"] in ("1", "5") and r["active"] == "true"),
    ("priority=1^active=false^NQpriority=5^active=true",
     lambda r: (r["priority"] == "1" and r["active"] == "false") or (r["priority"] == "5" and r["active"] == "true")),
    ("categoryLIKEsoft^short_descriptionLIKEslow^ORshort_descriptionLIKEerrors",
     lambda r: "soft" in r["category"] and ("slow" in r["short_description"] or "errors" in r["short_description"])),
]


@pytest.mark.parametrize(("query", "keep"), QUERIES, ids=[q for q, _ in QUERIES])
def test_encoded_query_operators(sim: ServiceNowSim, client: httpx.Client, query: str,
                                 keep: Callable[[dict[str, str]], bool]) -> None:
    got = rows(client, sysparm_query=query, sysparm_fields="sys_id")
    assert set(ids(got)) == expect(sim, keep)
    assert len(got) == len(set(ids(got)))


def test_query_can_dot_walk_references(sim: ServiceNowSim, client: httpx.Client) -> None:
    user = next(u for u in truth(sim, "sys_user") if u["user_name"] != "admin")
    got = rows(client, sysparm_query=f"caller_id.email={user['email']}", sysparm_fields="sys_id")
    assert set(ids(got)) == expect(sim, lambda r: r["caller_id"] == user["sys_id"])


def test_unknown_field_in_a_query_term_is_silently_dropped(sim: ServiceNowSim, client: httpx.Client) -> None:
    everything = rows(client, sysparm_query="prority=1", sysparm_fields="sys_id")  # typo: the whole table
    assert len(everything) == 300
    partial = rows(client, sysparm_query="active=true^no_such_field=x", sysparm_fields="sys_id")
    assert set(ids(partial)) == expect(sim, lambda r: r["active"] == "true")
    response = client.get("/api/now/table/incident", params={"sysparm_query": "ORDERBYbogus^priority=2"})
    assert response.status_code == 200 and response.headers["x-total-count"] == str(
        len(expect(sim, lambda r: r["priority"] == "2")))


def test_escaped_caret_in_a_value(sim: ServiceNowSim, client: httpx.Client) -> None:
    new = sim.insert("incident", {"short_description": "disk ^ cpu"})
    assert ids(rows(client, sysparm_query="short_description=disk ^^ cpu")) == [new]


def test_orderby_and_orderbydesc_with_several_keys(sim: ServiceNowSim, client: httpx.Client) -> None:
    got = rows(client, sysparm_query="ORDERBYpriority^ORDERBYDESCsys_created_on",
               sysparm_fields="sys_id,priority,sys_created_on")
    expected = sorted(truth(sim), key=lambda r: r["sys_created_on"], reverse=True)
    expected.sort(key=lambda r: int(r["priority"]))
    assert [(r["priority"], r["sys_created_on"]) for r in got] == [
        (r["priority"], r["sys_created_on"]) for r in expected]
    desc = rows(client, sysparm_query="ORDERBYDESCsys_updated_on^ORDERBYDESCsys_id", sysparm_fields="sys_id")
    assert ids(desc) == [r["sys_id"] for r in reversed(truth(sim))]


def test_date_generate_is_read_in_the_users_time_zone(sim: ServiceNowSim, client: httpx.Client) -> None:
    # The default account zone is America/Los_Angeles; plain date literals are UTC.
    record = truth(sim)[100]
    utc = datetime.fromisoformat(record["sys_created_on"]).replace(tzinfo=UTC)
    local = utc.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%Y-%m-%d %H:%M:%S")
    day, clock = local.split(" ")
    generated = rows(client, sysparm_fields="sys_id",
                     sysparm_query=f"sys_created_on=javascript:gs.dateGenerate('{day}','{clock}')")
    assert record["sys_id"] in ids(generated)
    assert record["sys_id"] not in ids(rows(client, sysparm_query=f"sys_created_on={local}", sysparm_fields="sys_id"))
    since = rows(client, sysparm_fields="sys_id",
                 sysparm_query="sys_created_on>=javascript:gs.dateGenerate('2025-03-01','start')")
    assert set(ids(since)) == expect(sim, lambda r: r["sys_created_on"] >= "2025-03-01 08:00:00")


def test_default_query_order_is_stable_and_paging_by_offset_covers_the_table(client: httpx.Client) -> None:
    seen: list[str] = []
    for offset in range(0, 300, 70):
        seen += ids(rows(client, sysparm_limit=70, sysparm_offset=offset, sysparm_fields="sys_id"))
    assert len(seen) == len(set(seen)) == 300


# ---------------------------------------------------------------------------------------------------------------
# Fields and values


def test_reference_fields_are_link_objects_unless_excluded(sim: ServiceNowSim, client: httpx.Client) -> None:
    record = next(r for r in rows(client) if r["assigned_to"])
    ref = record["assigned_to"]
    assert set(ref) == {"link", "value"}
    assert ref["link"] == f"{sim.url}/api/now/table/sys_user/{ref['value']}"
    assert record["closed_at"] == "" or SN_DATE.match(record["closed_at"])
    plain = rows(client, sysparm_query=f"sys_id={record['sys_id']}", sysparm_exclude_reference_link="true")[0]
    assert plain["assigned_to"] == ref["value"]
    assert plain == sim.get("incident", record["sys_id"])


def test_dot_walked_fields_come_back_as_flat_keys(sim: ServiceNowSim, client: httpx.Client) -> None:
    users = {u["sys_id"]: u for u in truth(sim, "sys_user")}
    got = rows(client, sysparm_fields="number,assigned_to,assigned_to.email,caller_id.manager.name",
               sysparm_exclude_reference_link="true")
    for r in got:
        assert set(r) == {"number", "assigned_to", "assigned_to.email", "caller_id.manager.name"}
        assigned = users.get(r["assigned_to"])
        assert r["assigned_to.email"] == (assigned["email"] if assigned else "")
    unknown = rows(client, sysparm_fields="number,no_such_field,assigned_to.nope", sysparm_limit=1)
    assert list(unknown[0]) == ["number"]


def test_display_values_true_and_all(sim: ServiceNowSim, client: httpx.Client) -> None:
    raw = next(r for r in truth(sim) if r["assigned_to"] and r["state"] == "7")
    user = sim.get("sys_user", raw["assigned_to"])
    assert user is not None
    query = {"sysparm_query": f"sys_id={raw['sys_id']}", "sysparm_fields": "state,assigned_to,opened_at,priority"}
    shown = rows(client, sysparm_display_value="true", **query)[0]
    local = datetime.fromisoformat(raw["opened_at"]).replace(tzinfo=UTC).astimezone(ZoneInfo("America/Los_Angeles"))
    assert shown["state"] == "Closed"
    assert shown["opened_at"] == local.strftime("%Y-%m-%d %H:%M:%S")  # user's zone: never a cursor
    assert shown["assigned_to"] == {"display_value": user["name"],
                                    "link": f"{sim.url}/api/now/table/sys_user/{user['sys_id']}"}
    both = rows(client, sysparm_display_value="all", sysparm_exclude_reference_link="true", **query)[0]
    assert both["assigned_to"] == {"display_value": user["name"], "value": user["sys_id"]}
    assert both["priority"]["value"] == raw["priority"] and both["priority"]["display_value"].startswith(
        raw["priority"] + " - ")
    assert rows(client, sysparm_display_value="true", sysparm_exclude_reference_link="true",
                **query)[0]["assigned_to"] == user["name"]


def test_single_record_endpoint(sim: ServiceNowSim, client: httpx.Client) -> None:
    record = truth(sim)[5]
    response = client.get(f"/api/now/table/incident/{record['sys_id']}",
                          params={"sysparm_exclude_reference_link": "true"})
    assert response.status_code == 200 and response.json()["result"] == record
    missing = client.get(f"/api/now/table/incident/{'0' * 32}")
    assert missing.status_code == 404 and missing.json()["status"] == "failure"


def test_unknown_table_is_a_400_envelope(client: httpx.Client) -> None:
    response = client.get("/api/now/table/incidnet")
    assert response.status_code == 400
    assert response.json() == {"error": {"message": "Invalid table incidnet", "detail": None}, "status": "failure"}


# ---------------------------------------------------------------------------------------------------------------
# Paging


def test_paging_headers_link_and_total_count(sim: ServiceNowSim, client: httpx.Client) -> None:
    params = {"sysparm_query": "active=true^ORDERBYnumber", "sysparm_limit": 25}
    total = len(expect(sim, lambda r: r["active"] == "true"))
    first = client.get("/api/now/table/incident", params=params)
    assert first.headers["x-total-count"] == str(total)
    rel = links(first)
    assert set(rel) == {"first", "next", "last"}
    assert rel["next"].startswith(f"{sim.url}/api/now/table/incident?") and "sysparm_offset=25" in rel["next"]
    assert f"sysparm_offset={(total - 1) // 25 * 25}" in rel["last"]
    seen: list[str] = ids(first.json()["result"])
    url = rel["next"]
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += ids(page.json()["result"])
        rel = links(page)
        assert "prev" in rel and "first" in rel
        url = rel.get("next", "")
    assert len(seen) == len(set(seen)) == total
    assert set(seen) == expect(sim, lambda r: r["active"] == "true")


def test_default_limit_and_no_count(client: httpx.Client, make_sim: MakeSim) -> None:
    big = make_sim(counts={"incident": 10050})
    with httpx.Client(base_url=big.url, auth=("admin", "admin"), timeout=60) as c:
        response = c.get("/api/now/table/incident", params={"sysparm_fields": "sys_id"})
        assert len(response.json()["result"]) == 10000 and "next" in links(response)
    response = client.get("/api/now/table/incident", params={"sysparm_no_count": "true", "sysparm_limit": 10})
    assert "x-total-count" not in response.headers
    assert set(links(response)) == {"first", "next"}
    last = client.get("/api/now/table/incident", params={"sysparm_no_count": "true", "sysparm_limit": 10,
                                                          "sysparm_offset": 290})
    assert len(last.json()["result"]) == 10 and "next" not in links(last)


def test_keyset_paging_over_ties_returns_every_record_once_in_order(sim: ServiceNowSim,
                                                                     client: httpx.Client) -> None:
    for limit in (1, 7, 10, 64):
        got, _ = keyset_read(client, "incident", limit)
        assert ids(got) == ids(truth(sim)), limit  # truth is ordered by (sys_updated_on, sys_id)
    for parent in ("task", "cmdb_ci"):  # parent tables keep their own index over every child class
        got, _ = keyset_read(client, parent, 9)
        assert ids(got) == ids(truth(sim, parent)) and len(got) > 100, parent


def test_keyset_answers_match_a_brute_force_filter(sim: ServiceNowSim, client: httpx.Client) -> None:
    records = truth(sim)
    tied = Counter(r["sys_updated_on"] for r in records).most_common(3)
    for stamp, _ in tied:
        members = [r for r in records if r["sys_updated_on"] == stamp]
        pivot = members[len(members) // 2]["sys_id"]
        for ops in ((">", ">"), (">=", ">="), ("<", "<"), ("<=", "<=")):
            query = (f"sys_updated_on{ops[0]}{stamp}^NQsys_updated_on={stamp}^sys_id{ops[1]}{pivot}"
                     f"^{KEYSET_ORDER}")
            got = ids(rows(client, sysparm_query=query, sysparm_fields="sys_id"))
            op = ops[0]
            assert got == [r["sys_id"] for r in records if COMPARE[op](r["sys_updated_on"], stamp) or (
                r["sys_updated_on"] == stamp and COMPARE[op](r["sys_id"], pivot))], query
    # a residual filter next to the keyset bounds is applied too, and counted
    response = client.get("/api/now/table/incident", params={
        "sysparm_query": f"sys_updated_on>=2025-03-01 00:00:00^active=true^{KEYSET_ORDER}", "sysparm_limit": 5})
    expected = [r["sys_id"] for r in records if r["sys_updated_on"] >= "2025-03-01 00:00:00" and r["active"] == "true"]
    assert ids(response.json()["result"]) == expected[:5]
    assert response.headers["x-total-count"] == str(len(expected))


# ---------------------------------------------------------------------------------------------------------------
# ACLs


def test_table_without_read_acl_returns_200_and_no_rows(make_sim: MakeSim) -> None:
    sim = make_sim(users={"svc": "pw"}, access={"svc": Access(unreadable_tables={"incident", "sys_audit"})})
    with httpx.Client(base_url=sim.url, auth=("svc", "pw")) as c:
        response = c.get("/api/now/table/incident", params={"sysparm_limit": 10})
        assert response.status_code == 200 and response.json() == {"result": []}
        assert response.headers["x-total-count"] == "300"
        assert rows(c, "problem", sysparm_limit=1)
        sim.delete("incident", truth(sim)[0]["sys_id"])
        assert rows(c, "sys_audit") == []
        assert len(rows(c, "sys_audit_delete")) == 1


def test_row_acl_runs_after_the_limit_so_pages_come_back_short_or_empty(make_sim: MakeSim) -> None:
    sim = make_sim(users={"svc": "pw"}, access={"svc": Access(row_visible=hide_sys_id_mod(3, tables={"incident"}))})
    visible = [r["sys_id"] for r in truth(sim) if int(r["sys_id"], 16) % 3 != 0]
    with httpx.Client(base_url=sim.url, auth=("svc", "pw")) as c:
        sizes, seen, url = [], [], "/api/now/table/incident"
        params: dict[str, Any] | None = {"sysparm_query": KEYSET_ORDER, "sysparm_limit": 4}
        while url:
            page = c.get(url, params=params)
            params = None
            assert page.headers["x-total-count"] == "300"  # counted before the ACL
            sizes.append(len(page.json()["result"]))
            seen += ids(page.json()["result"])
            url = links(page).get("next", "")
    assert seen == visible
    assert 0 in sizes[:-1] and any(0 < s < 4 for s in sizes[:-1])  # empty and short pages mid-stream
    assert len(sizes) == 75


def test_querying_an_unreadable_field_is_403(make_sim: MakeSim) -> None:
    sim = make_sim(users={"svc": "pw"}, access={"svc": Access(unreadable_fields={"task": {"work_notes"},
                                                                                  "sys_user": {"email"}})})
    with httpx.Client(base_url=sim.url, auth=("svc", "pw")) as c:
        for query in ("work_notesLIKEdisk", "active=true^ORwork_notesISEMPTY", "caller_id.email=x@example.com"):
            response = c.get("/api/now/table/incident", params={"sysparm_query": query})
            assert response.status_code == 403, query
            assert response.json() == QUERY_FORBIDDEN
        assert "work_notes" not in rows(c, sysparm_limit=1)[0]  # and never returned
        assert "email" not in rows(c, "sys_user", sysparm_limit=1)[0]
        assert rows(c, sysparm_query="no_such_field=1", sysparm_limit=1)  # unknown, not unreadable


# ---------------------------------------------------------------------------------------------------------------
# Authentication


def test_basic_auth_failures_are_401_with_the_envelope(sim: ServiceNowSim) -> None:
    for auth in (None, ("admin", "wrong"), ("nobody", "admin")):
        response = httpx.get(f"{sim.url}/api/now/table/incident", auth=auth)
        assert response.status_code == 401
        assert response.json() == AUTH_REQUIRED


def test_oauth_password_and_refresh_grants(make_sim: MakeSim) -> None:
    sim = make_sim(users={"svc": "p&ss"}, oauth_clients={"cid": "sec"}, token_ttl=600)
    token_url = f"{sim.url}/oauth_token.do"
    grant = httpx.post(token_url, data={"grant_type": "password", "client_id": "cid", "client_secret": "sec",
                                        "username": "svc", "password": "p&ss"})
    assert grant.status_code == 200
    body = grant.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600 and body["scope"] == "useraccount"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    ok = httpx.get(f"{sim.url}/api/now/table/incident", params={"sysparm_limit": 1}, headers=bearer)
    assert ok.status_code == 200
    sim.expire_tokens()
    expired = httpx.get(f"{sim.url}/api/now/table/incident", headers=bearer)
    assert expired.status_code == 401 and expired.json() == AUTH_REQUIRED
    refreshed = httpx.post(token_url, data={"grant_type": "refresh_token", "client_id": "cid", "client_secret": "sec",
                                            "refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200
    assert httpx.get(f"{sim.url}/api/now/table/incident", params={"sysparm_limit": 1}, headers={
        "Authorization": f"Bearer {refreshed.json()['access_token']}"}).status_code == 200
    for bad in ({"grant_type": "password", "client_id": "cid", "client_secret": "nope", "username": "svc",
                 "password": "p&ss"},
                {"grant_type": "password", "client_id": "cid", "client_secret": "sec", "username": "svc",
                 "password": "nope"},
                {"grant_type": "refresh_token", "client_id": "cid", "client_secret": "sec", "refresh_token": "x"}):
        assert httpx.post(token_url, data=bad).status_code == 401
    assert httpx.post(token_url, data={"grant_type": "client_credentials", "client_id": "cid",
                                       "client_secret": "sec"}).status_code == 400


def test_token_expiry_follows_the_wall_clock(make_sim: MakeSim) -> None:
    sim = make_sim(client_credentials_user="admin", token_ttl=30)
    now = [1000.0]
    sim.wall_clock = lambda: now[0]
    token = httpx.post(f"{sim.url}/oauth_token.do", data={"grant_type": "client_credentials",
                                                          "client_id": "udc-client",
                                                          "client_secret": "udc-secret"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{sim.url}/api/now/table/sys_user", params={"sysparm_limit": 1}, headers=headers).is_success
    now[0] += 31
    assert httpx.get(f"{sim.url}/api/now/table/sys_user", headers=headers).status_code == 401


# ---------------------------------------------------------------------------------------------------------------
# Deletes and audit


def test_delete_writes_sys_audit_and_sys_audit_delete(sim: ServiceNowSim, client: httpx.Client) -> None:
    victim = truth(sim)[10]
    sim.delete("incident", victim["sys_id"], at="2025-08-01 12:00:00")
    assert rows(client, sysparm_query=f"sys_id={victim['sys_id']}") == []
    audit = rows(client, "sys_audit", sysparm_query="tablename=incident^fieldname=DELETED")
    assert [(a["documentkey"], a["sys_created_on"]) for a in audit] == [(victim["sys_id"], "2025-08-01 12:00:00")]
    deleted = rows(client, "sys_audit_delete", sysparm_query=f"documentkey={victim['sys_id']}")
    assert len(deleted) == 1 and deleted[0]["tablename"] == "incident"
    assert deleted[0]["sys_created_on"] == "2025-08-01 12:00:00" and victim["number"] in deleted[0]["payload"]
    assert deleted[0]["payload"].startswith("<?xml") and deleted[0]["display_value"] == victim["number"]
    assert victim["sys_id"] not in ids(truth(sim))
    assert victim["sys_id"] in ids(sim.records("incident", include_deleted=True))
    assert sim.deleted_ids("incident") == sim.deleted_ids("task") == {victim["sys_id"]}
    keyset = rows(client, "sys_audit_delete", sysparm_query="sys_created_on>=2025-08-01 00:00:00^ORDERBYsys_created_on"
                  "^ORDERBYsys_id")
    assert ids(keyset) == ids(deleted)


def test_a_table_can_opt_out_of_sys_audit_delete(make_sim: MakeSim) -> None:
    sim = make_sim(audit_delete_opt_out={"problem"})
    with httpx.Client(base_url=sim.url, auth=("admin", "admin")) as c:
        sim.delete("problem", truth(sim, "problem")[0]["sys_id"])
        assert len(rows(c, "sys_audit", sysparm_query="fieldname=DELETED")) == 1
        assert rows(c, "sys_audit_delete") == []


def test_updates_are_audited_per_field(sim: ServiceNowSim, client: httpx.Client) -> None:
    record = truth(sim)[0]
    sim.update("incident", record["sys_id"], {"priority": "1", "short_description": "changed"})
    audit = rows(client, "sys_audit", sysparm_query=f"documentkey={record['sys_id']}^ORDERBYfieldname")
    assert [(a["fieldname"], a["oldvalue"], a["newvalue"]) for a in audit] == [
        ("priority", record["priority"], "1"), ("short_description", record["short_description"], "changed")]


# ---------------------------------------------------------------------------------------------------------------
# Mutation API


def test_insert_update_and_the_clock(sim: ServiceNowSim, client: httpx.Client) -> None:
    assert sim.clock == START + timedelta(days=180)
    new = sim.insert("incident", {"short_description": "fresh", "priority": 2})
    fresh = sim.get("incident", new)
    assert fresh is not None and fresh["number"] == "INC0010301" and fresh["sys_created_on"] == "2025-06-30 00:00:00"
    sim.clock = datetime(2025, 7, 4, 10, 0, 0, tzinfo=UTC)
    old = truth(sim)[0]
    sim.update("incident", old["sys_id"], {"state": "2"})
    assert rows(client, sysparm_query=f"sys_id={old['sys_id']}", sysparm_fields="sys_updated_on,state,sys_mod_count"
                ) == [{"sys_updated_on": "2025-07-04 10:00:00", "state": "2",
                       "sys_mod_count": str(int(old["sys_mod_count"]) + 1)}]
    sim.update("incident", old["sys_id"], {"state": "3"}, at=datetime(2025, 7, 5, tzinfo=UTC))
    assert truth(sim)[-1]["sys_id"] == old["sys_id"] and truth(sim)[-1]["sys_updated_on"] == "2025-07-05 00:00:00"
    with pytest.raises(KeyError):
        sim.insert("incident", {"no_such_field": "x"})
    with pytest.raises(KeyError):
        sim.update("problem", old["sys_id"], {"state": "1"})  # an incident is not a problem


def test_hooks_run_exactly_before_the_nth_request(sim: ServiceNowSim, client: httpx.Client) -> None:
    target = truth(sim)[0]["sys_id"]
    seen_by_hook: list[Request] = []

    def mutate(request: Request) -> None:
        seen_by_hook.append(request)
        sim.update("incident", target, {"short_description": "changed between pages"})

    sim.on_request(sim.table_request_count + 2, mutate)
    query = {"sysparm_query": f"sys_id={target}", "sysparm_fields": "short_description"}
    assert rows(client, **query)[0]["short_description"] != "changed between pages"  # page 1 (cached)
    assert rows(client, **query)[0]["short_description"] == "changed between pages"  # page 2 sees it
    assert len(seen_by_hook) == 1 and seen_by_hook[0].arg("sysparm_query") == f"sys_id={target}"


def test_mutations_while_paging_from_another_thread(make_sim: MakeSim) -> None:
    sim = make_sim(counts={"incident": 2000})
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for n, record in enumerate(sim.records("incident")[:400]):
                if stop.is_set():
                    return
                if n % 3 == 0:
                    sim.delete("incident", record["sys_id"])
                else:
                    sim.update("incident", record["sys_id"], {"state": "2"}, at="2025-12-01 00:00:00")
                sim.insert("incident", {"short_description": f"new {n}"}, at="2025-12-01 00:00:00")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with httpx.Client(base_url=sim.url, auth=("admin", "admin"), timeout=30) as c:
            got, _ = keyset_read(c, "incident", 50)
    finally:
        stop.set()
        thread.join()
    assert not errors
    # a record updated after it was read is read again at its new timestamp, as on a real instance; no version of a
    # record is served twice, and the keyset order holds
    versions = [(r["sys_updated_on"], r["sys_id"]) for r in got]
    assert len(versions) == len(set(versions))
    assert versions == sorted(versions)


def test_page_cache_never_serves_stale_pages(sim: ServiceNowSim, client: httpx.Client) -> None:
    query = {"sysparm_query": "priority=1", "sysparm_fields": "sys_id"}
    before = ids(rows(client, **query))
    assert ids(rows(client, **query)) == before
    new = sim.insert("incident", {"priority": "1"})
    assert new in ids(rows(client, **query))


# ---------------------------------------------------------------------------------------------------------------
# Faults


def test_oversized_record_fails_its_page_unless_work_notes_are_left_out(make_sim: MakeSim) -> None:
    sim = make_sim(users={"admin": "admin", "svc": "pw"},
                   access={"svc": Access(unreadable_fields={"incident": {"work_notes"}})})
    giant = truth(sim)[40]["sys_id"]
    sim.mark_oversized("incident", giant)
    with httpx.Client(base_url=sim.url, auth=("admin", "admin")) as c:
        page = {"sysparm_query": KEYSET_ORDER, "sysparm_limit": 20}
        assert c.get("/api/now/table/incident", params={**page, "sysparm_offset": 0}).status_code == 200
        failed = c.get("/api/now/table/incident", params={**page, "sysparm_offset": 40})
        assert failed.status_code == 502 and failed.headers["content-type"].startswith("text/html")
        assert c.get("/api/now/table/incident", params={**page, "sysparm_offset": 40, "sysparm_limit": 1}
                     ).status_code == 502  # even alone
        assert c.get(f"/api/now/table/incident/{giant}").status_code == 502
        slim = c.get("/api/now/table/incident", params={**page, "sysparm_offset": 40,
                                                         "sysparm_fields": "sys_id,number,sys_updated_on"})
        assert slim.status_code == 200 and giant in ids(slim.json()["result"])
    with httpx.Client(base_url=sim.url, auth=("svc", "pw")) as c:
        assert c.get("/api/now/table/incident", params={**page, "sysparm_offset": 40}).status_code == 200


def test_response_size_cap(make_sim: MakeSim) -> None:
    sim = make_sim(max_response_bytes=20_000)
    with httpx.Client(base_url=sim.url, auth=("admin", "admin")) as c:
        assert c.get("/api/now/table/incident", params={"sysparm_limit": 5}).status_code == 200
        assert c.get("/api/now/table/incident", params={"sysparm_limit": 50}).status_code == 502
        sim.oversize_error = "transaction_cancelled"
        cancelled = c.get("/api/now/table/incident", params={"sysparm_limit": 50})
        assert cancelled.status_code == 500 and cancelled.json() == TRANSACTION_CANCELLED


def test_hibernating_instance_answers_html_200(sim: ServiceNowSim, client: httpx.Client) -> None:
    sim.hibernating = True
    response = client.get("/api/now/table/incident")
    assert response.status_code == 200 and "hibernating" in response.text.lower()
    sim.hibernating = False
    assert rows(client, sysparm_limit=1)


def test_scripted_faults_from_the_base(sim: ServiceNowSim, client: httpx.Client) -> None:
    sim.faults.script(["429", "502", "transaction_cancelled", "html200"])
    first = client.get("/api/now/table/incident")
    assert first.status_code == 429 and first.headers["retry-after"] == "1"
    assert client.get("/api/now/table/incident").status_code == 502
    assert client.get("/api/now/table/incident").json() == TRANSACTION_CANCELLED
    assert client.get("/api/now/table/incident").headers["content-type"].startswith("text/html")
    assert rows(client, sysparm_limit=1)


def test_rate_limit_headers_and_429(make_sim: MakeSim) -> None:
    sim = make_sim(rate_limit_per_hour=3)
    now = [7200.0 + 100]
    sim.wall_clock = lambda: now[0]
    with httpx.Client(base_url=sim.url, auth=("admin", "admin")) as c:
        for _ in range(3):
            ok = c.get("/api/now/table/sys_user", params={"sysparm_limit": 1})
            assert ok.status_code == 200
            assert ok.headers["x-ratelimit-limit"] == "3" and ok.headers["x-ratelimit-reset"] == "10800"
            assert "x-ratelimit-rule" in ok.headers
        limited = c.get("/api/now/table/sys_user")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "3500"
        assert limited.json()["status"] == "failure"
        now[0] = 10800.0  # the next hour
        assert c.get("/api/now/table/sys_user", params={"sysparm_limit": 1}).status_code == 200


# ---------------------------------------------------------------------------------------------------------------
# Request log, read-only surface, CLI, speed


def test_every_request_is_logged_and_writes_are_refused(sim: ServiceNowSim, client: httpx.Client) -> None:
    client.get("/api/now/table/incident", params={"sysparm_limit": 2, "sysparm_query": "active=true"})
    response = client.post("/api/now/table/incident", json={"short_description": "x"})
    assert response.status_code == 405
    logged = sim.table_requests
    assert [(r.method, r.path) for r in logged] == [("GET", "/api/now/table/incident"),
                                                    ("POST", "/api/now/table/incident")]
    assert logged[0].arg("sysparm_query") == "active=true" and logged[0].headers["authorization"].startswith("Basic")
    assert len(truth(sim)) == 300


def test_cli_serves_in_the_foreground() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "udc.simulators", "servicenow", "--port", "0", "--incidents",
                             "1500", "--seed", "4"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
        assert match, banner
        response = httpx.get(f"http://127.0.0.1:{match.group(1)}/api/now/table/incident",
                             params={"sysparm_limit": 1}, auth=("admin", "admin"))
        assert response.headers["x-total-count"] == "1500"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    usage = subprocess.run([sys.executable, "-m", "udc.simulators", "nope"], capture_output=True, text=True)
    assert usage.returncode == 2 and "servicenow" in usage.stderr


def test_keyset_paging_speed_sanity(make_sim: MakeSim) -> None:
    # CPU seconds of this process (the simulator's threads and the client's): waits for a busy core do not count
    started = time.process_time()
    sim = make_sim(counts={"incident": 20000})
    assert time.process_time() - started < 15  # ~0.6 s on a laptop
    with httpx.Client(base_url=sim.url, auth=("admin", "admin"), timeout=60) as c:
        started = time.process_time()
        got, requests = keyset_read(c, "incident", 1000)
        elapsed = time.process_time() - started
    assert len(got) == 20000 and requests == 21
    assert 20000 / max(elapsed, 1e-3) > 2000  # generous: the benchmark sees ~50,000 records/s


@pytest.mark.slow
def test_performance_mode_builds_100k_incidents_quickly() -> None:
    started = time.process_time()  # CPU seconds: waits for a busy core do not count
    sim = ServiceNowSim(counts={"incident": 100_000})
    try:
        assert time.process_time() - started < 30  # ~3 s on a laptop
        assert len(sim.store.index["incident"]["sys_updated_on"]) == 100_000
    finally:
        sim.stop()
