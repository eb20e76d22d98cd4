"""`udc demo`: the whole job on local simulators, offline, in under a minute.

Starts simulated ServiceNow, Jira Cloud, Salesforce and Confluence Cloud instances, writes a config, seeds the
store with a historical sync of each, changes records at every source, runs an incremental cycle, and shows what
happened and how to query it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from udc.answers import print_changes, print_similar
from udc.config import load_config
from udc.console import RunProgress, print_summary
from udc.query import changes, similar
from udc.simulators.confluence import ConfluenceSim
from udc.simulators.jira import JiraSim
from udc.simulators.salesforce import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SalesforceSim
from udc.simulators.servicenow import ServiceNowSim
from udc.store import Store, open_store, sqlite_files
from udc.sync.engine import Engine
from udc.timeutil import utcnow

DEMO_USER, DEMO_PASSWORD = "svc_udc", "demo-p@ss`word&1"
TABLES = ["incident", "change_request", "problem", "kb_knowledge", "cmdb_ci_server", "sys_user", "cmdb_rel_type",
          "cmdb_rel_ci", "task_ci", "m2m_kb_task"]
SOURCES = ("snow", "jira", "sf", "wiki")  # each has a -history and a -live pipeline


def run_demo(workdir: Path, incidents: int, out: Console) -> None:
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)  # it holds the demo's secret files and store
    db = workdir / "udc.db"
    for leftover in sqlite_files(db):  # not the store's lock folder
        leftover.unlink(missing_ok=True)
    now = utcnow().replace(microsecond=0)
    counts = {"incident": incidents, "change_request": incidents // 6, "problem": incidents // 20,
              "kb_knowledge": incidents // 15, "cmdb_ci_server": incidents // 10, "sys_user": incidents // 10}
    snow = ServiceNowSim(seed=7, counts=counts, start=now - timedelta(days=180), span=timedelta(days=179),
                         users={DEMO_USER: DEMO_PASSWORD})
    jira = JiraSim("cloud", seed=7, issues=max(60, incidents // 10), now=now)
    sf = SalesforceSim(seed=7)
    wiki = ConfluenceSim("cloud", seed=7, pages=max(40, incidents // 20), now=now)
    # an instance has deleted records in its history: the first sync then sees sys_audit_delete answer, instead of
    # warning that it may be unreadable and showing deletions a minute later
    snow.delete("incident", snow.records("incident")[0]["sys_id"], at=now - timedelta(days=30))
    outage = _plant_outage(snow, now)
    sims = [snow.start(), jira.start(), sf.start(), wiki.start()]
    try:
        config_path = _write_config(workdir, db, snow, jira, sf, wiki)
        config = load_config(config_path)
        store = open_store(config.store, config.store_secret())
        out.print("[bold]udc demo[/]")
        out.print(f"Simulated ServiceNow {snow.url}, Jira Cloud {jira.url}, Salesforce {sf.url}, "
                  f"Confluence Cloud {wiki.url}")
        out.print(f"Config {config_path} · store {db}\n")

        out.print("[bold]1. Historical syncs[/] — seed the store with each source's history (deleted records "
                  "included, as tombstones)")
        for name in SOURCES:
            with RunProgress(f"{name}-history", out) as progress:
                print_summary(Engine(config, store, on_progress=progress.update).sync(f"{name}-history"), out)

        out.print("\n[bold]2. Incremental pipelines start[/] — their cursors begin now and never look back")
        for name in SOURCES:
            Engine(config, store).sync(f"{name}-live", now=now)

        changed = _change_sources(snow, jira, sf, wiki, now + timedelta(seconds=5))
        out.print("\n[bold]3. Meanwhile at the sources[/]: " + "; ".join(changed))

        out.print("\n[bold]4. Next incremental cycles[/]")
        for name in SOURCES:
            with RunProgress(f"{name}-live", out) as progress:
                live = Engine(config, store, on_progress=progress.update).sync(f"{name}-live",
                                                                               now=now + timedelta(minutes=2))
            print_summary(live, out)
        _show_store(store, out)
        out.print(f"\n[bold]5. Ask the knowledge graph[/] — what changed before the checkout outage {outage}, and "
                  "has it happened before?")
        out.print(f"[dim]$ udc changes --for {outage}[/]", highlight=False)
        print_changes(changes(store, outage), out)
        out.print(f"[dim]$ udc similar {outage} --limit 3[/]", highlight=False)
        print_similar(similar(store, outage, limit=3), out)
        _how_to_query(config_path, db, out, outage)
    finally:
        for sim in sims:
            sim.stop()


def _write_config(workdir: Path, db: Path, snow: ServiceNowSim, jira: JiraSim, sf: SalesforceSim,
                  wiki: ConfluenceSim) -> Path:
    def secret(name: str, value: str) -> str:
        path = workdir / name
        path.write_text(value)
        path.chmod(0o600)
        return f"file:{path.resolve()}"

    tables: list[dict[str, object]] = [{"name": t} for t in TABLES]
    tables[0] = {"name": "incident", "fields": [
        "number", "short_description", "description", "priority", "state", "assigned_to", "assigned_to.email",
        "caller_id", "cmdb_ci", "opened_at", "sys_updated_on", "work_notes"]}
    jira_tables = ["issues", "comments", "issue_links", "projects"]
    objects = ["Case", "Account", "Contact", "Incident_Review__c"]
    wiki_spaces, wiki_tables = ["OPS", "ENG"], ["pages", "blogposts", "comments", "spaces"]
    config = {
        "store": f"sqlite:///{db.resolve()}",
        "connectors": {
            "snow": {"type": "servicenow", "instance_url": snow.url,
                     "auth": {"type": "basic", "username": DEMO_USER, "password": secret("snow.pw", DEMO_PASSWORD)}},
            "jira": {"type": "jira", "deployment": "cloud", "base_url": jira.url,
                     "auth": {"type": "basic", "username": jira.email,
                              "password": secret("jira.token", jira.api_token)}},
            "sf": {"type": "salesforce", "instance_url": sf.url,
                   "auth": {"type": "oauth_client_credentials", "client_id": secret("sf.id", DEFAULT_CLIENT_ID),
                            "client_secret": secret("sf.secret", DEFAULT_CLIENT_SECRET)}},
            "wiki": {"type": "confluence", "deployment": "cloud", "base_url": wiki.url,
                     "auth": {"type": "basic", "username": wiki.email,
                              "password": secret("wiki.token", wiki.api_token)}},
        },
        "pipelines": {
            "snow-history": {"connector": "snow", "mode": "historical", "batch_size": 500, "tables": tables},
            "snow-live": {"connector": "snow", "mode": "incremental", "lag": "0s", "batch_size": 500, "tables": tables},
            "jira-history": {"connector": "jira", "mode": "historical", "jql": "project in (OPS, NET)",
                             "batch_size": 100, "tables": jira_tables},
            "jira-live": {"connector": "jira", "mode": "incremental", "jql": "project in (OPS, NET)",
                          "batch_size": 100, "tables": jira_tables},
            "sf-history": {"connector": "sf", "mode": "historical", "batch_size": 500, "objects": objects},
            "sf-live": {"connector": "sf", "mode": "incremental", "lag": "0s", "batch_size": 500, "objects": objects},
            "wiki-history": {"connector": "wiki", "mode": "historical", "space_keys": wiki_spaces,
                             "tables": wiki_tables},
            "wiki-live": {"connector": "wiki", "mode": "incremental", "lag": "0s", "space_keys": wiki_spaces,
                          "tables": wiki_tables},
        },
    }
    path = workdir / "udc.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _plant_outage(snow: ServiceNowSim, now: datetime) -> str:
    """A checkout outage the graph can explain: its database server was changed 40 minutes before it opened, the
    app server that depends on it was mid-deploy, and the same failure happened three weeks ago (a knowledge article
    was used then). Returns the outage's incident number."""
    opened = now - timedelta(hours=6)

    def at(delta: timedelta) -> str:
        return (opened + delta).strftime("%Y-%m-%d %H:%M:%S")

    db = snow.insert("cmdb_ci_server", {"name": "db-checkout-01", "host_name": "db-checkout-01"},
                     at=now - timedelta(days=60))
    app = snow.insert("cmdb_ci_server", {"name": "app-checkout-01", "host_name": "app-checkout-01"},
                      at=now - timedelta(days=60))
    depends = next(r["sys_id"] for r in snow.records("cmdb_rel_type") if r["name"].startswith("Depends on"))
    snow.insert("cmdb_rel_ci", {"parent": app, "child": db, "type": depends}, at=now - timedelta(days=60))
    for ci, start, end, text in ((db, -2, -2 / 3, "Resize the checkout database's tablespace"),
                                 (app, -1, 1, "Deploy checkout service 4.2")):
        snow.insert("change_request", {"cmdb_ci": ci, "short_description": text, "opened_at": at(timedelta(days=-2)),
                                       "start_date": at(timedelta(hours=start)),
                                       "end_date": at(timedelta(hours=end))}, at=opened - timedelta(days=2))
    article = snow.insert("kb_knowledge", {"short_description": "Checkout database out of tablespace: add a datafile",
                                           "text": "<p>When ORA-01653 appears, add a datafile.</p>"},
                          at=now - timedelta(days=90))
    before = snow.insert("incident", {
        "cmdb_ci": db, "short_description": "Checkout failing: database db-checkout-01 out of tablespace",
        "description": "ORA-01653 unable to extend table ORDERS; checkout orders fail.",
        "opened_at": at(timedelta(days=-21))}, at=opened - timedelta(days=21))
    snow.insert("m2m_kb_task", {"kb_knowledge": article, "task": before}, at=opened - timedelta(days=21))
    outage = snow.insert("incident", {
        "cmdb_ci": db, "short_description": "Checkout failing: orders rejected, database db-checkout-01 errors",
        "description": "ORA-01653 unable to extend table ORDERS on db-checkout-01.", "opened_at": at(timedelta())},
        at=opened)
    record = snow.get("incident", outage)
    assert record is not None  # inserted just above
    return record["number"]


