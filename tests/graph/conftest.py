"""A ServiceNow instance with a planted outage, synced for real (redaction on) into a store the graph queries ask.

The outage: incident X on CI db01, opened at T. The CMDB: app01 depends on db01, lb01 depends on app01 (two hops),
far01 runs on lb01 (three hops). Changes around T, each with a known place in the answer (see `Planted.changes`);
an older incident D that is the same failure on the same CI, linked to a problem and a knowledge article; X's
description holds an SSN the redactor removes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from stores import KINDS, SERVER, drop_schema, new_schema, unreachable, url_of
from udc.config import load_config
from udc.simulators.servicenow import ServiceNowSim
from udc.store import Store, open_store
from udc.sync.engine import Engine
from udc.timeutil import snow_time

START = datetime(2025, 1, 1, tzinfo=UTC)
AFTER_DATA = START + timedelta(days=200)
T = datetime(2025, 7, 18, 12, 0, tzinfo=UTC)  # incident X opens
SSN = "536-22-8019"
TABLES = ["incident", "change_request", "problem", "kb_knowledge", "cmdb_ci", "cmdb_rel_type", "cmdb_rel_ci",
          "task_ci", "m2m_kb_task"]


@dataclass
class Planted:
    kind: str  # the store's: sqlite or postgresql
    store: Store
    sim: ServiceNowSim
    config: Path
    incident: str = ""  # X's number
    duplicate: str = ""  # D's number
    problem: str = ""
    article: str = ""
    changes: dict[str, str] = field(default_factory=dict)  # role → number


def plant(sim: ServiceNowSim) -> Planted:
    def ci(name: str) -> str:
        return sim.insert("cmdb_ci_server", {"name": name, "host_name": name}, at=T - timedelta(days=90))

    db01, app01, lb01, far01, other01 = (ci(n) for n in ("db01", "app01", "lb01", "far01", "other01"))
    types = {r["name"]: r["sys_id"] for r in sim.records("cmdb_rel_type")}
    for parent, child, kind in ((app01, db01, "Depends on::Used by"), (lb01, app01, "Depends on::Used by"),
                                (far01, lb01, "Runs on::Runs")):
        sim.insert("cmdb_rel_ci", {"parent": parent, "child": child, "type": types[kind]}, at=T - timedelta(days=80))

    def change(ci_id: str, start: timedelta, end: timedelta, text: str) -> str:
        sys_id = sim.insert("change_request", {
            "cmdb_ci": ci_id, "short_description": text, "start_date": snow_time(T + start),
            "end_date": snow_time(T + end), "opened_at": snow_time(T - timedelta(days=3))}, at=T - timedelta(days=3))
        return sys_id

    h = timedelta(hours=1)
    ids = {
        "same_ci": change(db01, -2 * h, -40 * timedelta(minutes=1), "Resize db01 tablespace"),
        "linked": change(other01, -5 * h, -4 * h, "Rotate checkout certificates"),
        "task_ci": change(other01, -6 * h, -5 * h, "Patch storage firmware"),
        "one_hop_running": change(app01, -1 * h, 1 * h, "Deploy app01 release 4.2"),
        "two_hops": change(lb01, -3 * h, -2 * h, "Reload lb01 pool config"),
        "three_hops": change(far01, -1 * h, -h / 2, "Reboot far01"),
        "too_early": change(db01, -20 * h, -19 * h, "Reindex db01"),
        "after": change(db01, 1 * h, 2 * h, "Vacuum db01"),
    }
    numbers = {role: sim.get("change_request", sys_id)["number"] for role, sys_id in ids.items()}
    sim.insert("task_ci", {"task": ids["task_ci"], "ci_item": db01}, at=T - timedelta(days=3))
    problem = sim.insert("problem", {"short_description": "Checkout database runs out of tablespace",
                                     "cmdb_ci": db01}, at=T - timedelta(days=25))
    article = sim.insert("kb_knowledge", {"short_description": "Extend an Oracle tablespace on db01",
                                          "text": "<p>Add a datafile when ORA-01653 appears.</p>"},
                         at=T - timedelta(days=60))
    duplicate = sim.insert("incident", {
        "cmdb_ci": db01, "problem_id": problem, "category": "database",
        "short_description": "Checkout database db01 disk full, orders failing at checkout",
        "description": "ORA-01653 unable to extend table ORDERS on db01; checkout orders failing.",
        "opened_at": snow_time(T - timedelta(days=30))}, at=T - timedelta(days=30))
    sim.insert("m2m_kb_task", {"kb_knowledge": article, "task": duplicate}, at=T - timedelta(days=29))
    incident = sim.insert("incident", {
        "cmdb_ci": db01, "category": "database",
        "short_description": "Checkout database db01 disk full, orders failing",
        "description": f"Orders fail at checkout: ORA-01653 unable to extend table ORDERS on db01. A customer SSN "
                       f"{SSN} was in the error dump.",
        "work_notes": f"Certificates were rotated by {numbers['linked']} this morning.",
        "opened_at": snow_time(T)}, at=T)
    planted = Planted(kind="", store=None, sim=sim, config=Path())  # type: ignore[arg-type]
    planted.incident = sim.get("incident", incident)["number"]
    planted.duplicate = sim.get("incident", duplicate)["number"]
    planted.problem = sim.get("problem", problem)["number"]
    planted.article = sim.get("kb_knowledge", article)["number"]
    planted.changes = numbers
    return planted


@pytest.fixture(scope="package", params=KINDS)
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    """The planted outage synced into each store: every graph question is asked of SQLite and of PostgreSQL."""
    kind = request.param
    if kind == "postgresql" and (why := unreachable()):
        pytest.skip(f"no PostgreSQL server answers at {SERVER} ({why}); start one, or set UDC_TEST_PG")
    schema = new_schema()
    work = tmp_path_factory.mktemp("graph")
    sim = ServiceNowSim(seed=5, counts={"incident": 300, "change_request": 40, "problem": 20, "kb_knowledge": 30,
                                        "cmdb_rel_ci": 60, "m2m_kb_task": 20},
                        start=START, span=timedelta(days=180), users={"svc_udc": "graph-pw"})
    sim.clock = AFTER_DATA
    sim.start()
    try:
        result = plant(sim)
        (work / "snow.pw").write_text("graph-pw")
        config = {
            "store": f"sqlite:///{work / 'udc.db'}" if kind == "sqlite" else url_of(schema),
            "connectors": {"snow": {"type": "servicenow", "instance_url": sim.url,
                                    "auth": {"type": "basic", "username": "svc_udc",
                                             "password": f"file:{work / 'snow.pw'}"}}},
            "pipelines": {"hist": {"connector": "snow", "tables": TABLES,
                                   "redaction": {"enabled": True, "key": "file:" + str(work / "redaction.key")}}},
        }
        (work / "redaction.key").write_text("graph-redaction-key-0123456789")
        result.kind = kind
        result.config = work / "udc.yaml"
        result.config.write_text(yaml.safe_dump(config, sort_keys=False))
        cfg = load_config(result.config)
        result.store = open_store(cfg.store)
        assert Engine(cfg, result.store).sync("hist").status == "succeeded"
        yield result
        result.store.close()
    finally:
        sim.stop()
        if kind == "postgresql":
            drop_schema(schema)
