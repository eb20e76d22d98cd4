"""The Salesforce connector against the simulator: auth errors as the doc's table, names checked before the sync,
keyset windows that lose nothing on ties, tombstones, query_limit and quota stops, session renewal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from udc.check import run_check
from udc.config import Config
from udc.config.salesforce import valid_field_path, valid_identifier
from udc.errors import ConfigError, QuotaExhausted, SourceError
from udc.records import Window
from udc.simulators.salesforce import SalesforceSim
from udc.sources import build_source
from udc.sources.salesforce import (
    TROUBLESHOOTING,
    SalesforceSource,
    TokenRefused,
    check,
    soql_datetime,
    window_soql,
)
from udc.store import Store
from udc.sync.engine import Engine

ConfigFactory = Callable[..., Config]

DOC = {t.key: t for t in TROUBLESHOOTING}
END = datetime(2030, 1, 1, tzinfo=UTC)


def source(config: Config) -> SalesforceSource:
    built = build_source(config, "sf-p")
    assert isinstance(built, SalesforceSource)
    return built


def read_all(src: SalesforceSource, window: Window | None = None) -> tuple[list[dict[str, Any]], list[Any]]:
    records, tombstones = [], []
    for stream in src.streams():
        for page in stream.read(window or Window(None, END), None):
            records += page.records
            tombstones += page.tombstones
    return records, tombstones


def queries(sim: SalesforceSim) -> list[str]:
    return [r.arg("q") or "" for r in sim.requests if r.path.endswith(("/query", "/queryAll"))]


def query_requests(sim: SalesforceSim) -> int:
    return sum(1 for r in sim.requests if "/query" in r.path)


def stored(store: Store, dataset: str) -> dict[str, tuple[dict[str, Any], bool]]:
    return {pk: (data, deleted) for pk, data, deleted in store.iter_records(dataset)}


# ------------------------------------------------------------------------------------------------------------ auth


@pytest.mark.parametrize(("setup", "key", "said"), [
    (lambda s: setattr(s, "run_as_user", None), "run_as_user", "no client credentials user enabled"),
    (lambda s: setattr(s, "scopes", {"refresh_token"}), "scope", "no valid scopes defined"),
    (lambda s: setattr(s, "client_secret", "rotated"), "credentials", "invalid_client"),
    (lambda s: setattr(s, "client_id", "another-key"), "credentials", "invalid_client_id"),
    (lambda s: setattr(s, "generic_login_domain", True), "domain", "request not supported on this domain"),
])
def test_each_token_error_gives_the_docs_message_and_fix(sim: SalesforceSim, make_config: ConfigFactory, setup: Any,
                                                         key: str, said: str) -> None:
    setup(sim)
    with pytest.raises(TokenRefused) as caught:
        source(make_config()).streams()
    error = caught.value
    assert error.trouble is DOC[key]
    assert said in error.message and DOC[key].cause in error.message
    assert DOC[key].fix == error.hint
    assert sim.token_requests == 1  # a refused grant is not retried


def test_doc_fixes_are_the_troubleshooting_table() -> None:
    assert DOC["run_as_user"].fix.startswith("Set the Run-As user in the Policies tab. See Assign the Run-As user.")
    assert DOC["execution_user"].fix == "Re-select the user from the dropdown. See Assign the Run-As user."
    assert DOC["scope"].fix.startswith("Add the api scope. See Enable OAuth and add the API scope.")
    assert DOC["credentials"].fix == ("Re-copy both values and provide them again. See Retrieve the Consumer Key "
                                      "and Secret.")
    assert DOC["domain"].fix.startswith("Use the My Domain URL, not login.salesforce.com")


@pytest.mark.parametrize("url", ["https://login.salesforce.com", "https://test.salesforce.com/",
                                 "https://LOGIN.salesforce.com:443/services"])
def test_generic_login_domain_is_refused_before_any_request(sim: SalesforceSim, make_config: ConfigFactory,
                                                            url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(instance_url=url)
    assert "My Domain URL" in str(caught.value)
    assert sim.requests == []


def test_generic_token_url_is_refused_before_any_request(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    config = make_config(auth={"type": "oauth_client_credentials", "client_id": "env:SF_CLIENT_ID",
                               "client_secret": "env:SF_CLIENT_SECRET",
                               "token_url": "https://login.salesforce.com/services/oauth2/token"})
    with pytest.raises(ConfigError) as caught:
        source(config)
    assert "request not supported on this domain" in caught.value.message
    assert sim.requests == []


def test_plain_http_is_refused_except_loopback(make_config: ConfigFactory) -> None:
    with pytest.raises(ConfigError, match="https"):
        make_config(instance_url="http://acme.my.salesforce.com")


def test_invalid_session_id_fetches_a_new_token(sim: SalesforceSim, make_config: ConfigFactory,
                                                store: Store) -> None:
    sim.max_batch = 200
    sim.expire_sessions_after = 4  # the session dies in the middle of paging
    summary = Engine(make_config(), store).sync("sf-p")
    assert summary.status == "succeeded"
    assert sim.token_requests == 2
    assert len(stored(store, "sf/Case")) == len(sim.records("Case", include_deleted=True))
    refused = [i for i, r in enumerate(sim.requests) if r.path.startswith("/services/data")][4]
    assert sim.requests[refused + 1].path == "/services/oauth2/token"  # the 401 was answered with a new token
    assert sim.requests[refused + 2].path == sim.requests[refused].path  # and the same request sent again


# ------------------------------------------------------------------------------------------------ names and fields


def test_identifier_rules() -> None:
    for good in ("Case", "Incident_Review__c", "acme__Escalation__c", "Account.Name", "Case__r.Subject",
                 "SystemModstamp", "ns__Field__c"):
        assert valid_field_path(good), good
    for bad in ("Case Study", "1Case", "Bad__Name__Thing__c", "trailing_", "Semi;colon", "Id) OR (Id", "a__"):
        assert not valid_identifier(bad), bad
    assert not valid_field_path("Account..Name")


def test_invalid_names_are_refused_before_any_request(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    with pytest.raises(ConfigError, match="not a valid Salesforce object API name"):
        source(make_config(objects=[{"name": "Case"}, {"name": "Bad__Name__Thing__c"}])).streams()
    with pytest.raises(ConfigError, match="not a supported Salesforce field name"):
        source(make_config(objects=[{"name": "Case", "fields": ["Subject", "Id FROM Account --"]}])).streams()
    assert sim.requests == []


def test_unknown_object_and_field_are_named_with_a_suggestion(make_config: ConfigFactory) -> None:
    with pytest.raises(ConfigError) as caught:
        source(make_config(objects=[{"name": "Incident_Reviews__c"}])).streams()
    assert "Incident_Reviews__c" in caught.value.message and "Incident_Review__c" in caught.value.hint
    with pytest.raises(ConfigError) as caught:
        source(make_config(objects=[{"name": "Case", "fields": ["Subject", "SupliedEmail"]}])).streams()
    assert "SupliedEmail" in caught.value.message and "SuppliedEmail" in caught.value.hint
    with pytest.raises(ConfigError, match="cursor_field 'CloseDate'"):
        source(make_config(cursor_field="CloseDate")).streams()


def test_wrong_api_version_is_named(make_config: ConfigFactory) -> None:
    with pytest.raises(ConfigError, match="API version v20.0 is not available"):
        source(make_config(connector={"api_version": "20.0"})).streams()


def test_no_fields_means_the_standard_fields_from_describe(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    records, _ = read_all(source(make_config()))
    standard = set(sim.standard_fields("Case"))
    assert {frozenset(r) for r in records} == {frozenset(standard)}
    assert "Escalation_Notes__c" not in standard and "Subject" in standard


def test_chosen_fields_only_without_attributes(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    config = make_config(objects=[{"name": "case", "fields": ["subject", "SuppliedEmail", "Account.Name",
                                                             "acme__Severity__c"]}])
    records, _ = read_all(source(config))
    assert records and all(set(r) == {"Id", "LastModifiedDate", "Subject", "SuppliedEmail", "Account.Name",
                                      "acme__Severity__c"} for r in records)
    by_id = {r["Id"]: r for r in records}
    some = next(r for r in sim.records("Case") if r["AccountId"])
    assert by_id[some["Id"]]["Account.Name"] == sim.data["Account"][some["AccountId"]]["Name"]
    assert "FROM Case WHERE" in queries(sim)[-1]  # canonical object name from describe


def test_custom_and_namespaced_objects(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    config = make_config(objects=[{"name": "Incident_Review__c", "fields": ["Root_Cause__c", "Case__r.Subject"]},
                                  {"name": "acme__Escalation__c", "fields": ["acme__Level__c"]}])
    records, _ = read_all(source(config))
    assert len(records) == len(sim.records("Incident_Review__c")) + len(sim.records("acme__Escalation__c"))


# --------------------------------------------------------------------------------------------------------- queries


def test_window_soql_shape() -> None:
    from udc.records import Position

    window = Window(datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, 0, 0, 0, 250000, tzinfo=UTC))
    q = window_soql("Case", ["Id", "LastModifiedDate"], "LastModifiedDate", window,
                    Position("2024-06-01T10:00:00.000000Z", "5005g0000000001AAA"))
    assert q == ("SELECT Id, LastModifiedDate FROM Case WHERE (LastModifiedDate > 2024-06-01T10:00:00Z OR "
                 "(LastModifiedDate = 2024-06-01T10:00:00Z AND Id > '5005g0000000001AAA')) AND "
                 "LastModifiedDate < 2025-01-01T00:00:00.250Z ORDER BY LastModifiedDate, Id")
    assert soql_datetime(datetime(2024, 1, 1, 5, tzinfo=UTC)) == "2024-01-01T05:00:00Z"


def test_requests_use_query_all_batch_size_and_next_records_url_as_given(sim: SalesforceSim,
                                                                         make_config: ConfigFactory) -> None:
    read_all(source(make_config(batch_size=50)))
    data = [r for r in sim.requests if "/query" in r.path]
    assert data[0].path == "/services/data/v61.0/queryAll"
    assert all(r.headers["sforce-query-options"] == "batchSize=200" for r in data)
    assert all(r.path.startswith("/services/data/v61.0/queryAll/") and not r.query for r in data[1:])
    assert len(data) == -(-len(sim.records("Case", include_deleted=True)) // 200)
    assert {r.method for r in sim.requests} == {"GET", "POST"}
    assert all(r.path == "/services/oauth2/token" for r in sim.requests if r.method == "POST")
    read_all(source(make_config(batch_size=5000)))
    assert sim.requests[-1].headers["sforce-query-options"] == "batchSize=2000"


def test_equal_timestamps_across_pages_lose_nothing(sim: SalesforceSim, make_config: ConfigFactory,
                                                    store: Store) -> None:
    sim.max_batch = 7  # Salesforce does not guarantee the batch size: pages end inside every tie
    ties = Counter(r["LastModifiedDate"] for r in sim.records("Case", include_deleted=True))
    assert ties.most_common(1)[0][1] > 200
    config = make_config(query_limit=10_000)
    summary = Engine(config, store).sync("sf-p")
    assert summary.status == "succeeded"
    got = stored(store, "sf/Case")
    expected = {r["Id"]: r for r in sim.records("Case", include_deleted=True)}
    assert set(got) == set(expected)
    assert {pk for pk, (_, deleted) in got.items() if deleted} == {i for i, r in expected.items() if r["IsDeleted"]}
    assert all(data["Subject"] == expected[pk]["Subject"] for pk, (data, deleted) in got.items() if not deleted)


def test_resume_at_a_tied_position_continues_strictly_after_it(sim: SalesforceSim, make_config: ConfigFactory
                                                               ) -> None:
    src = source(make_config())
    stream = src.streams()[0]
    pages = stream.read(Window(None, END), None)
    first = next(pages)
    assert first.position is not None
    rest = [r["Id"] for page in stream.read(Window(None, END), first.position) for r in page.records]
    head = [r["Id"] for r in first.records]
    live = {r["Id"] for r in sim.records("Case")}
    assert set(head).isdisjoint(rest) and set(head) | set(rest) == live


def test_soft_deletes_become_tombstones(sim: SalesforceSim, make_config: ConfigFactory, store: Store) -> None:
    sim.set_clock(datetime(2025, 7, 1, 12, tzinfo=UTC))
    config = make_config(mode="incremental", lag="30s")
    engine = Engine(config, store)
    engine.sync("sf-p", now=datetime(2025, 7, 1, 12, tzinfo=UTC))  # first cycle: starts from now, reads nothing
    engine = Engine(make_config(mode="historical", query_limit=1000), store)
    assert engine.sync("sf-p").status == "succeeded"
    victim = next(r["Id"] for r in sim.records("Case"))
    sim.advance(60)
    sim.delete("Case", victim)
    fresh = sim.insert("Case", {"Subject": "New after the seed"})
    Engine(config, store).sync("sf-p", now=sim.now() + timedelta(seconds=31))  # lag 30s: reads up to now+1s
    got = stored(store, "sf/Case")
    assert got[victim][1] is True and got[fresh] == (got[fresh][0], False)
    assert got[fresh][0]["Subject"] == "New after the seed"
    sim.advance(60)
    sim.undelete("Case", victim)
    Engine(config, store).sync("sf-p", now=sim.now() + timedelta(seconds=31))
    assert stored(store, "sf/Case")[victim][1] is False


# ------------------------------------------------------------------------------------------------- quota and limits


def test_query_limit_checkpoints_and_the_next_run_continues(sim: SalesforceSim, make_config: ConfigFactory,
                                                            store: Store) -> None:
    sim.max_batch = 100
    config = make_config(query_limit=4, objects=[{"name": "Case", "fields": ["Subject"]}])
    total = len(sim.records("Case", include_deleted=True))
    runs, statuses = 0, []
    while True:
        before = query_requests(sim)
        summary = Engine(config, store).sync("sf-p")
        runs += 1
        assert query_requests(sim) - before <= 4
        statuses.append(summary.status)
        if summary.status == "succeeded":
            break
        assert summary.status == "stopped"
        assert "query_limit of 4" in summary.streams[0].error
        assert runs < 20
    assert runs == -(-total // 400)  # four pages of 100 per run
    assert len(stored(store, "sf/Case")) == total
    assert query_requests(sim) == -(-total // 100)  # a resumed run's keyset query replaces a nextRecordsUrl call


def test_stops_before_the_configured_share_of_the_daily_quota(sim: SalesforceSim, make_config: ConfigFactory,
                                                              store: Store) -> None:
    sim.max_batch = 200
    sim.daily_limit, sim.api_usage = 1000, 795  # udc may use up to 80%: five more requests
    summary = Engine(make_config(max_api_share=0.8), store).sync("sf-p")
    assert summary.status == "stopped"
    error = summary.streams[0].error
    assert "80%" in error and "api-usage=800/1000" in error and "next run continues" in error
    assert sim.api_usage == 800
    assert len(stored(store, "sf/Case")) == 4 * 200  # describe used one request, four pages were stored
    sim.api_usage = 0  # a new day
    assert Engine(make_config(max_api_share=0.8), store).sync("sf-p").status == "succeeded"
    assert len(stored(store, "sf/Case")) == len(sim.records("Case", include_deleted=True))


def test_request_limit_exceeded_stops_cleanly(sim: SalesforceSim, make_config: ConfigFactory,
                                              store: Store) -> None:
    sim.max_batch = 200
    sim.daily_limit, sim.api_usage = 1000, 900
    sim.background_usage = 40  # other integrations spend the quota between our requests: the 403 comes first
    summary = Engine(make_config(max_api_share=1.0), store).sync("sf-p")
    assert summary.status == "stopped"
    assert "REQUEST_LIMIT_EXCEEDED" in summary.streams[0].error and "next run continues" in summary.streams[0].error
    assert len(stored(store, "sf/Case")) == 200  # records and tombstones of the one page that was answered
    state = store.get_state("sf-p", "historical:Case")
    assert state is not None and state["position"] is not None and not state["done"]


def test_quota_exhausted_is_a_clean_stop_type(make_config: ConfigFactory, sim: SalesforceSim) -> None:
    sim.daily_limit, sim.api_usage = 10, 10
    with pytest.raises(QuotaExhausted):
        source(make_config()).streams()


def test_rate_limit_defaults_to_five_per_interval(make_config: ConfigFactory) -> None:
    config = make_config(rate_limit=None)
    src = source(config)
    assert src.pipeline.rate_limit == 5 and src.pipeline.rate_limit_timeout_ms == 1000
    assert src.pipeline.query_limit == 50 and src.cursor == "LastModifiedDate"
    with pytest.raises(ConfigError, match="Query limit cannot be set to 0"):
        make_config(query_limit=0)


def test_query_errors_from_salesforce_are_explained(make_config: ConfigFactory) -> None:
    bad = "Status = 'New' AND Priority = 'High' OR IsClosed = true"
    config = make_config(objects=[{"name": "Case", "filter": bad}])
    stream = source(config).streams()[0]
    with pytest.raises(SourceError) as caught:
        list(stream.read(Window(None, END), None))
    assert "MALFORMED_QUERY" in caught.value.message and "udc discover" in caught.value.hint


def test_expired_query_locator_restarts_from_the_keyset(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    sim.max_batch = 300
    stream = source(make_config()).streams()[0]
    pages = stream.read(Window(None, END), None)
    seen = [r["Id"] for r in next(pages).records]
    sim.expire_locators()
    for page in pages:
        seen += [r["Id"] for r in page.records]
    assert sorted(seen) == sorted(r["Id"] for r in sim.records("Case"))


def test_filter_is_applied(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    records, _ = read_all(source(make_config(objects=[{"name": "Case", "fields": ["Status"],
                                                       "filter": "Status = 'Escalated'"}])))
    assert records and {r["Status"] for r in records} == {"Escalated"}
    assert len(records) == sum(1 for r in sim.records("Case") if r["Status"] == "Escalated")
    assert queries(sim)[-1].split(" ORDER BY ")[0].endswith(" AND (Status = 'Escalated')")


# ----------------------------------------------------------------------------------------------------------- check


def test_check_healthy_lists_each_troubleshooting_row(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    config = make_config(objects=["Case", "Incident_Review__c", "acme__Escalation__c"])
    findings = check("sf", config.connectors["sf"], config.pipelines["sf-p"])  # type: ignore[arg-type]
    assert [f.level for f in findings] == ["ok"] * len(findings)
    titles = [f.title for f in findings]
    assert all(any(row.error in t for t in titles) for row in TROUBLESHOOTING)
    assert {"daily API quota", "object Case", "object Incident_Review__c", "object acme__Escalation__c"} <= set(titles)
    report = run_check(config, "sf")
    assert report.healthy and [f.title for f in report.findings] == titles


@pytest.mark.parametrize(("setup", "key"), [
    (lambda s: setattr(s, "run_as_user", None), "run_as_user"),
    (lambda s: setattr(s, "scopes", set()), "scope"),
    (lambda s: setattr(s, "client_secret", "x"), "credentials"),
    (lambda s: setattr(s, "generic_login_domain", True), "domain"),
])
def test_check_reports_the_failing_row_with_its_fix(sim: SalesforceSim, make_config: ConfigFactory, setup: Any,
                                                    key: str) -> None:
    setup(sim)
    config = make_config()
    findings = check("sf", config.connectors["sf"], config.pipelines["sf-p"])  # type: ignore[arg-type]
    failed = [f for f in findings if f.level != "skip"]
    assert len(failed) == 1 and failed[0].level == "fail" and DOC[key].error in failed[0].title
    assert failed[0].fix == DOC[key].fix and DOC[key].cause in failed[0].detail
    assert len(findings) == len(TROUBLESHOOTING)  # every row of the table is listed
    assert not run_check(config, "sf").healthy


def test_check_names_an_object_the_run_as_user_cannot_see(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    config = make_config(objects=["Case", "Opportunity"])
    findings = check("sf", config.connectors["sf"], config.pipelines["sf-p"])  # type: ignore[arg-type]
    bad = [f for f in findings if f.level != "ok"]
    assert len(bad) == 1 and bad[0].level == "fail" and "authenticated but zero records" in bad[0].detail
    assert "Opportunity" in bad[0].detail and "Opportunity" in bad[0].fix and bad[0].title == "object Opportunity"


def test_check_quota_warning(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    sim.daily_limit, sim.api_usage = 100, 90
    config = make_config()
    findings = check("sf", config.connectors["sf"], config.pipelines["sf-p"])  # type: ignore[arg-type]
    quota = next(f for f in findings if f.title == "daily API quota")
    assert quota.level == "warn" and "90 of 100" in quota.detail
    case = next(f for f in findings if f.title == "object Case")
    assert case.level == "fail" and "80%" in case.detail  # a sync would stop there too; no day-long pacing


def test_check_names_a_refused_connection(make_config: ConfigFactory) -> None:
    config = make_config(instance_url="http://127.0.0.1:9")  # nothing listens on the discard port
    findings = check("sf", config.connectors["sf"], config.pipelines["sf-p"])  # type: ignore[arg-type]
    assert [f.level for f in findings] == ["fail"] and "127.0.0.1" in findings[0].detail


def test_describe_respects_the_quota_share_too(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    sim.daily_limit, sim.api_usage = 100, 95  # another integration used the org's quota
    src = source(make_config(objects=["Case", "Account"]))
    with pytest.raises(QuotaExhausted, match="80%"):
        src.streams()
    assert sum(1 for r in sim.requests if "describe" in r.path) == 1  # the first response told us; then stop


def test_rows_changing_while_paging_lose_nothing(sim: SalesforceSim, make_config: ConfigFactory) -> None:
    sim.max_batch = 200
    sim.set_clock(datetime(2025, 7, 1, tzinfo=UTC))
    stream = source(make_config()).streams()[0]
    end = datetime(2025, 6, 30, 12, tzinfo=UTC)
    before = {r["Id"] for r in sim.records("Case") if r["LastModifiedDate"] < end}
    pages = stream.read(Window(None, end), None)
    seen = [r["Id"] for r in next(pages).records]
    unread = next(r["Id"] for r in sorted(sim.records("Case"), key=lambda r: (r["LastModifiedDate"], r["Id"]))
                  if r["Id"] not in seen and r["Id"] in before)
    sim.update("Case", unread, {"Status": "Closed"})  # moves past the window's end while we page
    sim.update("Case", seen[0], {"Status": "Closed"})
    added = sim.insert("Case", {"Subject": "Created mid-sync"})
    seen += [r["Id"] for page in pages for r in page.records]
    assert set(seen) == before  # the query cursor is a snapshot: nothing moved out from under the pages
    later = [r["Id"] for page in stream.read(Window(end, sim.now() + timedelta(seconds=1)), None)
             for r in page.records]
    assert {unread, seen[0], added} <= set(later)  # the next window picks up every change