def _change_sources(snow: ServiceNowSim, jira: JiraSim, sf: SalesforceSim, wiki: ConfluenceSim, at: datetime
                    ) -> list[str]:
    rng = random.Random(1)
    touched = rng.sample([r["sys_id"] for r in snow.records("incident")], 25)
    for sys_id in touched[:20]:
        snow.update("incident", sys_id, {"state": "6", "close_notes": "Resolved by restarting the service."}, at=at)
    for sys_id in touched[20:]:
        snow.delete("incident", sys_id, at=at)
    for n in range(8):
        snow.insert("incident", {"short_description": f"Disk usage above 90% on web-{n:02d}.prod", "priority": "2"},
                    at=at)
    keys = sorted(issue.key for issue in jira.visible_issues())[:6]
    for key in keys[:4]:
        jira.update_issue(key, at=at, summary=f"{key}: root cause found in the load balancer config")
    jira.add_comment(keys[4], "Rolled back the release; error rate is back to baseline.", at=at)
    jira.create_issue("OPS", "Certificate for api.example.com expires in 7 days", at=at)
    cases = [r["Id"] for r in sf.records("Case")][:12]
    for case in cases[:10]:
        sf.update("Case", case, {"Status": "Closed"}, at=at)
    sf.delete("Case", cases[10], at=at)
    sf.insert("Case", {"Subject": "VPN drops every 10 minutes"}, at=at)
    pages = sorted(c.id for c in wiki.content.values() if c.type == "page" and c.space.key == "OPS")
    wiki.update(pages[0], at=at, body="<p>Failover runbook, updated after OPS-12.</p>")
    wiki.create("page", "OPS", "Load balancer rollback", "<p>Steps we took for NET-7.</p>", at=at, parent=pages[0])
    wiki.set_status(pages[1], "trashed")
    return ["ServiceNow: 20 incidents updated, 8 opened, 5 deleted",
            "Jira: 4 issues edited, 1 commented, 1 created", "Salesforce: 10 cases closed, 1 deleted, 1 opened",
            "Confluence: 1 page edited, 1 created, 1 trashed"]


