"""`udc check` runs the product doc's troubleshooting playbook against the ServiceNow simulator: one verdict per
case, with the doc's fix, exit 0 only when healthy."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from check_helpers import PLAIN, SECRET, by_title, failures, run_check, write_config
from typer.testing import CliRunner

from udc.cli import app
from udc.config import load_config
from udc.simulators.servicenow import Access, ServiceNowSim
from udc.store import open_store
from udc.sync.engine import Engine


def test_healthy_connector_exits_zero(snow: ServiceNowSim, tmp_path: Path) -> None:
    result, report = run_check(write_config(tmp_path, snow.url))
    assert result.exit_code == 0 and report["healthy"] is True
    assert failures(report) == []
    titles = {f["title"] for f in report["findings"] if f["level"] == "ok"}
    assert {"connection and credentials", "table read access", "page size on incident"} <= titles
    assert all(r.method == "GET" for r in snow.requests)
    text = CliRunner().invoke(app, ["check", "--connector", "snow", "-c", str(write_config(tmp_path, snow.url))])
    assert text.exit_code == 0 and "verdict: healthy" in text.stdout


def test_wrong_password_with_special_characters(snow: ServiceNowSim, tmp_path: Path) -> None:
    snow.users["svc_udc"] = "the password was rotated"
    result, report = run_check(write_config(tmp_path, snow.url))
    assert result.exit_code == 1
    (finding,) = failures(report)
    assert finding["title"] == "401 Unauthorized"
    assert "GET /api/now/table/incident?sysparm_limit=1" in finding["detail"]
    assert "problem is on the source side" in finding["detail"]
    fix = finding["fix"]
    assert "rotated, locked, or had its password reset" in fix
    assert "regenerate it without them" in fix and "`" in fix and "&" in fix
    assert "proxy IP" in fix or "static-IP" in fix
    assert SECRET not in result.stdout


def test_wrong_plain_password_gets_no_special_character_advice(snow: ServiceNowSim, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOW_PASSWORD", PLAIN)
    _, report = run_check(write_config(tmp_path, snow.url))
    (finding,) = failures(report)
    assert finding["title"] == "401 Unauthorized" and "regenerate" not in finding["fix"]


def test_oauth_wrong_client_secret(snow: ServiceNowSim, tmp_path: Path) -> None:
    snow.oauth_clients["udc-client"] = "a different secret"
    result, report = run_check(write_config(tmp_path, snow.url, auth="oauth"))
    assert result.exit_code == 1
    (finding,) = failures(report)
    assert finding["title"] == "401 Unauthorized (OAuth)"
    assert "client_id and client_secret" in finding["fix"] and "token endpoint URL" in finding["fix"]
    assert [r.path for r in snow.requests] == ["/oauth_token.do"]


def test_oauth_wrong_token_url(snow: ServiceNowSim, tmp_path: Path) -> None:
    config = write_config(tmp_path, snow.url, auth="oauth", token_url=f"{snow.url}/oauth/token")
    _, report = run_check(config)
    (finding,) = failures(report)
    assert finding["title"] == "OAuth token URL wrong" and "/oauth_token.do" in finding["fix"]


def test_authenticated_but_zero_records_names_the_tables(snow: ServiceNowSim, tmp_path: Path) -> None:
    snow.access["svc_udc"] = Access(unreadable_tables={"problem", "change_request"})
    result, report = run_check(write_config(tmp_path, snow.url, tables="[incident, problem, change_request]"))
    assert result.exit_code == 1
    finding = by_title(report, "authenticated, but zero records")
    assert finding["level"] == "fail"
    assert "problem, change_request" in finding["detail"] and "incident" not in finding["detail"]
    assert "table-level read" in finding["fix"] and "problem, change_request" in finding["fix"]
    assert "records readable in incident" in by_title(report, "table read access")["detail"]


def test_403_on_a_filter_field_names_the_field(snow: ServiceNowSim, tmp_path: Path) -> None:
    snow.access["svc_udc"] = Access(unreadable_fields={"incident": {"caller_id"}})
    config = write_config(tmp_path, snow.url, tables="[{name: incident, filter: active=true^caller_idISNOTEMPTY}]")
    result, report = run_check(config)
    assert result.exit_code == 1
    finding = by_title(report, "403 on the filter of incident")
    assert "caller_id" in finding["detail"] and "active" not in finding["detail"].split("field(s)")[1]
    assert "incident.caller_id" in finding["fix"]


def test_502_on_a_date_range_names_the_record_and_the_field_to_omit(snow: ServiceNowSim, tmp_path: Path) -> None:
    big = snow.records("incident")[3]
    snow.mark_oversized("incident", big["sys_id"])
    result, report = run_check(write_config(tmp_path, snow.url, tables="[incident]", batch_size=50))
    finding = by_title(report, "502 on incident")
    assert finding["level"] == "warn"  # the sync survives it: stored without the field
    assert big["sys_id"] in finding["detail"] and big["sys_updated_on"] in finding["detail"]
    assert "without work_notes" in finding["detail"]
    assert "exclude_fields: [work_notes]" in finding["fix"] and "lower batch_size" in finding["fix"]
    assert big["sys_updated_on"][:10] in finding["fix"]
    assert result.exit_code == 0


def test_502_that_omitting_fields_cannot_fix_is_a_failure(snow: ServiceNowSim, tmp_path: Path) -> None:
    big = snow.records("incident")[0]
    snow.mark_oversized("incident", big["sys_id"])
    config = write_config(tmp_path, snow.url, tables="[{name: incident, omit_on_oversize: [comments]}]",
                          batch_size=20)
    result, report = run_check(config)
    assert result.exit_code == 1
    finding = by_title(report, "502 on incident")
    assert finding["level"] == "fail" and big["sys_id"] in finding["detail"] and "quarantines" in finding["detail"]
    assert "exclude_fields: [work_notes]" in finding["fix"]  # the probe still finds the culprit


def test_records_quarantined_by_earlier_syncs_are_reported(snow: ServiceNowSim, tmp_path: Path) -> None:
    big = snow.records("incident")[-1]["sys_id"]
    snow.mark_oversized("incident", big)
    config = write_config(tmp_path, snow.url, tables="[incident]", batch_size=40)
    cfg = load_config(config)
    assert Engine(cfg, open_store(cfg.store)).sync("p").status == "succeeded"
    _, report = run_check(config)
    finding = by_title(report, "records stored without free-text fields")
    assert big in finding["detail"] and finding["level"] == "warn"


def test_hibernating_instance_answers_html(snow: ServiceNowSim, tmp_path: Path) -> None:
    snow.hibernating = True
    result, report = run_check(write_config(tmp_path, snow.url))
    assert result.exit_code == 1
    (finding, skipped) = report["findings"]
    assert finding["title"] == "HTML instead of JSON" and "hibernating" in finding["fix"]
    assert "proxy" in finding["fix"] and "URL" in finding["fix"]
    assert skipped["level"] == "skip"


def test_dns_failure(snow: ServiceNowSim, tmp_path: Path) -> None:
    _, report = run_check(write_config(tmp_path, "https://udc-check-instance.invalid"))
    (finding,) = failures(report)
    assert finding["title"] == "DNS failure" and "udc-check-instance.invalid" in finding["detail"]


def test_refused_connection_points_at_proxy_and_allow_list(snow: ServiceNowSim, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _, report = run_check(write_config(tmp_path, f"http://127.0.0.1:{port}"))
    (finding,) = failures(report)
    assert finding["title"] == "connection refused"
    assert "allow-list" in finding["fix"] and "proxy" in finding["fix"]


def test_tls_failure(snow: ServiceNowSim, tmp_path: Path, self_signed: str) -> None:
    result, report = run_check(write_config(tmp_path, self_signed))
    assert result.exit_code == 1
    (finding,) = failures(report)
    assert finding["title"] == "TLS failure" and "CA certificate" in finding["fix"]


def test_unknown_connector_is_a_config_error(snow: ServiceNowSim, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--connector", "nope", "-c", str(write_config(tmp_path, snow.url))])
    assert result.exit_code == 2 and "no connector named 'nope'" in result.stderr


def test_healthy_oauth_connector_exits_zero_and_only_posts_to_the_token_endpoint(snow: ServiceNowSim,
                                                                                  tmp_path: Path) -> None:
    result, report = run_check(write_config(tmp_path, snow.url, auth="oauth"))
    assert result.exit_code == 0 and report["healthy"], report
    assert {(r.method, r.path) for r in snow.requests if r.method != "GET"} == {("POST", "/oauth_token.do")}
    assert "oauth_password auth" in by_title(report, "connection and credentials")["detail"]
