"""End to end through the command line: a udc.yaml with a Salesforce connector, `udc sync`, `udc export`,
`udc check` and `udc discover` against the simulator; only GETs and token POSTs reach it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from stores import Backend
from udc.simulators.salesforce import SalesforceSim

CONFIG = """\
store: {store}
connectors:
  sf:
    type: salesforce
    instance_url: {url}
    auth: {{type: oauth_client_credentials, client_id: env:SF_CLIENT_ID, client_secret: env:SF_CLIENT_SECRET}}
pipelines:
  sf-hist:
    connector: sf
    mode: historical
    start_date: 2024-06-01
    rate_limit: 1000
    objects:
      - name: Case
        fields: [CaseNumber, Subject, SuppliedEmail, Account.Name]
      - name: Incident_Review__c
      - name: acme__Escalation__c
        fields: [acme__Level__c]
"""


def write_config(tmp_path: Path, sim: SalesforceSim) -> Path:
    path = tmp_path / "udc.yaml"
    path.write_text(CONFIG.format(store=Backend.store_url(tmp_path / "udc.db"), url=sim.url))
    return path


def test_sync_then_export_through_the_cli(sim: SalesforceSim, tmp_path: Path) -> None:
    from udc.cli import app

    config = str(write_config(tmp_path, sim))
    runner = CliRunner()
    result = runner.invoke(app, ["sync", "--pipeline", "sf-hist", "--config", config])
    assert result.exit_code == 0, result.output
    exported = runner.invoke(app, ["export", "--pipeline", "sf-hist", "--table", "Case", "--config", config])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in exported.stdout.splitlines() if line.startswith("{")]
    since = "2024-06-01T00:00:00"
    expected = {r["Id"]: r for r in sim.records("Case", include_deleted=True)
                if r["LastModifiedDate"].isoformat() >= since}
    live = [r for r in rows if not r["_deleted"]]
    assert {r["Id"] for r in live} == {i for i, r in expected.items() if not r["IsDeleted"]}
    assert all(set(r) == {"Id", "LastModifiedDate", "CaseNumber", "Subject", "SuppliedEmail", "Account.Name",
                          "_deleted"} for r in live)
    # rows deleted before udc ever saw them are kept as tombstones (exported without their fields)
    assert sum(1 for r in rows if r["_deleted"]) == sum(1 for r in expected.values() if r["IsDeleted"])
    assert {r.method for r in sim.requests} <= {"GET", "POST"}
    assert {r.path for r in sim.requests if r.method == "POST"} == {"/services/oauth2/token"}


def test_check_and_discover_through_the_cli(sim: SalesforceSim, tmp_path: Path) -> None:
    from udc.cli import app

    config = str(write_config(tmp_path, sim))
    runner = CliRunner()
    healthy = runner.invoke(app, ["check", "--connector", "sf", "--config", config, "--json"])
    assert healthy.exit_code == 0, healthy.output
    assert json.loads(healthy.stdout)["healthy"] is True
    sim.scopes = {"refresh_token"}
    broken = runner.invoke(app, ["check", "--connector", "sf", "--config", config, "--json"])
    assert broken.exit_code == 1
    failed = [f for f in json.loads(broken.stdout)["findings"] if f["level"] == "fail"]
    assert len(failed) == 1 and "no valid scopes defined" in failed[0]["detail"]
    assert failed[0]["fix"].startswith("Add the api scope.")
    sim.scopes = {"api"}
    listing = runner.invoke(app, ["discover", "--connector", "sf", "--config", config, "--table", "Incident_Review__c"])
    assert listing.exit_code == 0, listing.output
    assert "Root_Cause__c" in listing.stdout
    listing = runner.invoke(app, ["discover", "--connector", "sf", "--config", config, "--table", "Incident_Review__c",
                                  "--json"])
    fields = json.loads(listing.stdout)["Incident_Review__c"]
    assert fields["Root_Cause__c"] and fields["LastModifiedDate"] == "datetime"  # each field's type
