"""Both deployments end to end: the sync engine moves Jira into the SQLite store — a historical pass while issues
are being edited, then incremental cycles with changes in the cycle boundary's minute — and the store ends equal
to the simulator: every issue at its latest `updated`, every comment (beyond 20 too), every link, as records and
graph edges."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jira_helpers import SimFactory, auth_for, mover

from stores import Backend
from udc.config import parse_config
from udc.simulators.jira import JiraSim
from udc.store import Store, open_store
from udc.sync.engine import Engine
from udc.timeutil import cursor_str

T0 = datetime(2025, 3, 9, 9, 0, 30, tzinfo=UTC)  # Los Angeles springs forward at 10:00Z the next day


def config(sim: JiraSim, tmp_path: Path) -> Any:
    base: dict[str, Any] = {"connector": "jira", "jql": "project in (OPS, NET)", "batch_size": 25,
                            "tables": ["issues", "comments", "issue_links", "projects"]}
    return parse_config({
        "store": Backend.store_url(tmp_path / "udc.db"),
        "connectors": {"jira": {"type": "jira", "deployment": sim.deployment, "base_url": sim.url,
                                "auth": auth_for(sim)}},
        "pipelines": {"hist": {**base, "mode": "historical"},
                      "inc": {**base, "mode": "incremental", "lag": "30s"}},
    })


def store_matches_sim(store: Store, sim: JiraSim) -> None:
    issues = {pk: data for pk, data, deleted in store.iter_records("jira/issues") if not deleted}
    assert {pk: cursor_str(d["updated"]) for pk, d in issues.items()} == sim.issue_snapshot()
    for issue in sim.visible_issues():
        assert issues[str(issue.id)]["fields"]["summary"] == issue.summary
    comments = [d for _, d, _ in store.iter_records("jira/comments")]
    assert Counter(c["issue_id"] for c in comments) == Counter(
        {str(i.id): len(i.comments) for i in sim.visible_issues() if i.comments})
    links = {pk for pk, _, _ in store.iter_records("jira/issue_links")}
    assert links >= {link.id for link in sim.visible_links()}
    edges = store.execute("SELECT src_pk, rel, dst_pk FROM graph_edges WHERE src_dataset = 'jira/issues' "
                          "AND dst_dataset IN ('jira/issues', 'jira/issues_key')")
    want = {(str(link.outward_id), str(link.inward_id)) for link in sim.visible_links()}
    # each link seen from both ends, removed links gone
    assert {(src, dst) for src, rel, dst in edges if rel != "parent"} == want | {(b, a) for a, b in want}
    assert {(src, dst) for src, rel, dst in edges if rel == "parent"} == parent_edges(sim)
    assert sorted(d["key"] for _, d, _ in store.iter_records("jira/projects")) == ["NET", "OPS"]


def parent_edges(sim: JiraSim) -> set[tuple[str, str]]:
    """(child id, parent) of every visible child: the parent's id, or on Data Center an epic's key (Epic Link)."""
    out = set()
    for issue in sim.visible_issues():
        parent = sim.issues.get(issue.parent_id) if issue.parent_id else None
        if parent is not None:
            by_key = sim.deployment == "data_center" and parent.level > 0
            out.add((str(issue.id), parent.key if by_key else str(parent.id)))
    return out


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Europe/Moscow"])
def test_historical_then_incremental_cycles_end_equal_to_the_source(make_sim: SimFactory, tmp_path: Path,
                                                                    deployment: str, zone: str) -> None:
    sim = make_sim(deployment, issues=120, now=T0, tz=zone, cloud_page_cap=20, dc_page_cap=20)
    cfg = config(sim, tmp_path)
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    engine = Engine(cfg, store)
    try:
        sim.on_request = mover(sim, T0)  # users edit issues while the historical pass pages through them
        summary = engine.sync("hist", now=T0)
        assert summary.status == "succeeded", summary.warnings
        sim.on_request = None
        assert engine.sync("inc", now=T0).status == "succeeded"  # first cycle: starts from now

        now = T0
        for step in range(4):
            # changes around the next cycle boundary (now + 5 min − 30 s lag): same minute, both sides
            boundary = now + timedelta(minutes=5) - timedelta(seconds=30)
            issues = sorted(sim.visible_issues(), key=lambda i: i.id)
            sim.update_issue(issues[step].key, at=boundary - timedelta(milliseconds=1), summary=f"edit {step}")
            sim.update_issue(issues[step + 10].key, at=boundary, summary=f"edit at boundary {step}")
            sim.add_comment(issues[step + 20].key, f"comment {step}", at=boundary - timedelta(seconds=20))
            sim.create_issue("OPS" if step % 2 else "NET", f"new {step}", at=boundary + timedelta(seconds=10))
            if step == 2:
                sim.link(issues[1].key, issues[2].key, "Relates", at=boundary - timedelta(seconds=5))
            if step == 3:
                sim.unlink(sorted(sim.visible_links(), key=lambda link: link.id)[0].id, at=boundary)
            now += timedelta(minutes=5)
            summary = engine.sync("inc", now=now)
            assert summary.status == "succeeded", summary.warnings
        final = engine.sync("inc", now=now + timedelta(hours=2))  # past every change (cycles cross 10:00Z DST)
        assert final.status == "succeeded"
        projects = next(s.counts for s in final.streams if s.stream == "projects")
        assert (projects.updated, projects.unchanged) == (0, 2)  # re-read each run, not "updated" each run
        store_matches_sim(store, sim)
        assert {r.method for r in sim.requests} == {"GET"}
    finally:
        store.close()


def test_a_stopped_run_resumes_from_its_last_page(make_sim: SimFactory, tmp_path: Path) -> None:
    """Kill after a few pages (the engine's stop flag): the next historical pass continues and loses nothing."""
    sim = make_sim("data_center", issues=120, now=T0, dc_page_cap=10)
    cfg = config(sim, tmp_path)
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    pages = [0]

    def progress(result: Any) -> None:
        pages[0] = result.pages
        if result.pages >= 3:
            engine.stop.event.set()

    engine = Engine(cfg, store, on_progress=progress, workers=1)
    try:
        first = engine.sync("hist", now=T0)
        assert first.status == "stopped"
        stored = sum(1 for _ in store.iter_records("jira/issues"))
        assert 0 < stored < len(sim.visible_issues())
        engine.stop.event.clear()
        engine.on_progress = lambda result: None
        second = engine.sync("hist", now=T0)
        assert second.status == "succeeded"
        issues = {pk for pk, _, _ in store.iter_records("jira/issues")}
        assert issues == set(sim.issue_snapshot())
        assert sum(r.rows for r in second.streams if r.stream == "issues") <= len(sim.visible_issues()) - stored + 1
    finally:
        store.close()
