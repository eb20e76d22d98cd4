"""Both deployments end to end: the sync engine moves Confluence into the store — a historical pass, then
incremental cycles with edits in the cycle boundary's minute, a trashed page, new comments — and the store ends
equal to the simulator, with graph links; the space-gap report fails a run with an unreadable space (or warns);
only GET requests reach the source."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from confluence_helpers import SimFactory, auth_for, config_for
from typer.testing import CliRunner

from secret_refs import auth_refs, env_ref
from stores import Backend
from udc.check import run_check
from udc.cli import app
from udc.errors import SourceError
from udc.simulators.confluence import ConfluenceSim
from udc.store import Store, open_store
from udc.sync.engine import Engine

T0 = datetime(2025, 3, 9, 5, 0, 30, tzinfo=UTC)  # St John's springs forward at 05:30Z the same day
TABLES = ["pages", "blogposts", "comments", "spaces"]


def live(store: Store, dataset: str) -> dict[str, int]:
    return {pk: d["version"] for pk, d, deleted in store.iter_records(dataset) if not deleted}


def store_matches_sim(store: Store, sim: ConfluenceSim) -> None:
    readable = ("OPS", "ENG")

    def want(kind: str) -> dict[str, int]:
        return {i: v for i, v in sim.snapshot(kind).items() if sim.content[int(i)].space.key in readable}

    assert live(store, "wiki/pages") == want("page")
    assert live(store, "wiki/blogposts") == want("blogpost")
    assert live(store, "wiki/comments") == want("comment")
    assert sorted(d["key"] for _, d, _ in store.iter_records("wiki/spaces")) == ["ENG", "OPS"]
    edges = set(store.execute("SELECT src_dataset, src_pk, rel, dst_dataset, dst_pk FROM graph_edges"))
    for item in sim.content.values():
        if item.status != "current" or item.space.key not in readable or item.restricted:
            continue
        if item.type == "page":
            assert ("wiki/pages", str(item.id), "in_space", "wiki/spaces", str(item.space.id)) in edges
            if item.parent_id:
                assert ("wiki/pages", str(item.id), "child_of", "wiki/pages", str(item.parent_id)) in edges
            if "OPS-12" in item.body:
                assert ("wiki/pages", str(item.id), "mentions", "jira/issue_key", "OPS-12") in edges
        if item.type == "comment":
            assert ("wiki/comments", str(item.id), "comment_on", "wiki/pages", str(item.container_id)) in edges


@pytest.mark.parametrize("deployment,zone", [("cloud", "America/St_Johns"), ("server", "Asia/Kolkata"),
                                             ("cloud", "Asia/Kolkata"), ("server", "America/St_Johns")])
def test_historical_then_incremental_cycles_end_equal_to_the_source(make_sim: SimFactory, tmp_path: Path,
                                                                    deployment: str, zone: str) -> None:
    sim = make_sim(deployment, tz=zone, pages=80, now=T0, server_limit_cap=10, v2_page_cap=20,
                   context="/confluence" if deployment == "server" else "")
    base = {"connector": "wiki", "space_keys": ["OPS", "ENG"], "batch_size": 50, "tables": TABLES,
            "on_missing_space": "fail"}
    cfg = config_for(sim, tmp_path, pipelines={"hist": {**base, "mode": "historical"},
                                               "inc": {**base, "mode": "incremental", "lag": "30s"}})
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    engine = Engine(cfg, store)
    try:
        summary = engine.sync("hist", now=T0)
        assert summary.status == "succeeded", summary.warnings
        assert any("spaces: OPS readable (" in w and "ENG readable" in w for w in summary.warnings)
        store_matches_sim(store, sim)
        assert engine.sync("inc", now=T0).status == "succeeded"  # first cycle: starts from now

        now = T0
        pages = sorted((c for c in sim.content.values() if c.type == "page" and c.space.key == "OPS"),
                       key=lambda c: c.id)
        for step in range(4):  # changes around each cycle boundary (now + 5 min − 30 s lag), both sides of it
            boundary = now + timedelta(minutes=5) - timedelta(seconds=30)
            sim.update(pages[step].id, at=boundary - timedelta(milliseconds=1),
                       body=f"<p>edit {step} NET-{step + 1}</p>")
            sim.update(pages[step + 5].id, at=boundary, title=f"edited at the boundary {step}")
            sim.create("comment", "OPS", body=f"<p>comment {step}</p>", at=boundary - timedelta(seconds=20),
                       container=pages[step + 10].id)
            sim.create("page", "ENG", f"new {step}", at=boundary + timedelta(seconds=10), parent=None)
            if step == 2:
                sim.set_status(pages[12].id, "trashed")
            now += timedelta(minutes=5)  # the cycles cross 05:30Z (St John's DST)
            summary = engine.sync("inc", now=now)
            assert summary.status == "succeeded", summary.warnings
        last = engine.sync("inc", now=now + timedelta(hours=2))
        assert last.status == "succeeded"
        store_matches_sim(store, sim)
        spaces = next(s.counts for s in last.streams if s.stream == "spaces")
        assert (spaces.updated, spaces.unchanged) == (0, 2)  # re-read each run, not "updated" each run
        trashed = {pk: deleted for pk, _, deleted in store.iter_records("wiki/pages")}
        assert trashed[str(pages[12].id)]
        edited = dict((pk, d) for pk, d, _ in store.iter_records("wiki/pages"))[str(pages[1].id)]
        assert edited["body_text"] == "edit 1 NET-2" and edited["version"] == 2
        assert {r.method for r in sim.requests} == {"GET"}
        if deployment == "server":  # udc asked for more than the server's cap of 10, so every page came back short,
            # and the store still matches the source (above): a short page never ended a listing
            assert all(int(r.arg("limit") or 0) > 10 for r in sim.requests
                       if r.path.endswith("/content/search") and not r.arg("start"))
        else:
            assert any(r.path.startswith("/wiki/api/v2/") for r in sim.requests)  # validated against the spec
    finally:
        store.close()


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_an_unreadable_space_fails_the_run_naming_it_unless_warn(make_sim: SimFactory, tmp_path: Path,
                                                                 deployment: str) -> None:
    sim = make_sim(deployment, pages=30, now=T0)
    cfg = config_for(sim, tmp_path, space_keys=["OPS", "ENG", "HR", "NOPE"])
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    try:
        with pytest.raises(SourceError, match=r"space\(s\) HR, NOPE do not exist or are not readable"):
            Engine(cfg, store).sync("kb", now=T0)
        (failed,) = store.runs("kb")
        assert failed["status"] == "failed"
        assert any("OPS readable" in w and "NOPE does not exist" in w for w in failed["summary"]["warnings"])
        assert not list(store.iter_records("wiki/pages"))  # nothing half-synced
        warn = config_for(sim, tmp_path, space_keys=["OPS", "ENG", "HR", "NOPE"], on_missing_space="warn")
        summary = Engine(warn, store).sync("kb", now=T0)
        assert summary.status == "succeeded", summary.warnings
        assert any("HR does not exist or is not readable by this account" in w for w in summary.warnings)
        ops_eng = {i for i in sim.snapshot("page") if sim.content[int(i)].space.key in ("OPS", "ENG")}
        assert set(live(store, "wiki/pages")) == ops_eng
        assert {r.method for r in sim.requests} == {"GET"}
    finally:
        store.close()


def test_check_reports_every_space_and_the_credentials(make_sim: SimFactory, tmp_path: Path) -> None:
    sim = make_sim("cloud", pages=30, now=T0)
    cfg = config_for(sim, tmp_path, space_keys=["OPS", "HR"])
    report = run_check(cfg, "wiki")
    found = {f.title: f for f in report.findings}
    assert found["credentials"].level == "ok"
    ops = sum(1 for c in sim.content.values() if c.type == "page" and c.space.key == "OPS" and c.status == "current")
    assert found["space OPS"].level == "ok" and found["space OPS"].detail == f"readable, {ops} pages"
    assert found["space HR"].level == "fail" and "Permissions" in found["space HR"].fix
    assert found["spaces not listed"].detail.startswith("readable but not in space_keys, so not synced: ENG (")
    assert not report.healthy

    wrong = config_for(sim, tmp_path, base_url=sim.url + "/wiki")
    (finding,) = run_check(wrong, "wiki").findings
    assert finding.title == "base_url" and finding.fix.startswith(f"give the site origin: base_url: {sim.url}")

    bad = config_for(sim, tmp_path)
    bad = bad.model_copy(update={"connectors": {"wiki": bad.connectors["wiki"].model_copy(update={
        "auth": bad.connectors["wiki"].auth.model_copy(update={"username": "someone@example.com"})})}})
    (finding,) = run_check(bad, "wiki").findings
    assert finding.title == "401 Unauthorized" and "API token" in finding.fix


def test_cli_sync_exits_1_naming_the_space_and_status_and_discover_show_the_spaces(make_sim: SimFactory,
                                                                                    tmp_path: Path) -> None:
    sim = make_sim("cloud", pages=30, now=T0)
    config = tmp_path / "udc.yaml"
    config.write_text(yaml.safe_dump({
        "store": Backend.store_url(tmp_path / "udc.db"),
        "connectors": {"wiki": {"type": "confluence", "base_url": sim.url, "auth": auth_refs(auth_for(sim))}},
        "pipelines": {"kb": {"connector": "wiki", "space_keys": ["OPS", "HR"], "tables": ["pages"]}}}))
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, [*args, "--config", str(config)])
        return result.exit_code, " ".join(result.output.split())  # as one line, whatever the terminal wrapped

    code, synced = run("sync", "-p", "kb")
    assert code == 1 and "HR do not exist or are not readable" in synced
    code, status = run("status")
    assert code == 0 and "OPS readable" in status and "HR does not exist or is not readable" in status
    code, found = run("discover", "--connector", "wiki")
    ops = sum(1 for c in sim.content.values() if c.type == "page" and c.space.key == "OPS")
    assert code == 0 and f"space OPS: {ops} pages" in found and "space HR" not in found
    assert sim.api_token not in synced + status + found


def test_comments_on_blog_posts_inline_comments_and_page_links_become_graph_links(make_sim: SimFactory,
                                                                                 tmp_path: Path) -> None:
    sim = make_sim("cloud", pages=0, now=T0)
    at = T0 - timedelta(hours=1)
    target = sim.create("page", "OPS", "Target", at=at)
    page = sim.create("page", "OPS", "Linker", f'<p>See <a href="/wiki/spaces/OPS/pages/{target.id}/Target">it</a>'
                                               " and NET-7.</p>", at=at)
    post = sim.create("blogpost", "ENG", "Release notes", at=at)
    inline = sim.create("comment", "OPS", body="<p>typo here</p>", at=at, container=page.id, location="inline")
    footer = sim.create("comment", "ENG", body="<p>nice</p>", at=at, container=post.id)
    store = open_store(Backend.store_url(tmp_path / "udc.db"))
    try:
        cfg = config_for(sim, tmp_path, tables=["pages", "blogposts", "comments"])
        assert Engine(cfg, store).sync("kb", now=T0).status == "succeeded"
        edges = set(store.execute("SELECT src_pk, rel, dst_dataset, dst_pk FROM graph_edges"))
        assert {(str(page.id), "mentions", "wiki/pages", str(target.id)),
                (str(page.id), "mentions", "jira/issue_key", "NET-7"),
                (str(inline.id), "comment_on", "wiki/pages", str(page.id)),
                (str(footer.id), "comment_on", "wiki/blogposts", str(post.id)),
                (str(post.id), "in_space", "wiki/spaces", str(sim.space("ENG").id))} <= edges
        comments = {pk: d for pk, d, _ in store.iter_records("wiki/comments")}
        assert comments[str(inline.id)]["location"] == "inline" and comments[str(inline.id)]["body_text"] == \
            "typo here"
        assert any(r.path == f"/wiki/api/v2/inline-comments/{inline.id}" for r in sim.requests)
    finally:
        store.close()


def test_redaction_retries_backfill_and_export_work_as_for_other_sources(make_sim: SimFactory,
                                                                         tmp_path: Path) -> None:
    sim = make_sim("cloud", pages=20, now=T0)
    sim.create("page", "OPS", "Contacts", "<p>Call jane.doe@example.com about the failover.</p>",
               at=T0 - timedelta(hours=1))
    sim.faults.script(["429", "500", "502"])  # retried like any source
    sim.faults.retry_after = 0
    config = tmp_path / "udc.yaml"
    config.write_text(yaml.safe_dump({
        "store": Backend.store_url(tmp_path / "udc.db"),
        "connectors": {"wiki": {"type": "confluence", "base_url": sim.url, "auth": auth_refs(auth_for(sim))}},
        "pipelines": {"kb": {"connector": "wiki", "mode": "incremental", "space_keys": ["OPS", "ENG"],
                             "redaction": {"enabled": True, "key": env_ref("k" * 32)}}}}))
    runner = CliRunner()
    start = (T0 - timedelta(days=31)).date().isoformat()
    backfill = runner.invoke(app, ["backfill", "--pipeline", "kb", "--start", start, "--end",
                                   T0.strftime("%Y-%m-%dT%H:%M:%S"), "--chunk", "7d", "--config", str(config)])
    assert backfill.exit_code == 0, backfill.output
    exported = runner.invoke(app, ["export", "-p", "kb", "-t", "pages", "--config", str(config)])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in exported.stdout.splitlines() if line.startswith("{")]
    want = {i for i in sim.snapshot("page") if sim.content[int(i)].space.key in ("OPS", "ENG")}
    assert {r["id"] for r in rows if not r["_deleted"]} == want
    assert "jane.doe@example.com" not in exported.stdout
    assert "failover" in exported.stdout
    assert sim.faults.fired == ["429", "500", "502"]
    assert {r.method for r in sim.requests} == {"GET"}
