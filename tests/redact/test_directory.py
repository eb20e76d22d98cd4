"""Names from the source's own directory: with redaction on, a run reads the people the source knows (ServiceNow
sys_user, Salesforce User and Contact; Jira's in tests/jira) even when no user table is synced, and redacts their
names, logins and e-mail addresses wherever free text mentions them; accounts that are no person stay readable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from udc.check import run_check
from udc.config import RedactionConfig, load_config, parse_config
from udc.records import Person
from udc.redact import Redactor
from udc.simulators.salesforce import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SalesforceSim
from udc.simulators.servicenow import Access, ServiceNowSim
from udc.sources import build_source
from udc.store import open_store
from udc.sync.engine import Engine

KEY = "directory-key-0123456789abcdef"
START = datetime(2025, 1, 1, tzinfo=UTC)
AFTER_DATA = START + timedelta(days=200)
PASSWORD = "directory-pw-0123"

PRIYA = {"first_name": "Priya", "last_name": "Raman", "name": "Priya Raman", "user_name": "praman",
         "email": "priya.raman@acme.example", "phone": "+1 415 555 0142"}
BACKUP = {"name": "svc_backup", "user_name": "svc_backup", "email": "svc_backup@acme.example",
          "web_service_access_only": "true"}
FEED = {"first_name": "Monitoring", "last_name": "Feed", "name": "Monitoring Feed", "user_name": "monfeed",
        "email": "monfeed@acme.example", "web_service_access_only": "true"}
NOTE = ("2025-07-19 09:00:00 - System Administrator (Work notes)\n"
        "Hi Priya, praman cannot log in since the reset; Raman, Priya called twice. Wrote to "
        "priya.raman@acme.example from servicedesk@acme.example. The svc_backup job and monfeed (monfeed@acme.example) "
        "run on srv-bkp-01. Thanks, Priya Raman")


@pytest.fixture
def sim() -> Iterator[ServiceNowSim]:
    s = ServiceNowSim(seed=4, counts={"incident": 5, "sys_user": 10}, start=START, span=timedelta(days=30),
                      users={"svc_udc": PASSWORD, "no_users": PASSWORD},
                      access={"no_users": Access(unreadable_tables={"sys_user"})})
    s.clock = AFTER_DATA
    s.start()
    yield s
    s.stop()


def config_file(tmp_path: Path, sim: ServiceNowSim, user: str = "svc_udc", **redaction: object) -> Path:
    secret = tmp_path / "snow.pw"
    secret.write_text(PASSWORD)
    path = tmp_path / "udc.yaml"
    path.write_text(yaml.safe_dump({
        "store": f"sqlite:///{tmp_path / 'udc.db'}",
        "connectors": {"snow": {"type": "servicenow", "instance_url": sim.url,
                                "auth": {"type": "basic", "username": user, "password": f"file:{secret}"}}},
        "pipelines": {"p": {"connector": "snow", "tables": ["incident"],  # sys_user is not synced
                            "redaction": {"enabled": True, "key": "env:UDC_REDACTION_KEY", **redaction}}},
    }))
    return path


def test_servicenow_directory_names_are_redacted_without_syncing_sys_user(
        sim: ServiceNowSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UDC_REDACTION_KEY", KEY)
    for person in (PRIYA, BACKUP, FEED):
        sim.insert("sys_user", person, at=AFTER_DATA - timedelta(days=3))
    inc = sim.insert("incident", {"short_description": "Login fails", "work_notes": NOTE},
                     at=AFTER_DATA - timedelta(days=1))
    config = load_config(config_file(tmp_path, sim, keep_accounts=["mon*"]))
    store = open_store(config.store)
    summary = Engine(config, store).sync("p")
    assert summary.status == "succeeded", summary.warnings
    assert "snow/sys_user" not in store.dataset_counts("snow/")  # read for redaction, never stored
    notes = {pk: rec for pk, rec, _ in store.iter_records("snow/incident")}[inc]["work_notes"]
    store.close()

    for value in ("Priya", "Raman", "praman", "priya.raman"):
        assert value.lower() not in notes.lower(), value
    assert notes.count("<PERSON:") == 3 and notes.count("<USERNAME:") == 1 and notes.count("<EMAIL:") == 1
    # machine accounts survive: the role mailbox (by shape), a web-service-only user, one kept by keep_accounts
    for kept in ("servicedesk@acme.example", "svc_backup", "monfeed", "monfeed@acme.example", "srv-bkp-01",
                 "System Administrator"):
        assert kept in notes, kept
    # the directory's names are in the store only as keyed digests
    blob = b"".join(p.read_bytes() for p in tmp_path.rglob("udc.db*") if p.is_file()).decode("latin-1").lower()
    assert "raman" not in blob and "praman" not in blob


def test_an_unreadable_directory_is_a_warning_not_a_failure(sim: ServiceNowSim, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UDC_REDACTION_KEY", KEY)
    config = load_config(config_file(tmp_path, sim, user="no_users"))
    summary = Engine(config, open_store(config.store)).sync("p")
    assert summary.status == "succeeded"
    assert any("sys_user is not readable" in w and "grant this account read on sys_user" in w
               for w in summary.warnings), summary.warnings


def test_directory_off_reads_no_users(sim: ServiceNowSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UDC_REDACTION_KEY", KEY)
    config = load_config(config_file(tmp_path, sim, directory=False))
    assert Engine(config, open_store(config.store)).sync("p").status == "succeeded"
    assert not [r for r in sim.requests if "/table/sys_user" in r.path]


def test_salesforce_directory_lists_users_and_contacts() -> None:
    with SalesforceSim() as sf:
        config = parse_config({"connectors": {"sf": {"type": "salesforce", "instance_url": sf.url, "auth": {
            "type": "oauth_client_credentials", "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET}}},
            "pipelines": {"p": {"connector": "sf", "objects": [{"name": "Case"}]}}})
        source = build_source(config, "p")
        try:
            people = list(source.people())  # type: ignore[attr-defined]
        finally:
            source.close()
        contacts = [c for c in sf.data["Contact"].values() if not c.get("IsDeleted")]  # `query` skips deleted ones
    by_name = {p.name: p for p in people}
    assert by_name["Integration User"].machine and not by_name["Priya Raman"].machine
    assert by_name["Priya Raman"].user_name == "priya.raman@acme.example"
    assert {c["Name"] for c in contacts} <= set(by_name)
    assert all(p.phones for p in people if p.name in {c["Name"] for c in contacts if c.get("Phone")})


def test_learn_directory_rules() -> None:
    redactor = Redactor(RedactionConfig(enabled=True, key=SecretStr(KEY)), "rest")
    learned = redactor.learn_directory([
        Person(name="Grant Mark", first="Grant", last="Mark", user_name="mark", email="grant.mark@acme.example"),
        Person(name="Jane Doe", first="Jane", last="Doe", user_name="jdoe", email="jane.doe@acme.example"),
        Person(name="Backup Service", user_name="backup.service", machine=True),
        Person(name="svc_deploy", user_name="svc_deploy"),
        Person(name="Help Desk", first="Help", last="Desk", user_name="helpdesk", email="helpdesk@acme.example"),
    ])
    assert learned == {"people": 2, "logins": 3, "machines": 3}  # mark: a word, not shaped like a login
    text, counts = redactor.redact_text("jdoe and grant.mark asked; mark the ticket. backup.service, svc_deploy and "
                                        "helpdesk@acme.example are fine. jdoe_old, /srv/jdoe.")
    assert counts == {"USERNAME": 2}
    assert "mark the ticket" in text and "backup.service" in text and "svc_deploy" in text
    assert "helpdesk@acme.example" in text and "jdoe_old" in text and "/srv/jdoe" in text


def test_check_reports_the_directory_read(sim: ServiceNowSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UDC_REDACTION_KEY", KEY)
    for person in (PRIYA, BACKUP, FEED):
        sim.insert("sys_user", person, at=AFTER_DATA - timedelta(days=3))
    config = load_config(config_file(tmp_path, sim))
    readable = [f for f in run_check(config, "snow").findings if f.title == "p: redaction directory"]
    source = build_source(config, "p")  # what a sync learns from the same directory
    learned = Redactor(config.pipeline("p").redaction, "servicenow").learn_directory(source.people())  # type: ignore[attr-defined]
    source.close()
    assert learned["people"] >= 1 and learned["machines"] >= 2  # Priya; svc_backup and the monitoring feed
    assert [(f.level, f.detail) for f in readable] == [("ok", f"read {learned['people']} people ({learned['logins']} "
                                                              f"logins) and {learned['machines']} service accounts")]
    refused = [f for f in run_check(load_config(config_file(tmp_path, sim, user="no_users")), "snow").findings
               if f.title == "p: redaction directory"]
    assert [f.level for f in refused] == ["warn"] and "sys_user is not readable" in refused[0].detail
    assert "grant this account read on sys_user" in refused[0].fix
