"""The Salesforce simulator behaves like the real REST API described in docs/source-apis.md."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from udc.simulators.salesforce import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SalesforceSim, parse_soql

API = "/services/data/v61.0"
SF_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


def token(sim: SalesforceSim, **form: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    data.update(form)
    return httpx.post(f"{sim.url}/services/oauth2/token", data=data)


@pytest.fixture
def api(sim: SalesforceSim) -> httpx.Client:
    access = token(sim).json()["access_token"]
    return httpx.Client(base_url=sim.url, headers={"Authorization": f"Bearer {access}"})


def soql(api: httpx.Client, q: str, endpoint: str = "query", batch: int | None = None) -> httpx.Response:
    headers = {"Sforce-Query-Options": f"batchSize={batch}"} if batch else {}
    return api.get(f"{API}/{endpoint}", params={"q": q}, headers=headers)


def test_token_success_has_no_refresh_token_and_no_expiry(sim: SalesforceSim) -> None:
    body = token(sim).json()
    assert set(body) == {"access_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"}
    assert body["token_type"] == "Bearer" and body["issued_at"].isdigit() and "api" in body["scope"].split()


@pytest.mark.parametrize(("setup", "form", "error", "description"), [
    (lambda s: setattr(s, "run_as_user", None), {}, "invalid_grant", "no client credentials user enabled"),
    (lambda s: setattr(s, "scopes", {"refresh_token"}), {}, "invalid_grant", "no valid scopes defined"),
    (lambda s: None, {"client_secret": "wrong"}, "invalid_client", "invalid client credentials"),
    (lambda s: None, {"client_id": "wrong"}, "invalid_client_id", "client identifier invalid"),
    (lambda s: setattr(s, "generic_login_domain", True), {}, "invalid_request", "request not supported on this domain"),
])
def test_each_token_error_is_configurable(sim: SalesforceSim, setup: Any, form: dict[str, str], error: str,
                                          description: str) -> None:
    setup(sim)
    response = token(sim, **form)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_revoked_session_answers_invalid_session_id(sim: SalesforceSim, api: httpx.Client) -> None:
    assert api.get(f"{API}/sobjects/Case/describe").status_code == 200
    sim.revoke_sessions()
    response = api.get(f"{API}/sobjects/Case/describe")
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_usage_header_on_every_response_and_daily_quota_is_a_403(sim: SalesforceSim, api: httpx.Client) -> None:
    sim.daily_limit, sim.api_usage = 100, 98
    first = api.get(f"{API}/sobjects/Case/describe")
    assert first.headers["Sforce-Limit-Info"] == "api-usage=99/100"
    bad = soql(api, "SELECT Nope FROM Case")
    assert bad.status_code == 400 and bad.headers["Sforce-Limit-Info"] == "api-usage=100/100"
    over = soql(api, "SELECT Id FROM Case")
    assert over.status_code == 403 and over.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert over.headers["Sforce-Limit-Info"] == "api-usage=100/100"


def test_describe_standard_custom_and_namespaced(api: httpx.Client) -> None:
    case = api.get(f"{API}/sobjects/Case/describe").json()
    by_name = {f["name"]: f for f in case["fields"]}
    assert by_name["Subject"]["custom"] is False and by_name["Escalation_Notes__c"]["custom"] is True
    assert by_name["LastModifiedDate"]["type"] == "datetime"
    assert by_name["AccountId"]["relationshipName"] == "Account"
    review = api.get(f"{API}/sobjects/Incident_Review__c/describe").json()
    assert review["custom"] is True and review["name"] == "Incident_Review__c"
    namespaced = api.get(f"{API}/sobjects/acme__Escalation__c/describe").json()
    assert {"acme__Level__c", "Id", "LastModifiedDate"} <= {f["name"] for f in namespaced["fields"]}
    missing = api.get(f"{API}/sobjects/Nope__c/describe")
    assert missing.status_code == 404 and missing.json()[0]["errorCode"] == "NOT_FOUND"


def test_records_have_attributes_and_salesforce_datetimes(api: httpx.Client) -> None:
    body = soql(api, "SELECT Id, LastModifiedDate, SystemModstamp, Account.Name FROM Case LIMIT 5").json()
    assert body["totalSize"] == 5 and body["done"] is True
    for row in body["records"]:
        assert row["attributes"]["type"] == "Case" and row["attributes"]["url"].endswith(row["Id"])
        assert SF_TIME.match(row["LastModifiedDate"]) and row["SystemModstamp"] >= row["LastModifiedDate"]
        assert row["Account"] is None or set(row["Account"]) == {"attributes", "Name"}


def test_paging_follows_relative_next_records_url_with_clamped_batch_size(sim: SalesforceSim, api: httpx.Client
                                                                          ) -> None:
    live = len(sim.records("Case"))
    first = soql(api, "SELECT Id FROM Case ORDER BY Id", batch=50).json()  # below the minimum: 200
    assert len(first["records"]) == 200 and first["totalSize"] == live and not first["done"]
    assert first["nextRecordsUrl"].startswith(f"{API}/query/")
    seen = [r["Id"] for r in first["records"]]
    url = first["nextRecordsUrl"]
    while url:
        page = api.get(url).json()
        seen += [r["Id"] for r in page["records"]]
        url = page.get("nextRecordsUrl")
    assert seen == sorted(r["Id"] for r in sim.records("Case"))
    assert len(soql(api, "SELECT Id FROM Case", batch=5000).json()["records"]) == min(2000, live)


def test_query_all_returns_soft_deleted_rows(sim: SalesforceSim, api: httpx.Client) -> None:
    deleted = {r["Id"] for r in sim.records("Case", include_deleted=True) if r["IsDeleted"]}
    assert deleted
    live = soql(api, "SELECT Id, IsDeleted FROM Case", batch=2000).json()
    assert not any(r["IsDeleted"] for r in live["records"])
    every = soql(api, "SELECT Id, IsDeleted FROM Case WHERE IsDeleted = true", "queryAll").json()
    assert {r["Id"] for r in every["records"]} == deleted


def test_keyset_where_with_unquoted_datetimes_and_parentheses(sim: SalesforceSim, api: httpx.Client) -> None:
    rows = sorted(sim.records("Case"), key=lambda r: (r["LastModifiedDate"], r["Id"]))
    pivot = rows[400]
    at = pivot["LastModifiedDate"].strftime("%Y-%m-%dT%H:%M:%SZ")
    q = (f"SELECT Id, LastModifiedDate FROM Case WHERE (LastModifiedDate > {at} OR (LastModifiedDate = {at} "
         f"AND Id > '{pivot['Id']}')) AND LastModifiedDate < 2030-01-01T00:00:00Z ORDER BY LastModifiedDate, Id")
    got, url, first = [], None, soql(api, q, batch=200).json()
    page = first
    while True:
        got += [r["Id"] for r in page["records"]]
        url = page.get("nextRecordsUrl")
        if not url:
            break
        page = api.get(url).json()
    assert got == [r["Id"] for r in rows[401:]]


def test_ties_are_common(sim: SalesforceSim) -> None:
    stamps: dict[Any, int] = {}
    for row in sim.records("Case", include_deleted=True):
        stamps[row["LastModifiedDate"]] = stamps.get(row["LastModifiedDate"], 0) + 1
    assert max(stamps.values()) > 200  # a mass update spans more than one page of the smallest batch


@pytest.mark.parametrize(("q", "code"), [
    ("SELECT Id, Nope__c FROM Case", "INVALID_FIELD"),
    ("SELECT Id FROM Case WHERE LastModifiedDate > '2024-01-01T00:00:00Z'", "INVALID_FIELD"),
    ("SELECT Id FROM Case WHERE Description = 'x'", "INVALID_FIELD"),
    ("SELECT Id FROM Case WHERE Status = 'New' AND Priority = 'High' OR IsClosed = true", "MALFORMED_QUERY"),
    ("SELECT Id FROM Case WHERE LastModifiedDate > 2024-01-01T00:00:00", "MALFORMED_QUERY"),
    ("SELECT Id FROM Case ORDER", "MALFORMED_QUERY"),
    ("SELECT Id FROM Cases", "INVALID_TYPE"),
])
def test_query_errors(api: httpx.Client, q: str, code: str) -> None:
    response = soql(api, q)
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code


def test_run_as_user_sees_zero_rows_of_a_hidden_object(sim: SalesforceSim, api: httpx.Client) -> None:
    assert sim.records("Opportunity", visible_only=False)
    assert soql(api, "SELECT Id FROM Opportunity").json() == {"totalSize": 0, "done": True, "records": []}


def test_mutations_move_the_cursor_and_clock(sim: SalesforceSim, api: httpx.Client) -> None:
    from datetime import UTC, datetime

    sim.set_clock(datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    new = sim.insert("Case", {"Subject": "Printer on fire"})
    sim.advance(60)
    sim.update("Case", new, {"Status": "Closed"})
    row = soql(api, f"SELECT Status, LastModifiedDate, CreatedDate FROM Case WHERE Id = '{new}'").json()["records"][0]
    assert row["Status"] == "Closed" and row["LastModifiedDate"] == "2026-01-01T12:01:00.000+0000"
    assert row["CreatedDate"] == "2026-01-01T12:00:00.000+0000"
    sim.delete("Case", new)
    assert soql(api, f"SELECT Id FROM Case WHERE Id = '{new}'").json()["totalSize"] == 0
    assert soql(api, f"SELECT Id FROM Case WHERE Id = '{new}'", "queryAll").json()["totalSize"] == 1


def test_parser_reads_the_subset() -> None:
    query = parse_soql("select Id, Account.Name from Case where (A > 2024-01-01T00:00:00.000+0000 or B = 'x\\'y') "
                       "and not C in ('a', 'b') order by A desc nulls last, Id limit 10 offset 5")
    assert query.sobject == "Case" and [f for f, _ in query.fields] == ["Id", "Account.Name"]
    assert query.limit == 10 and query.offset == 5 and query.order[0][:3] == ("A", True, True)
