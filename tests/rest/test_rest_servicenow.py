"""A declarative config syncs the ServiceNow simulator's Table API exactly: the compound keyset written into the
encoded query in YAML (`sys_updated_on>{after}^…^NQsys_updated_on={after}^sys_id>{after_key}^…`, the built-in
connector's own query), the Link header followed,
ties at one second across pages (the simulator's mass update), a historical pass then incremental cycles with
records updated at the cycle boundary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from udc.config import load_config
from udc.simulators.servicenow import ServiceNowSim
from udc.store import SqliteStore
from udc.sync.engine import Engine

START = datetime(2025, 1, 1, tzinfo=UTC)
CLOCK = START + timedelta(days=200)
SNOW_TIME = "%Y-%m-%d %H:%M:%S"
INCIDENT = {
    "name": "incident", "path": "/api/now/table/incident",
    "params": {"sysparm_query": "sys_updated_on>{after}^sys_updated_on<{end}^NQsys_updated_on={after}"
                                "^sys_id>{after_key}^sys_updated_on<{end}^ORDERBYsys_updated_on^ORDERBYsys_id",
               "sysparm_exclude_reference_link": "true"},
    "records": "result", "primary_key": "sys_id", "cursor": {"field": "sys_updated_on", "format": SNOW_TIME},
    "order": "cursor", "window": {"format": SNOW_TIME},
    "paginator": {"type": "link_header", "limit_param": "sysparm_limit"},
    "links": [{"field": "assignment_group", "to": "sys_user_group"}]}


def test_a_declarative_config_syncs_the_servicenow_table_api_exactly(snow_sims: Callable[..., ServiceNowSim],
                                                                     tmp_path: Path) -> None:
    sim = snow_sims("pw-r3st", 7, {"incident": 700}, START, timedelta(days=180), CLOCK)
    (tmp_path / "pw").write_text("pw-r3st")
    base = {"connector": "snow", "batch_size": 50, "tables": [INCIDENT]}
    config = {"store": f"sqlite:///{tmp_path / 'udc.db'}",
              "connectors": {"snow": {"type": "rest", "base_url": sim.url,
                                      "auth": {"type": "basic", "username": "svc_udc",
                                               "password": f"file:{tmp_path / 'pw'}"}}},
              "pipelines": {"hist": {**base, "mode": "historical"}, "inc": {**base, "mode": "incremental"}}}
    (tmp_path / "udc.yaml").write_text(yaml.safe_dump(config))
    store = SqliteStore(tmp_path / "udc.db")
    try:
        engine = Engine(load_config(tmp_path / "udc.yaml"), store)
        assert engine.sync("hist", now=CLOCK).status == "succeeded"
        truth = {r["sys_id"]: r["sys_updated_on"] for r in sim.records("incident")}
        got = {pk: d["sys_updated_on"] for pk, d, deleted in store.iter_records("snow/incident") if not deleted}
        assert got == truth and len(got) == 700
        queries = [r.arg("sysparm_query") or "" for r in sim.requests if r.path == "/api/now/table/incident"]
        assert sum("^sys_id>" in q and "^sys_id>^" not in q for q in queries) >= 13  # after each of 14 pages
        assert engine.sync("inc", now=CLOCK).status == "succeeded"  # the first cycle starts here
        now = CLOCK
        for step in range(2):
            boundary = now + timedelta(minutes=2) - timedelta(seconds=30)
            sim.clock = boundary - timedelta(seconds=1)
            for record in sim.records("incident")[step * 10:step * 10 + 6]:  # six updated in the same second
                sim.update("incident", record["sys_id"], {"short_description": f"edited {step}"})
            now += timedelta(minutes=2)
            sim.clock = now
            assert engine.sync("inc", now=now).status == "succeeded"
        truth = {r["sys_id"]: r["sys_updated_on"] for r in sim.records("incident")}
        got = {pk: d["sys_updated_on"] for pk, d, deleted in store.iter_records("snow/incident") if not deleted}
        assert got == truth
        assert store.execute("SELECT count(*), count(DISTINCT pk) FROM records WHERE dataset = 'snow/incident'") \
            == [(700, 700)]
        assert {r.method for r in sim.requests} == {"GET"}
    finally:
        store.close()