def _show_store(store: Store, out: Console) -> None:
    table = Table(title="What is in the store now", title_justify="left")
    for column in ("dataset", "records", "deleted"):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    for dataset, (live, dead) in sorted(store.dataset_counts().items()):
        table.add_row(dataset, f"{live:,}", f"{dead:,}")
    out.print(table)
    out.print(f"{store.edge_count():,} links between records in the graph (incident → CI, caller, assignee; "
              "issue ↔ issue; comment → issue; page → parent, space, Jira issue …)")


def _how_to_query(config: Path, db: Path, out: Console, outage: str) -> None:
    out.print("\n[bold]Try it yourself[/]")
    out.print(f"  udc status --config {config}")
    out.print(f"  udc search \"disk full\" --config {config}", highlight=False)
    out.print(f"  udc related {outage} --depth 2 --config {config}", highlight=False)
    out.print(f"  udc trends --table incident --by priority --every week --since 90d --config {config}",
              highlight=False)
    out.print(f"  udc export --config {config} --pipeline snow-history --table incident --format csv "
              "--out incidents.csv")
    out.print(f"  sqlite3 {db} \"SELECT json_extract(data, '$.number'), json_extract(data, '$.short_description') "
              "FROM records WHERE dataset = 'snow/incident' AND deleted = 0 LIMIT 5\"", highlight=False)
    out.print("The simulators stopped with the demo; to sync against one again, run it yourself (README, \"Run a "
              "simulator yourself\"):", highlight=False)
    out.print("  python -m udc.simulators servicenow --port 8080 --user svc_udc:secret", highlight=False)
