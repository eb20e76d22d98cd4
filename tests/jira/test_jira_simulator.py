"""The Jira simulator behaves like Jira: JQL dates in the account's zone, paging contracts, caps, errors, auth, 429s.

Every v3 response the simulators serve in these tests is validated against the official spec on teardown
(see conftest.make_sim); a few tests also validate explicitly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from jira_helpers import SimFactory

from openapi_check import OpenApi
from udc.simulators.base import Request
from udc.simulators.jira import JiraSim, JqlError, adf, jira_time
from udc.timeutil import parse_time

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def client(sim: JiraSim) -> httpx.Client:
    if sim.deployment == "cloud":
        return httpx.Client(base_url=sim.url, auth=(sim.email, sim.api_token))
    return httpx.Client(base_url=sim.url, headers={"Authorization": f"Bearer {sim.pat}"})


def search(sim: JiraSim, jql: str, **params: Any) -> httpx.Response:
    path = "/rest/api/3/search/jql" if sim.deployment == "cloud" else "/rest/api/2/search"
    with client(sim) as http:
        return http.get(path, params={"jql": jql, **params})


def keys(response: httpx.Response) -> list[str]:
    return [i["key"] for i in response.json()["issues"]]


# -- JQL dates: the account's zone, DST, epoch ms -------------------------------------------------------------


@pytest.mark.parametrize(("zone", "literal", "utc"), [
    ("America/Los_Angeles", "2024/01/15 10:00", "2024-01-15T18:00:00+00:00"),  # PST, UTC-8
    ("America/Los_Angeles", "2024-07-15 10:00", "2024-07-15T17:00:00+00:00"),  # PDT, UTC-7
    ("Europe/Moscow", "2024/01/15 10:00", "2024-01-15T07:00:00+00:00"),  # UTC+3
    ("America/Los_Angeles", "2024/03/10 02:30", "2024-03-10T10:30:00+00:00"),  # in the spring-forward gap
    ("America/Los_Angeles", "2024/11/03 01:30", "2024-11-03T08:30:00+00:00"),  # ambiguous: the earlier offset
    ("UTC", "2024/01/15", "2024-01-15T00:00:00+00:00"),
])
def test_jql_date_literals_are_read_in_the_accounts_zone(make_sim: SimFactory, zone: str, literal: str,
                                                         utc: str) -> None:
    sim = make_sim(tz=zone, issues=0)
    assert sim.parse_date(literal, "updated") == datetime.fromisoformat(utc)


def test_epoch_milliseconds_and_periods(make_sim: SimFactory) -> None:
    sim = make_sim(issues=0, now=T0)
    assert sim.parse_date("1717243200000", "updated") == T0
    assert sim.parse_date("-1d", "updated") == T0 - timedelta(days=1)
    with pytest.raises(JqlError, match="Date value '2024-13-01' for field 'updated' is invalid"):
        sim.parse_date("2024-13-01", "updated")


def test_updated_is_rendered_with_the_accounts_offset_following_dst() -> None:
    from zoneinfo import ZoneInfo

    la = ZoneInfo("America/Los_Angeles")
    assert jira_time(datetime(2022, 12, 8, 10, 22, 18, 889000, tzinfo=UTC), la) == "2022-12-08T02:22:18.889-0800"
    assert jira_time(datetime(2022, 7, 8, 10, 22, 18, 889000, tzinfo=UTC), la) == "2022-07-08T03:22:18.889-0700"
    assert jira_time(datetime(2022, 7, 8, 10, 22, 18, tzinfo=UTC), ZoneInfo("Europe/Moscow")) == \
        "2022-07-08T13:22:18.000+0300"


def test_search_filters_on_minute_literals_in_the_accounts_zone(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=0, projects=["OPS"], tz="America/Los_Angeles")
    before = sim.create_issue("OPS", at=datetime(2024, 1, 15, 17, 59, 59, tzinfo=UTC))
    at = sim.create_issue("OPS", at=datetime(2024, 1, 15, 18, 0, 0, tzinfo=UTC))
    after = sim.create_issue("OPS", at=datetime(2024, 1, 15, 18, 0, 30, tzinfo=UTC))
    found = search(sim, 'project = OPS AND updated >= "2024/01/15 10:00" ORDER BY updated ASC', fields="updated")
    assert keys(found) == [at.key, after.key]
    naive_utc = search(sim, 'project = OPS AND updated >= "2024/01/15 18:00"', fields="updated")
    assert keys(naive_utc) == []  # the trap: a UTC literal is eight hours late in Los Angeles
    assert keys(search(sim, f"project = OPS AND updated < {int(at.updated.timestamp() * 1000)}", fields="updated")) == \
        [before.key]
    rendered = search(sim, "project = OPS ORDER BY key", fields="updated").json()["issues"][0]["fields"]["updated"]
    assert rendered.endswith("-0800") and parse_time(rendered) == before.updated


def test_jql_subset(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=30, projects=["OPS", "NET", ("SEC", "hidden")])
    ops = {i.key for i in sim.visible_issues() if i.project.key == "OPS"}
    both = {i.key for i in sim.visible_issues()}
    assert set(keys(search(sim, "project = OPS", maxResults=100, fields="summary"))) == ops
    assert set(keys(search(sim, "project in (OPS, NET)", maxResults=100, fields="summary"))) == both
    assert set(keys(search(sim, 'project IN ("OPS") AND NOT project = NET', maxResults=100, fields="summary"))) == ops
    ordered = search(sim, "project in (OPS, NET) ORDER BY updated ASC, key", maxResults=100, fields="updated")
    stamps = [(parse_time(i["fields"]["updated"]), i["key"]) for i in ordered.json()["issues"]]
    assert [s for s, _ in stamps] == sorted(s for s, _ in stamps)


@pytest.mark.parametrize(("jql", "message"), [
    ("project = SEC", "The value 'SEC' does not exist for the field 'project'."),
    ("project in (OPS, NOPE)", "The value 'NOPE' does not exist for the field 'project'."),
    ("projct = OPS", "Field 'projct' does not exist or you do not have permission to view it."),
    ('updated >= "yesterday"', "Date value 'yesterday' for field 'updated' is invalid."),
    ("order by key", "Unbounded JQL queries are not allowed here."),
])
def test_jql_errors_are_400_with_jiras_messages(make_sim: SimFactory, openapi: OpenApi, jql: str,
                                                message: str) -> None:
    sim = make_sim("cloud", issues=5)
    response = search(sim, jql)
    assert response.status_code == 400
    assert message in response.json()["errorMessages"][0]
    openapi.check_response("/rest/api/3/search/jql", "GET", 400, response.json())


# -- Cloud search contract ----------------------------------------------------------------------------------------


def test_cloud_search_returns_ids_only_by_default_and_no_total(make_sim: SimFactory, openapi: OpenApi) -> None:
    sim = make_sim("cloud", issues=120)
    body = search(sim, "project in (OPS, NET)").json()
    openapi.check_response("/rest/api/3/search/jql", "GET", 200, body)
    assert "total" not in body and body["isLast"] is False and body["nextPageToken"]
    assert len(body["issues"]) == 50  # maxResults defaults to 50
    assert all(set(issue) == {"id"} for issue in body["issues"])


def test_cloud_pages_end_on_is_last_and_cap_page_size(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=250, cloud_page_cap=30)
    expected = {i.key for i in sim.visible_issues()}
    got: list[str] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"fields": "summary,updated", "maxResults": 1000}
        if token:
            params["nextPageToken"] = token
        body = search(sim, "project in (OPS, NET) ORDER BY updated ASC, key", **params).json()
        pages += 1
        assert len(body["issues"]) <= 30  # fewer than asked, silently
        got += [i["key"] for i in body["issues"]]
        token = body.get("nextPageToken")
        if body["isLast"]:
            assert token is None
            break
    assert sorted(got) == sorted(expected) and pages == -(-len(expected) // 30)


def test_cloud_rejects_a_token_for_another_query_and_the_removed_search(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=200)
    token = search(sim, "project = OPS", fields="id").json()["nextPageToken"]
    assert search(sim, "project = NET", nextPageToken=token).status_code == 400
    with client(sim) as http:
        assert http.get("/rest/api/3/search", params={"jql": "project = OPS"}).status_code == 410
        assert http.get("/rest/api/2/search", params={"jql": "project = OPS"}).status_code == 410


def test_cloud_post_search(make_sim: SimFactory, openapi: OpenApi) -> None:
    sim = make_sim("cloud", issues=20)
    with client(sim) as http:
        response = http.post("/rest/api/3/search/jql", json={"jql": "project = OPS", "fields": ["summary"],
                                                             "maxResults": 5})
    assert response.status_code == 200 and len(response.json()["issues"]) == 5
    assert all("summary" in i["fields"] for i in response.json()["issues"])


# -- Data Center search contract -----------------------------------------------------------------------------------


def test_dc_search_has_total_and_silently_caps_max_results(make_sim: SimFactory) -> None:
    sim = make_sim("data_center", issues=90, dc_page_cap=25)
    body = search(sim, "project in (OPS, NET) ORDER BY key", maxResults=1000, startAt=10).json()
    assert body["total"] == len(sim.visible_issues()) and body["startAt"] == 10
    assert body["maxResults"] == 25 and len(body["issues"]) == 25
    issue = body["issues"][0]
    assert isinstance(issue["fields"]["description"], str)  # v2: plain strings, not ADF
    assert "summary" in issue["fields"]  # DC returns navigable fields by default
    with client(sim) as http:
        assert http.get("/rest/api/3/myself").status_code == 404  # no v3 on Data Center


# -- comments, links, ADF ---------------------------------------------------------------------------------------------


def test_embedded_comments_cap_at_20_and_the_endpoint_pages_the_rest(make_sim: SimFactory, openapi: OpenApi) -> None:
    sim = make_sim("cloud", issues=0, projects=["OPS"])
    issue = sim.create_issue("OPS", at=T0)
    for n in range(27):
        sim.add_comment(issue.key, f"note {n}", at=T0 + timedelta(minutes=n))
    body = search(sim, "project = OPS", fields="comment").json()
    embedded = body["issues"][0]["fields"]["comment"]
    assert embedded["total"] == 27 and len(embedded["comments"]) == 20
    with client(sim) as http:
        first = http.get(f"/rest/api/3/issue/{issue.key}/comment", params={"maxResults": 10}).json()
        rest = http.get(f"/rest/api/3/issue/{issue.id}/comment", params={"startAt": 10}).json()
        missing = http.get("/rest/api/3/issue/OPS-999/comment")
    openapi.check_response("/rest/api/3/issue/X/comment", "GET", 200, first)
    assert first["total"] == 27 and len(first["comments"]) == 10 and len(rest["comments"]) == 17
    assert first["comments"][0]["body"]["type"] == "doc"
    assert missing.status_code == 404


def test_links_appear_on_both_ends(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=0, projects=["OPS"])
    a, b = sim.create_issue("OPS", at=T0), sim.create_issue("OPS", at=T0)
    link = sim.link(a.key, b.key, "Blocks", at=T0 + timedelta(hours=1))
    body = search(sim, "project = OPS ORDER BY key", fields="issuelinks,updated").json()
    on_a, on_b = (i["fields"]["issuelinks"] for i in body["issues"])
    assert on_a[0]["id"] == on_b[0]["id"] == link.id
    assert on_a[0]["outwardIssue"]["key"] == b.key and on_b[0]["inwardIssue"]["key"] == a.key
    assert on_a[0]["type"]["outward"] == "blocks"
    assert parse_time(body["issues"][0]["fields"]["updated"]) == T0 + timedelta(hours=1)  # linking updates both


def test_adf_document_shape() -> None:
    doc = adf("Hello\nworld\n\n- one\n- two\n\n```\ncode\n```")
    assert doc["type"] == "doc" and doc["version"] == 1
    assert [n["type"] for n in doc["content"]] == ["paragraph", "bulletList", "codeBlock"]


# -- auth, CAPTCHA, 429 -------------------------------------------------------------------------------------------


def test_cloud_basic_needs_the_api_token_not_the_password(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=0)
    assert httpx.get(sim.url + "/rest/api/3/myself", auth=(sim.email, sim.api_token)).status_code == 200
    refused = httpx.get(sim.url + "/rest/api/3/myself", auth=(sim.email, sim.password))
    assert refused.status_code == 401 and refused.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    assert httpx.get(sim.url + "/rest/api/3/myself").status_code == 401
    assert httpx.get(sim.url + "/rest/api/3/myself", headers={"Authorization": f"Bearer {sim.api_token}"}
                     ).status_code == 401


def test_dc_pat_and_captcha_after_failed_logins(make_sim: SimFactory) -> None:
    sim = make_sim("data_center", issues=0, captcha_after=2)
    assert httpx.get(sim.url + "/rest/api/2/myself", headers={"Authorization": f"Bearer {sim.pat}"}
                     ).status_code == 200
    assert httpx.get(sim.url + "/rest/api/2/myself", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert httpx.get(sim.url + "/rest/api/2/myself", auth=(sim.username, sim.password)).status_code == 200
    for _ in range(2):
        assert httpx.get(sim.url + "/rest/api/2/myself", auth=(sim.username, "wrong")).status_code == 401
    locked = httpx.get(sim.url + "/rest/api/2/myself", auth=(sim.username, sim.password))
    assert locked.status_code == 403
    assert locked.headers["X-Authentication-Denied-Reason"].startswith("CAPTCHA_CHALLENGE")


def test_myself_has_the_time_zone(make_sim: SimFactory, openapi: OpenApi) -> None:
    sim = make_sim("cloud", issues=0, tz="Europe/Moscow")
    with client(sim) as http:
        me = http.get("/rest/api/3/myself").json()
        projects = http.get("/rest/api/3/project").json()
        page = http.get("/rest/api/3/project/search").json()
    openapi.check_response("/rest/api/3/myself", "GET", 200, me)
    assert me["timeZone"] == "Europe/Moscow"
    assert [p["key"] for p in projects] == ["OPS", "NET"] == [p["key"] for p in page["values"]]  # SEC is hidden


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_rate_limit_rule_answers_429_with_headers(make_sim: SimFactory, deployment: str) -> None:
    ticks = [0.0]
    sim = make_sim(deployment, issues=0)
    sim.set_rate_limit(2, interval=10, retry_after=7, clock=lambda: ticks[0])
    path = "/rest/api/3/myself" if deployment == "cloud" else "/rest/api/2/myself"
    with client(sim) as http:
        assert [http.get(path).status_code for _ in range(3)] == [200, 200, 429]
        limited = http.get(path)
        ticks[0] = 10.0  # the window resets
        assert http.get(path).status_code == 200
    assert limited.headers["Retry-After"] == "7" and limited.headers["X-RateLimit-Remaining"] == "0"
    if deployment == "cloud":
        assert limited.headers["X-RateLimit-Reset"].endswith("Z")
    else:
        assert "X-RateLimit-FillRate" in limited.headers


def test_mutations_and_request_log(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=0, projects=["OPS"], now=T0)
    issue = sim.create_issue("OPS", "first")
    assert issue.updated == T0 and issue.key == "OPS-1"
    sim.advance(timedelta(minutes=5))
    sim.update_issue(issue.key, summary="changed")
    assert issue.updated == T0 + timedelta(minutes=5) and issue.summary == "changed"
    sim.delete_issue(issue.key)
    assert search(sim, "project = OPS", fields="id").json()["issues"] == []
    assert [r.path for r in sim.data_requests()] == ["/rest/api/3/search/jql"]


def test_the_spec_validator_catches_what_jira_would_not_send(openapi: OpenApi) -> None:
    """The teardown validation is only worth something if it fails on a wrong shape or a wrong parameter."""
    with pytest.raises(AssertionError, match="'total' was unexpected"):
        openapi.check_response("/rest/api/3/search/jql", "GET", 200, {"issues": [], "isLast": True, "total": 3})
    with pytest.raises(AssertionError, match="'startAt' is not in the spec"):
        openapi.check_request(Request("GET", "/rest/api/3/search/jql", {"jql": ["x"], "startAt": ["0"]}, {}, b""))
    with pytest.raises(AssertionError, match="maxResults"):
        openapi.check_request(Request("GET", "/rest/api/3/search/jql", {"maxResults": ["many"]}, {}, b""))
    good = {"jql": ["project = A"], "fields": ["summary,updated"], "maxResults": ["50"]}
    openapi.check_request(Request("GET", "/rest/api/3/search/jql", good, {}, b""))
