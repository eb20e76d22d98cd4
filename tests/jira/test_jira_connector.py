"""The Jira connector against the simulators: paging contracts, keyset resume, issues changing mid-sync,
comments beyond 20, links as records and edges, ADF as text, diagnostics for `udc check`.

Every v3 request the connector sends (and every response it gets) is validated against the official spec on
teardown of the Cloud simulators (conftest.make_sim).
"""

from __future__ import annotations

import base64
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jira_helpers import SimFactory, auth_for, read_all, source_for, stream
from jira_helpers import mover as make_mover

from udc.errors import ConfigError, SourceError
from udc.records import Window
from udc.simulators.jira import JiraSim
from udc.sources.atlassian import adf_text
from udc.sources.jira import check, projects_in, sort_key, strip_order_by
from udc.timeutil import cursor_str, parse_time

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
EVERYTHING = Window(None, T0 + timedelta(days=1))
DEPLOYMENTS = ["cloud", "data_center"]


def expected_issue_ids(sim: JiraSim) -> set[str]:
    return {str(i.id) for i in sim.visible_issues()}


# -- pure helpers ---------------------------------------------------------------------------------------------------


def test_helpers() -> None:
    assert sort_key("OPS-9") < sort_key("OPS-10") < sort_key("OPSX-1")
    assert strip_order_by('project = OPS AND summary ~ "order by" ORDER BY key DESC') == \
        'project = OPS AND summary ~ "order by"'
    assert projects_in('project in (OPS, "NET") AND project = SEC OR project != \'X Y\'') == ["OPS", "NET", "SEC",
                                                                                               "X Y"]
    doc = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Hello"}, {"type": "hardBreak"},
                                          {"type": "mention", "attrs": {"id": "1", "text": "@Ana"}}]},
        {"type": "bulletList", "content": [{"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]}]},
        {"type": "codeBlock", "content": [{"type": "text", "text": "ls -l"}]},
        {"type": "weirdNewNode", "content": [{"type": "text", "text": "kept"}]},
    ]}
    assert adf_text(doc) == "Hello\n@Ana\n\n- one\n\nls -l\n\nkept"
    assert adf_text("plain v2 text") == "plain v2 text" and adf_text(None) == ""


# -- full reads --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_full_read_of_every_table(make_sim: SimFactory, deployment: str) -> None:
    sim = make_sim(deployment, issues=120, now=T0, cloud_page_cap=17, dc_page_cap=13)
    source = source_for(sim, batch_size=50)
    streams = {s.name: s for s in source.streams()}
    assert set(streams) == {"issues", "comments", "issue_links", "projects"}

    issues, pages = read_all(streams["issues"], EVERYTHING)
    assert {r["id"] for r in issues} == expected_issue_ids(sim) and len(issues) == len(expected_issue_ids(sim))
    cursors = [(streams["issues"].cursor_of(r), sort_key(r["key"])) for r in issues]
    assert cursors == sorted(cursors)  # (updated, key) order, ties included (the generator makes a bulk-edit tie)
    assert max(Counter(c for c, _ in cursors).values()) >= 4
    first = issues[0]
    assert first["project_key"] in ("OPS", "NET") and first["description_text"]
    if deployment == "cloud":
        assert first["fields"]["description"]["type"] == "doc"  # ADF kept as given, and as text beside it
    else:
        assert first["fields"]["description"] == first["description_text"]
    refs = [ref for p in pages for refs in p.links.values() for ref in refs]  # stored with their issue
    assert {rel for rel, _, _ in refs} >= {"in_project", "blocks", "is blocked by"}

    comments, _ = read_all(streams["comments"], EVERYTHING)
    want = Counter({str(i.id): len(i.comments) for i in sim.visible_issues() if i.comments})
    assert Counter(r["issue_id"] for r in comments) == want
    assert max(want.values()) > 20  # some issues have more than the 20 embedded comments
    assert len({r["id"] for r in comments}) == len(comments)
    assert all(r["body_text"] for r in comments)

    links, _ = read_all(streams["issue_links"], EVERYTHING)
    by_id = {r["id"]: r for r in links}
    assert set(by_id) == {link.id for link in sim.visible_links()}
    for link in sim.visible_links():  # normalised: the outward side is the source, whichever end it was read on
        assert (by_id[link.id]["source_id"], by_id[link.id]["target_id"]) == (str(link.outward_id),
                                                                              str(link.inward_id))

    projects, _ = read_all(streams["projects"], EVERYTHING)
    assert sorted(p["key"] for p in projects) == ["NET", "OPS"]
    source.close()


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_short_pages_are_not_the_end(make_sim: SimFactory, deployment: str) -> None:
    """The server returns fewer issues than asked (Cloud: when fields are many; DC: the silent cap)."""
    sim = make_sim(deployment, issues=80, now=T0, cloud_page_cap=7, dc_page_cap=7)
    source = source_for(sim, batch_size=1000, tables=["issues"])
    issues, pages = read_all(stream(source, "issues"), EVERYTHING)
    assert {r["id"] for r in issues} == expected_issue_ids(sim)
    assert len(pages) >= len(issues) // 7
    searches = [r for r in sim.data_requests() if "search" in r.path and r.arg("maxResults") != "1"]  # not the probe
    assert searches and all(r.arg("maxResults") == "1000" for r in searches)


def test_cloud_asks_for_fields_and_never_uses_the_removed_search(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=30, now=T0)
    source = source_for(sim, tables=["issues"], fields=["summary", "status"])
    read_all(stream(source, "issues"), EVERYTHING)
    searches = [r for r in sim.data_requests() if "search" in r.path]
    assert searches and all(r.path == "/rest/api/3/search/jql" for r in searches)
    searches = [r for r in searches if r.arg("maxResults") != "1"]  # the JQL probe asks for `updated` only
    assert all(set((r.arg("fields") or "").split(",")) >= {"summary", "status", "updated", "project"}
               for r in searches)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_resume_from_any_page_loses_and_repeats_nothing(make_sim: SimFactory, deployment: str) -> None:
    sim = make_sim(deployment, issues=50, now=T0)
    source = source_for(sim, batch_size=3, tables=["issues"])
    issues = stream(source, "issues")
    pages = [p for p in issues.read(EVERYTHING, None) if p.records]
    everything = [r["id"] for p in pages for r in p.records]
    assert sorted(everything) == sorted(expected_issue_ids(sim))
    for k in range(len(pages)):
        done = [r["id"] for p in pages[: k + 1] for r in p.records]
        rest, _ = read_all(issues, EVERYTHING, pages[k].position)
        assert sorted(done + [r["id"] for r in rest]) == sorted(everything), f"resume after page {k}"
    source.close()


# -- issues changing while we page ------------------------------------------------------------------------------------


def naive_token_pager(sim: JiraSim, jql: str) -> list[str]:
    """What a connector that trusts nextPageToken alone does (the control for the test below)."""
    import httpx

    seen, token = [], None
    with httpx.Client(base_url=sim.url, auth=(sim.email, sim.api_token)) as http:
        while True:
            params: dict[str, Any] = {"jql": jql, "fields": "updated", "maxResults": 10}
            if token:
                params["nextPageToken"] = token
            body = http.get("/rest/api/3/search/jql", params=params).json()
            seen += [i["id"] for i in body["issues"]]
            token = body.get("nextPageToken")
            if body["isLast"]:
                return seen


def test_control_offset_paging_skips_issues_when_others_move(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=100, now=T0)
    before = expected_issue_ids(sim)
    sim.on_request = make_mover(sim, T0)
    seen = set(naive_token_pager(sim, f"project in (OPS, NET) AND updated < {int(T0.timestamp() * 1000)} "
                                      "ORDER BY updated ASC, key ASC"))
    assert before - seen, "the simulator's token should drift like an offset when issues leave the result set"


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_issues_changing_mid_sync_lose_nothing_across_incremental_cycles(make_sim: SimFactory,
                                                                         deployment: str) -> None:
    sim = make_sim(deployment, issues=100, now=T0, cloud_page_cap=10, dc_page_cap=10)
    source = source_for(sim, batch_size=10, tables=["issues", "comments"])
    issues, comments = stream(source, "issues"), stream(source, "comments")
    store: dict[str, dict[str, Any]] = {}
    comment_store: dict[str, str] = {}

    def cycle(window: Window) -> None:
        for record in read_all(issues, window)[0]:
            old = store.get(record["id"])
            if old is None or issues.cursor_of(old) <= issues.cursor_of(record):  # newest wins
                store[record["id"]] = record
        for record in read_all(comments, window)[0]:
            comment_store[record["id"]] = record["issue_id"]

    original = expected_issue_ids(sim)
    sim.on_request = make_mover(sim, T0)  # issues move out of the window while we page through it
    cycle(Window(None, T0))
    assert set(store) == original  # nothing skipped although issues moved mid-sync

    # more changes between cycles: edits, new issues, comments (a 21st on a busy issue), in the same minute as
    # the cycle boundary on both sides
    sim.on_request = None
    boundary = T0 + timedelta(minutes=30, seconds=20)
    busy = max(sim.visible_issues(), key=lambda i: len(i.comments))
    sim.add_comment(busy.key, "after the boundary", at=boundary + timedelta(seconds=5))
    new = sim.create_issue("OPS", "created at the boundary", at=boundary)
    late = sim.create_issue("NET", "created just before", at=boundary - timedelta(milliseconds=1))
    sim.update_issue(sorted(sim.visible_issues(), key=lambda i: i.id)[3].key, at=boundary + timedelta(seconds=30),
                     summary="edited in the boundary minute")
    cycle(Window(T0, boundary))
    sim.on_request = make_mover(sim, T0, every=3)
    cycle(Window(boundary, T0 + timedelta(hours=2)))
    sim.on_request = None
    cycle(Window(T0 + timedelta(hours=2), T0 + timedelta(hours=3)))  # nothing moves now: quiet cycle

    truth = sim.issue_snapshot()
    assert {k: cursor_str(v["updated"]) for k, v in store.items()} == truth
    assert str(new.id) in store and str(late.id) in store
    assert Counter(comment_store.values()) == Counter(
        {str(i.id): len(i.comments) for i in sim.visible_issues() if i.comments})
    assert sum(1 for v in comment_store.values() if v == str(busy.id)) == len(busy.comments) > 20
    source.close()


def test_deleted_issues_stop_appearing(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=20, now=T0)
    victim = sim.visible_issues()[0]
    sim.delete_issue(victim.key)
    source = source_for(sim, tables=["issues"])
    ids = {r["id"] for r in read_all(stream(source, "issues"), EVERYTHING)[0]}
    assert str(victim.id) not in ids and ids == expected_issue_ids(sim)


# -- configuration errors found before any data moves -----------------------------------------------------------


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_invisible_project_in_the_jql_fails_with_a_fix(make_sim: SimFactory, deployment: str) -> None:
    sim = make_sim(deployment, issues=10)
    source = source_for(sim, jql="project in (OPS, SEC)")
    with pytest.raises(ConfigError, match="project 'SEC' in the JQL does not exist or this account cannot see it"):
        source.streams()


def test_unknown_table_and_field_are_config_errors(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=5)
    with pytest.raises(ConfigError, match="did you mean 'issues'"):
        source_for(sim, tables=["issue"]).streams()
    with pytest.raises(ConfigError, match="Jira field 'sumary' does not exist"):
        source_for(sim, tables=["issues"], fields=["sumary"]).streams()


def test_order_by_in_the_users_jql_is_replaced(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=30, now=T0)
    source = source_for(sim, jql="project in (OPS, NET) ORDER BY created DESC", tables=["issues"])
    issues, _ = read_all(stream(source, "issues"), EVERYTHING)
    assert len(issues) == len(expected_issue_ids(sim))
    assert any("ORDER BY" in n for n in source.notes)


@pytest.mark.parametrize(("deployment", "auth", "message"), [
    ("cloud", "password", "Jira refused the credentials"),
    ("data_center", "bad-pat", "Jira refused the credentials"),
])
def test_auth_failures_stop_the_sync_with_a_hint(make_sim: SimFactory, deployment: str, auth: str,
                                                 message: str) -> None:
    sim = make_sim(deployment, issues=5)
    creds = ({"type": "basic", "username": sim.email, "password": sim.password} if auth == "password" else
             {"type": "bearer", "token": "not-the-pat"})
    with pytest.raises(SourceError, match=message) as caught:
        source_for(sim, auth=creds).streams()
    assert ("API token" in caught.value.hint) if deployment == "cloud" else ("personal access token" in
                                                                          caught.value.hint)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_429_is_waited_out(make_sim: SimFactory, deployment: str) -> None:
    sim = make_sim(deployment, issues=30, now=T0)
    sim.faults.retry_after = 0
    sim.faults.script(["429", "429"])
    source = source_for(sim, tables=["issues"])
    issues, _ = read_all(stream(source, "issues"), EVERYTHING)
    assert {r["id"] for r in issues} == expected_issue_ids(sim)
    assert source.client.stats.faults.get("429") == 2


# -- udc check ----------------------------------------------------------------------------------------------------


def run_check(sim: JiraSim, auth: dict[str, Any] | None = None, **pipeline: Any) -> list[Any]:
    from jira_helpers import config_for

    from udc.check import normalize

    config = config_for(sim, None, auth, **pipeline)
    connector = config.connector("jira")
    return [normalize(f) for f in check("jira", connector, config.pipeline("jira-p"))]


def levels(findings: list[Any]) -> dict[str, str]:
    return {f.title: f.level for f in findings}


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_check_healthy(make_sim: SimFactory, deployment: str) -> None:
    sim = make_sim(deployment, issues=20, tz="Europe/Moscow")
    findings = run_check(sim)
    assert all(f.level == "ok" for f in findings), findings
    assert any("Europe/Moscow" in f.detail for f in findings)
    assert levels(findings)["project OPS"] == "ok"


def test_check_cloud_password_instead_of_api_token(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=5)
    findings = run_check(sim, {"type": "basic", "username": sim.email, "password": sim.password})
    assert levels(findings)["401 Unauthorized"] == "fail"
    assert any(f.level == "warn" and "does not look like an Atlassian API token" in f.detail for f in findings)
    assert "API token" in next(f.fix for f in findings if f.title == "401 Unauthorized")


def test_check_cloud_username_must_be_an_email(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=5)
    findings = run_check(sim, {"type": "basic", "username": "svc-udc", "password": sim.api_token})
    assert any(f.level == "warn" and "is not an email address" in f.detail for f in findings)
    assert levels(findings)["401 Unauthorized"] == "fail"


def test_check_dc_bad_pat_and_captcha(make_sim: SimFactory) -> None:
    sim = make_sim("data_center", issues=5, captcha_after=1)
    findings = run_check(sim, {"type": "bearer", "token": "expired"})
    assert levels(findings)["401 Unauthorized"] == "fail"
    assert "personal access token" in next(f.fix for f in findings if f.title == "401 Unauthorized")
    run_check(sim, {"type": "basic", "username": sim.username, "password": "wrong"})  # one failure: locked now
    findings = run_check(sim, {"type": "basic", "username": sim.username, "password": sim.password})
    assert levels(findings)["CAPTCHA lockout"] == "fail"
    assert "CAPTCHA_CHALLENGE" in next(f.detail for f in findings if f.title == "CAPTCHA lockout")


def test_check_projects_missing_invisible_or_empty(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=20, projects=["OPS", "NET", ("SEC", "hidden"), "EMPTY"])
    for issue in [i for i in sim.visible_issues() if i.project.key == "EMPTY"]:
        sim.delete_issue(issue.key)
    findings = run_check(sim, jql="project in (OPS, SEC, EMPTY, NOPE)")
    got = levels(findings)
    assert got["project OPS"] == "ok" and got["project EMPTY"] == "warn"
    assert got["project SEC"] == "fail" and got["project NOPE"] == "fail"
    assert got["jql"] == "fail"
    detail = next(f.detail for f in findings if f.title == "jql")
    assert "does not exist or this account cannot see it" in detail


def test_check_reports_rate_limiting(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=5)
    sim.faults.retry_after = 0
    sim.faults.script(["429"])
    findings = run_check(sim)
    assert levels(findings)["rate limiting"] == "warn"
    sim.set_rate_limit(0, retry_after=0)  # every request throttled
    findings = run_check(sim)
    assert levels(findings)["rate limited"] == "fail"
    assert "Retry-After" in next(f.detail for f in findings if f.title == "rate limited")


def test_connector_sends_nothing_but_get_and_the_right_auth(make_sim: SimFactory) -> None:
    for deployment in DEPLOYMENTS:
        sim = make_sim(deployment, issues=40, now=T0)
        source = source_for(sim)
        for s in source.streams():
            read_all(s, EVERYTHING)
        source.close()
        assert {r.method for r in sim.requests} == {"GET"}
        expected = auth_for(sim)
        for request in sim.requests:
            header = request.headers["authorization"]
            if expected["type"] == "basic":
                assert base64.b64decode(header.split()[1]).decode() == f"{sim.email}:{sim.api_token}"
            else:
                assert header == f"Bearer {sim.pat}"


def test_updated_offsets_follow_dst_and_cursors_are_utc(make_sim: SimFactory) -> None:
    sim = make_sim("data_center", issues=0, projects=["OPS", "NET"], tz="America/Los_Angeles")
    winter = sim.create_issue("OPS", at=datetime(2025, 1, 10, 20, 0, tzinfo=UTC))
    summer = sim.create_issue("OPS", at=datetime(2025, 7, 10, 20, 0, tzinfo=UTC))
    source = source_for(sim, tables=["issues"])
    issues = stream(source, "issues")
    records = {r["id"]: r for r in read_all(issues, Window(None, datetime(2026, 1, 1, tzinfo=UTC)))[0]}
    assert records[str(winter.id)]["updated"].endswith("-0800")
    assert records[str(summer.id)]["updated"].endswith("-0700")
    assert issues.cursor_of(records[str(summer.id)]) == "2025-07-10T20:00:00.000000Z"
    assert parse_time(records[str(winter.id)]["updated"]) == winter.updated


def test_discover_lists_tables_and_issue_fields(make_sim: SimFactory) -> None:
    from jira_helpers import config_for

    from udc.sources.discovery import discover

    sim = make_sim("cloud", issues=5)
    config = config_for(sim, None)
    tables = discover(config, "jira")
    assert set(tables) == {"issues", "comments", "issue_links", "projects"}
    assert {"summary", "updated", "issuelinks", "comment"} <= set(tables["issues"])
    assert discover(config, "jira", "issues") == {"issues": tables["issues"]}
    assert tables["issues"]["updated"] == "datetime" and tables["comments"]["created"] == "datetime"


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_changelog_is_kept_when_asked(make_sim: SimFactory, deployment: str) -> None:
    sim = make_sim(deployment, issues=0, projects=["OPS", "NET"])
    issue = sim.create_issue("OPS", "before", at=T0)
    sim.update_issue(issue.key, at=T0 + timedelta(minutes=1), summary="after")
    source = source_for(sim, tables=["issues"], expand_changelog=True)
    records, _ = read_all(stream(source, "issues"), EVERYTHING)
    history = records[0]["changelog"]["histories"]
    assert history[0]["items"][0]["fromString"] == "before" and history[0]["items"][0]["toString"] == "after"
    searches = [r for r in sim.data_requests() if "search" in r.path and r.arg("maxResults") != "1"]
    assert all(r.arg("expand") == "changelog" for r in searches)
