"""Jira deletes through the CLI against the simulator: search cannot show a deleted issue, so the deletion census
lists ids per project when due and tombstones the missing ones (their comments too); a comment removed from an
issue is tombstoned when the issue is re-read. The false-delete guard refuses a census that would delete over half
of a project's issues, or that lists none of a project with stored issues, unless `--confirm-deletes`.

Time is injected through the store's state (the census's last time, the cycles' positions), never by sleeping."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from jira_helpers import SimFactory, auth_for
from typer.testing import CliRunner

from secret_refs import auth_refs
from udc.cli import app
from udc.simulators.base import Request
from udc.simulators.jira import JiraSim
from udc.sync.census import CENSUS_KEY
from udc.timeutil import cursor_str


def write_config(sim: JiraSim, tmp_path: Path, **connector: Any) -> Path:
    base: dict[str, Any] = {"connector": "jira", "jql": "project in (OPS, NET)", "tables": ["issues", "comments"]}
    data = {"store": f"sqlite:///{tmp_path / 'udc.db'}",
            "connectors": {"jira": {"type": "jira", "deployment": sim.deployment, "base_url": sim.url,
                                    "auth": auth_refs(auth_for(sim)), **connector}},
            "pipelines": {"hist": {**base, "mode": "historical"},
                          "inc": {**base, "mode": "incremental", "lag": "0s"}}}
    path = tmp_path / "udc.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def udc(cfg: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "-c", str(cfg)])
    return result.exit_code, result.stdout + result.stderr


def sync(cfg: Path, pipeline: str, *extra: str) -> dict[str, Any]:
    code, text = udc(cfg, "sync", "-p", pipeline, "--json", *extra)
    assert code == 0, text
    return dict(json.JSONDecoder().raw_decode(text[text.index("{"):])[0])


def census_line(summary: dict[str, Any]) -> dict[str, Any] | None:
    return next((s for s in summary["streams"] if s["stream"] == "deletion census"), None)


def live(tmp_path: Path, table: str) -> set[str]:
    with sqlite3.connect(tmp_path / "udc.db") as db:
        return {pk for (pk,) in db.execute("SELECT pk FROM records WHERE dataset = ? AND deleted = 0",
                                           (f"jira/{table}",))}


def age_state(tmp_path: Path, hours: float) -> None:
    """Move the census's last time and every cycle's position `hours` into the past (an injected clock)."""
    with sqlite3.connect(tmp_path / "udc.db") as db:
        for stream, value in db.execute("SELECT stream, value FROM state WHERE pipeline = 'inc'").fetchall():
            state = json.loads(value)
            if stream == CENSUS_KEY:
                state["at"] = cursor_str(datetime.fromisoformat(state["at"]) - timedelta(hours=hours))
            else:
                at = datetime.fromisoformat(state["position"][0]) - timedelta(hours=hours)
                state["position"] = [cursor_str(at), ""]
            db.execute("UPDATE state SET value = ? WHERE pipeline = 'inc' AND stream = ?", (json.dumps(state), stream))


def synced(make_sim: SimFactory, tmp_path: Path, deployment: str = "cloud", **connector: Any
           ) -> tuple[JiraSim, Path]:
    sim = make_sim(deployment, issues=40, dc_page_cap=7)  # real time: the CLI reads the clock
    cfg = write_config(sim, tmp_path, **connector)
    sync(cfg, "hist")
    sync(cfg, "inc")  # the first cycle: its census finds nothing missing and records its time
    return sim, cfg


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_a_deleted_issue_becomes_a_tombstone_when_the_census_is_due(make_sim: SimFactory, tmp_path: Path,
                                                                    deployment: str) -> None:
    sim, cfg = synced(make_sim, tmp_path, deployment)
    victim = next(i for i in sim.visible_issues() if i.comments)
    age_state(tmp_path, 1)
    sim.update_issue(victim.key, summary="zanzibarquux outage", at=datetime.now(UTC) - timedelta(minutes=10))
    sync(cfg, "inc")
    code, text = udc(cfg, "search", "zanzibarquux", "--json")
    assert code == 0 and victim.key in text
    comments = {c.id for c in victim.comments}
    sim.delete_issue(victim.key)
    assert census_line(sync(cfg, "inc")) is None  # not due: the census ran less than 24h ago
    assert str(victim.id) in live(tmp_path, "issues")

    age_state(tmp_path, 25)
    before = len(sim.requests)
    line = census_line(sync(cfg, "inc"))
    assert line is not None and line["counts"]["deleted"] == 1 + len(comments)
    assert line["rows"] == len([i for i in sim.visible_issues() if i.project.key in ("OPS", "NET")])
    assert str(victim.id) not in live(tmp_path, "issues") and not comments & live(tmp_path, "comments")
    census = [r for r in sim.requests[before:] if "search" in r.path and "ORDER BY id" in str(r.query)]
    if deployment == "cloud":  # ids only: one page per project on Cloud (5000 a page)
        assert len(census) == 2
    else:  # Data Center caps pages (7 here): ceil(n / 7) per project
        per = [len([i for i in sim.visible_issues() if i.project.key == p]) for p in ("OPS", "NET")]
        assert len(census) == sum(max(1, -(-n // 7)) for n in per)
    code, text = udc(cfg, "search", "zanzibarquux", "--json")
    assert code == 0 and victim.key not in text
    code, text = udc(cfg, "export", "-p", "inc", "-t", "issues")
    rows = {json.loads(line)["id"]: json.loads(line) for line in text.splitlines() if line.startswith("{")}
    assert rows[str(victim.id)]["_deleted"] is True
    assert sum(r["_deleted"] for r in rows.values()) == 1
    assert census_line(sync(cfg, "inc")) is None  # done for another 24h


def test_a_removed_comment_is_tombstoned_when_its_issue_is_read_again(make_sim: SimFactory, tmp_path: Path
                                                                      ) -> None:
    sim, cfg = synced(make_sim, tmp_path)
    issue = next(i for i in sim.visible_issues() if len(i.comments) >= 2)
    gone, kept = issue.comments[0].id, issue.comments[1].id
    age_state(tmp_path, 1)
    sim.delete_comment(issue.key, gone, at=datetime.now(UTC) - timedelta(minutes=10))
    sync(cfg, "inc")
    assert gone not in live(tmp_path, "comments") and kept in live(tmp_path, "comments")
    assert str(issue.id) in live(tmp_path, "issues")


@pytest.mark.parametrize("how", ["half", "zero"])
def test_the_guard_refuses_and_writes_nothing_until_confirmed(make_sim: SimFactory, tmp_path: Path, how: str
                                                              ) -> None:
    sim, cfg = synced(make_sim, tmp_path)
    ops = [i for i in sim.visible_issues() if i.project.key == "OPS"]
    # over half gone, or every one (as when issue security hides them all from the account: the listing is empty)
    doomed = ops[: len(ops) // 2 + 1] if how == "half" else ops
    for issue in doomed:
        if sim.find_issue(issue.key):  # not gone already as a sub-task of an earlier one
            sim.delete_issue(issue.key)
    before = live(tmp_path, "issues")
    age_state(tmp_path, 25)
    summary = sync(cfg, "inc")
    line = census_line(summary)
    assert line is not None and line["status"] == "refused" and line["counts"]["deleted"] == 0
    said = "listed no issue" if how == "zero" else "are missing"
    assert any("project OPS" in w and said in w and "--confirm-deletes" in w for w in summary["warnings"])
    assert live(tmp_path, "issues") == before
    assert census_line(sync(cfg, "inc"))["status"] == "refused"  # not recorded as done: asked again next cycle

    line = census_line(sync(cfg, "inc", "--confirm-deletes"))
    assert line is not None and line["status"] == "done"
    assert before - live(tmp_path, "issues") == {str(i.id) for i in ops} - set(sim.issue_snapshot())


def test_census_off(make_sim: SimFactory, tmp_path: Path) -> None:
    sim, cfg = synced(make_sim, tmp_path, deletion_census="off")
    victim = sim.visible_issues()[0]
    sim.delete_issue(victim.key)
    age_state(tmp_path, 1000)
    assert census_line(sync(cfg, "inc")) is None
    assert str(victim.id) in live(tmp_path, "issues")
    assert not any("ORDER BY id" in str(r.query) for r in sim.requests)


@pytest.mark.parametrize("value", ["often", "10s", True])
def test_bad_census_option_is_refused_with_the_fix(make_sim: SimFactory, tmp_path: Path, value: Any) -> None:
    sim = make_sim("cloud", issues=0)
    code, text = udc(write_config(sim, tmp_path, deletion_census=value), "config", "validate")
    assert code == 2 and "deletion_census" in text and ("24h" in text or "off" in text)


def test_kill_9_mid_census_leaves_no_partial_tombstones(make_sim: SimFactory, tmp_path: Path) -> None:
    sim, cfg = synced(make_sim, tmp_path)
    doomed = [i for i in sim.visible_issues() if i.project.key == "OPS"][:3]
    for issue in doomed:
        sim.delete_issue(issue.key)
    age_state(tmp_path, 25)
    before = live(tmp_path, "issues")
    with sqlite3.connect(tmp_path / "udc.db") as db:
        census_state = db.execute("SELECT value FROM state WHERE stream = ?", (CENSUS_KEY,)).fetchone()
    proc = subprocess.Popen([sys.executable, "-m", "udc", "sync", "-p", "inc", "-c", str(cfg)],
                            env={**os.environ, "PYTHONPATH": "src"}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checks: list[str] = []

    def kill_on_second_check(request: Request) -> None:  # the listing is whole; the 404 checks are under way
        if re.fullmatch(r"/rest/api/3/issue/\d+", request.path):
            checks.append(request.path)
            if len(checks) == 2:
                os.killpg(proc.pid, signal.SIGKILL)  # the sync and its writer child

    sim.on_request = kill_on_second_check
    assert proc.wait(timeout=120) == -signal.SIGKILL
    sim.on_request = None
    assert live(tmp_path, "issues") == before  # nothing partial
    with sqlite3.connect(tmp_path / "udc.db") as db:
        assert db.execute("SELECT value FROM state WHERE stream = ?", (CENSUS_KEY,)).fetchone() == census_state
    line = census_line(sync(cfg, "inc"))  # still due: the next cycle runs it whole
    assert line is not None and line["counts"]["deleted"] == 3 + sum(len(i.comments) for i in doomed)
    assert before - live(tmp_path, "issues") == {str(i.id) for i in doomed}


def test_comments_read_in_part_tombstone_nothing(make_sim: SimFactory, tmp_path: Path) -> None:
    """An issue deleted between the search and its comment pages leaves only its 20 embedded comments readable:
    the others are not judged removed (the census deletes them with the issue)."""
    sim, cfg = synced(make_sim, tmp_path)
    issue = sim.visible_issues()[0]
    age_state(tmp_path, 1)
    for n in range(25):
        sim.add_comment(issue.key, f"note {n}", at=datetime.now(UTC) - timedelta(minutes=30, seconds=-n))
    sync(cfg, "inc")
    ids = {c.id for c in issue.comments}
    assert len(ids) > 20 and ids <= live(tmp_path, "comments")
    age_state(tmp_path, 1)
    sim.touch(issue.key, at=datetime.now(UTC) - timedelta(minutes=10))

    def delete_on_comment_page(request: Request) -> None:
        if request.path.endswith(f"/issue/{issue.id}/comment") and sim.find_issue(issue.key):
            sim.delete_issue(issue.key)

    sim.on_request = delete_on_comment_page
    sync(cfg, "inc")
    sim.on_request = None
    assert ids <= live(tmp_path, "comments")
