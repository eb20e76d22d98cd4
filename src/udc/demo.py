"""`udc demo`: the whole job on local simulators, offline, in under a minute.

Starts a simulated ServiceNow instance, writes a config, seeds the store with a historical sync, changes some
records at the source, runs an incremental cycle, and shows what happened and how to query it.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from udc.cli import print_summary
from udc.config import load_config
from udc.progress import RunProgress
from udc.simulators.servicenow import ServiceNowSim
from udc.store import open_store
from udc.sync.engine import Engine
from udc.timeutil import utcnow

DEMO_USER, DEMO_PASSWORD = "svc_udc", "demo-p@ss`word&1"
TABLES = ["incident", "change_request", "problem", "kb_knowledge", "cmdb_ci_server", "sys_user"]


def run_demo(workdir: Path, incidents: int, out: Console) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "udc.db"
    for leftover in workdir.glob("udc.db*"):
        leftover.unlink()
    now = utcnow().replace(microsecond=0)
    counts = {"incident": incidents, "change_request": incidents // 6, "problem": incidents // 20,
              "kb_knowledge": incidents // 15, "cmdb_ci_server": incidents // 10, "sys_user": incidents // 10}
    sim = ServiceNowSim(seed=7, counts=counts, start=now - timedelta(days=180), span=timedelta(days=179),
                        users={DEMO_USER: DEMO_PASSWORD}).start()
    try:
        config_path = _write_config(workdir, sim.url, db)
        config = load_config(config_path)
        store = open_store(config.store)
        out.rule("[bold]udc demo[/]")
        out.print(f"Simulated ServiceNow at {sim.url} · config {config_path} · store {db}\n")

        out.print("[bold]1. Historical sync[/] — seeds the store with every record of the last 180 days")
        with RunProgress("snow-history", out) as progress:
            history = Engine(config, store, on_progress=progress.update).sync("snow-history")
        print_summary(history, out)

        out.print("\n[bold]2. Incremental mode starts[/] — its cursor begins now and never looks back")
        Engine(config, store).sync("snow-live", now=now)

        changed = _change_source(sim, now + timedelta(seconds=5))
        out.print(f"\n[bold]3. Meanwhile at the source[/]: {changed['updated']} incidents updated, "
                  f"{changed['inserted']} opened, {changed['deleted']} deleted")

        out.print("\n[bold]4. Next incremental cycle[/]")
        with RunProgress("snow-live", out) as progress:
            live = Engine(config, store, on_progress=progress.update).sync("snow-live", now=now + timedelta(minutes=2))
        print_summary(live, out)
        _show_store(store, out)
        _how_to_query(config_path, db, out)
    finally:
        sim.stop()


def _write_config(workdir: Path, url: str, db: Path) -> Path:
    secret = workdir / "snow.password"
    secret.write_text(DEMO_PASSWORD)
    secret.chmod(0o600)
    auth = {"type": "basic", "username": DEMO_USER, "password": f"file:{secret.resolve()}"}
    tables = [{"name": t} for t in TABLES]
    tables[0] = {"name": "incident", "fields": [
        "number", "short_description", "description", "priority", "state", "assigned_to", "assigned_to.email",
        "caller_id", "cmdb_ci", "opened_at", "sys_updated_on", "work_notes"]}
    config = {
        "store": f"sqlite:///{db.resolve()}",
        "connectors": {"snow": {"type": "servicenow", "instance_url": url, "auth": auth}},
        "pipelines": {
            "snow-history": {"connector": "snow", "mode": "historical", "batch_size": 500, "tables": tables},
            "snow-live": {"connector": "snow", "mode": "incremental", "frequency": "2m", "lag": "0s",
                          "batch_size": 500, "tables": tables},
        },
    }
    path = workdir / "udc.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _change_source(sim: ServiceNowSim, at: object) -> dict[str, int]:
    rng = random.Random(1)
    incidents = [r["sys_id"] for r in sim.records("incident")]
    touched = rng.sample(incidents, 25)
    for sys_id in touched[:20]:
        sim.update("incident", sys_id, {"state": "6", "close_notes": "Resolved by restarting the service."}, at=at)
    for sys_id in touched[20:]:
        sim.delete("incident", sys_id, at=at)
    for n in range(8):
        sim.insert("incident", {"short_description": f"Disk usage above 90% on web-{n:02d}.prod", "priority": "2"},
                   at=at)
    return {"updated": 20, "inserted": 8, "deleted": 5}


def _show_store(store: object, out: Console) -> None:
    from udc.store import SqliteStore

    assert isinstance(store, SqliteStore)
    table = Table(title="What is in the store now", title_justify="left")
    for column in ("dataset", "records", "deleted"):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    for dataset, (live, dead) in sorted(store.dataset_counts().items()):
        table.add_row(dataset, f"{live:,}", f"{dead:,}")
    out.print(table)
    out.print(f"{store.edge_count():,} links between records (incident → CI, caller, assignee …) in the graph")


def _how_to_query(config: Path, db: Path, out: Console) -> None:
    out.print("\n[bold]Try it yourself[/]")
    out.print(f"  udc status --config {config}")
    out.print(f"  udc export --config {config} --pipeline snow-history --table incident --format csv "
              "--out incidents.csv")
    out.print(f"  sqlite3 {db} \"SELECT json_extract(data, '$.number'), json_extract(data, '$.short_description') "
              "FROM records WHERE dataset = 'snow/incident' AND deleted = 0 LIMIT 5\"", highlight=False)
