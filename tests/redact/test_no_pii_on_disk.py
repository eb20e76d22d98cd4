"""Issue 7's end-to-end test: PII planted in simulated ServiceNow records never reaches anything udc writes.

People (with their e-mails and phones) are planted in sys_user and named in incidents' free text, together with
cards, SSNs, IBANs and dates of birth; one incident is too large to fetch whole and is stored without its work notes
(and listed in quarantine). Then: a historical sync in this process (logs captured), an incremental cycle in a
`python -m udc sync -v` subprocess (stderr captured) that must recall a person it does not read again, `udc export`
(jsonl and csv) and `udc status`. Every byte of every file in the work directory (SQLite file, -wal, -shm, locks,
temp files, exports) and every captured stream is then searched for each planted value and its obvious variants.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from udc.config import load_config
from udc.simulators.servicenow import ServiceNowSim
from udc.store import Store, open_store
from udc.sync.engine import Engine

KEY = "e2e-redaction-key-0123456789abcdef"
START = datetime(2025, 1, 1, tzinfo=UTC)
AFTER_DATA = START + timedelta(days=200)
PASSWORD = "pa$$ w0rd`&%+\"é"

MARGUERITE = {"first_name": "Marguerite", "last_name": "Okonkwo-Lindqvist", "name": "Marguerite Okonkwo-Lindqvist",
              "user_name": "m.okonkwo", "email": "marguerite.okonkwo@clinic-example.org",
              "phone": "+1 415 867 5309", "mobile_phone": "+44 7700 900123"}
THADDEUS = {"first_name": "Thaddeus", "last_name": "Wojciechowski", "name": "Thaddeus Wojciechowski",
            "user_name": "t.wojciechowski", "email": "thaddeus.w@clinic-example.org", "phone": "+1 212 736 4127"}

# every planted value → the forms of it that must not appear anywhere (compared case-insensitively)
PLANTED: dict[str, list[str]] = {
    "name": ["Marguerite", "Okonkwo", "Lindqvist", "Thaddeus", "Wojciechowski"],
    "login": ["m.okonkwo", "t.wojciechowski"],
    "email": ["marguerite.okonkwo@clinic-example.org", "thaddeus.w@clinic-example.org",
              "j.doe+billing@example-mail.com", "j.doe+billing"],
    "phone": ["415 867 5309", "4158675309", "867-5309", "8675309", "7700 900123", "7700900123", "736-4127",
              "7364127", "2127364127"],
    "ssn": ["536-22-8019", "536228019", "536 22 8019"],
    "card": ["4111 1111 1111 1111", "4111111111111111", "4111-1111-1111-1111", "5555-5555-5555-4444",
             "5555555555554444"],
    "iban": ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82WEST12345698765432",
             "GB82 WEST 1234 5698 7654 32"],
    "dob": ["14/03/1987", "14031987", "1987-03-14", "19870314"],
    "username": ["qx.hollister7"],
    "address": ["4821 Juniper Terrace", "Juniper Terrace", "Flagstaff, AZ 86001"],
    "diagnosis": ["E11.9", "E119", "type 2 diabetes"],
    "member id": ["XGH5531029871"],
    "mrn": ["A48213377"],
    "bank account": ["70412938551"],
    "card expiry": ["09/34"],
    "passport": ["X90311248"],
    "licence": ["K8830172"],
    "national id": ["893873871", "893 873 871", "529.982.247-25", "52998224725", "AB 12 34 56 C", "AB123456C",
                    "980326-1586", "9803261586"],
}

INC_A = ("Caller Marguerite Okonkwo-Lindqvist (marguerite.okonkwo@clinic-example.org, +1 415 867 5309) reports that "
         "card 4111 1111 1111 1111 was declined at checkout. SSN 536-22-8019 on file; date of birth: 14/03/1987.")
INC_A_NOTES = ("2025-07-19 09:00:00 - Marguerite Okonkwo-Lindqvist (Work notes)\n"
               "Refund to IBAN DE89 3704 0044 0532 0130 00 approved. Backup contact j.doe+billing@example-mail.com, "
               "mobile +44 7700 900123.")
INC_B = ("Second ticket for Okonkwo-Lindqvist, Marguerite: e-mail marguerite.okonkwo@clinic-example.org, "
         "SSN 536-22-8019.")
INC_B_NOTES = ("2025-07-19 10:00:00 - System Administrator (Work notes)\nCard 5555-5555-5555-4444 and IBAN "
               "GB82WEST12345698765432 verified, DOB 1987-03-14. " + "Padding to make the journal large. " * 40)
INC_C = "Laptop LT-44011 handed over to Marguerite Okonkwo-Lindqvist at reception on srv-app-prd-001 (10.2.3.4)."
INC_E = ("Patient verified: MRN A48213377, member ID XGH5531029871, diagnosis E11.9 (type 2 diabetes). Bank acct "
         "70412938551, card on file exp 09/34. Ship to 4821 Juniper Terrace, Apt 7, Flagstaff, AZ 86001. "
         "user=qx.hollister7 cannot log in; passport X90311248; driver's license K8830172. Relocation file: BSN "
         "893 873 871, CPF 529.982.247-25, NI number AB 12 34 56 C, personnummer 980326-1586.")
INC_D = "Thaddeus Wojciechowski asked for a call back on (212) 736-4127 about SSN 536-22-8019."


def forbidden(blob: str) -> list[str]:
    folded = blob.casefold()
    return [f"{kind}: {v}" for kind, values in PLANTED.items() for v in values if v.casefold() in folded]


def every_file(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield path


def tokens(text: str, entity: str) -> list[str]:
    import re

    return re.findall(rf"<{entity}:[0-9a-f]{{8}}>", text)


@pytest.fixture
def sim() -> Iterator[ServiceNowSim]:
    s = ServiceNowSim(seed=11, counts={"incident": 80, "sys_user": 30, "change_request": 5, "problem": 5},
                      start=START, span=timedelta(days=180), users={"svc_udc": PASSWORD})
    s.clock = AFTER_DATA
    s.start()
    yield s
    s.stop()


def write_config(work: Path, sim: ServiceNowSim) -> Path:
    secret = work / "snow.pw"
    secret.write_text(PASSWORD)
    redaction = {"enabled": True, "key": "env:UDC_REDACTION_KEY"}
    # people last on purpose: the engine must still read them first
    tables = [{"name": "incident", "omit_on_oversize": ["work_notes"]}, "sys_user"]
    config = {
        "store": f"sqlite:///{work / 'udc.db'}",
        "connectors": {"snow": {"type": "servicenow", "instance_url": sim.url,
                                "auth": {"type": "basic", "username": "svc_udc", "password": f"file:{secret}"}}},
        "pipelines": {
            "hist": {"connector": "snow", "tables": tables, "redaction": redaction},
            "live": {"connector": "snow", "mode": "incremental", "lag": "1s", "tables": tables,
                     "redaction": redaction},
        },
    }
    path = work / "udc.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def udc(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "udc", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_no_planted_pii_in_anything_udc_writes(sim: ServiceNowSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    (work / "tmp").mkdir(parents=True)
    monkeypatch.setenv("UDC_REDACTION_KEY", KEY)
    for var in ("TMPDIR", "SQLITE_TMPDIR"):  # temp files land in the work dir, where they are searched too
        monkeypatch.setenv(var, str(work / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(work / "tmp"))
    caplog.set_level("DEBUG")

    marguerite = sim.insert("sys_user", MARGUERITE, at=AFTER_DATA - timedelta(days=3))
    thaddeus = sim.insert("sys_user", THADDEUS, at=AFTER_DATA - timedelta(days=3))
    at = AFTER_DATA - timedelta(days=1)
    inc_a = sim.insert("incident", {"caller_id": marguerite, "opened_by": marguerite, "sys_created_by": "m.okonkwo",
                                    "short_description": "Card declined", "description": INC_A,
                                    "work_notes": INC_A_NOTES}, at=at)
    inc_b = sim.insert("incident", {"caller_id": marguerite, "short_description": "Refund follow-up",
                                    "description": INC_B, "work_notes": INC_B_NOTES}, at=at)
    inc_c = sim.insert("incident", {"short_description": "Laptop hand-over", "description": INC_C}, at=at)
    inc_e = sim.insert("incident", {"short_description": "Patient portal", "description": INC_E}, at=at)
    sim.mark_oversized("incident", inc_b)  # the whole record fails: stored without work_notes, and listed
    raw = json.dumps([sim.records("incident"), sim.records("sys_user")])
    assert {found.split(":")[0] for found in forbidden(raw)} == set(PLANTED)  # the search does see every kind

    config_path = write_config(work, sim)
    config = load_config(config_path)
    store: Store = open_store(config.store)

    # run 1: historical, in this process
    summary = Engine(config, store).sync("hist")
    assert summary.status == "succeeded", summary.warnings
    stored = {pk: rec for pk, rec, _ in store.iter_records("snow/incident")}
    users = {pk: rec for pk, rec, _ in store.iter_records("snow/sys_user")}
    assert {inc_a, inc_b, inc_c, inc_e} <= stored.keys() and marguerite in users
    for entity in ("MRN", "HEALTH_PLAN_ID", "DIAGNOSIS", "BANK_ACCOUNT", "CARD_EXPIRY", "STREET_ADDRESS", "USERNAME",
                   "US_PASSPORT", "US_DRIVER_LICENSE", "NATIONAL_ID"):
        assert tokens(stored[inc_e]["description"], entity), entity
    assert len(tokens(stored[inc_e]["description"], "NATIONAL_ID")) == 4
    assert not stored[inc_b].get("work_notes")
    assert [(d, pk) for d, pk, _ in store.quarantined("snow/")] == [("snow/incident", inc_b)]

    # the same value gets the same token in every record and table
    user = users[marguerite]
    email, person = user["email"], user["name"]
    assert tokens(email, "EMAIL") == [email] and tokens(person, "PERSON") == [person]
    a, b, c = stored[inc_a], stored[inc_b], stored[inc_c]
    assert email in a["description"] and email in b["description"]
    assert person in a["description"] and person in a["work_notes"] and person in b["description"]
    assert person in c["description"]  # named only in free text: known because sys_user was redacted first
    assert a["sys_created_by"] == user["user_name"]
    assert tokens(a["description"], "US_SSN") == tokens(b["description"], "US_SSN") != []
    assert tokens(a["description"], "PHONE") == [user["phone"]]
    assert tokens(a["work_notes"], "PHONE") == [user["mobile_phone"]]
    for entity in ("CREDIT_CARD", "DATE_OF_BIRTH"):
        assert len(tokens(a["description"], entity)) == 1
    assert len(tokens(a["work_notes"], "IBAN")) == 1 and len(tokens(a["work_notes"], "EMAIL")) == 1
    assert "LT-44011" in c["description"] and "srv-app-prd-001" in c["description"]  # look-alikes kept
    assert a["number"].startswith("INC") and a["caller_id"] == marguerite  # join keys kept

    # run 2: an incremental cycle in a subprocess; Thaddeus is not read again (unchanged), only recalled
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    assert Engine(config, store).sync("live", now=t0).status == "succeeded"  # first cycle: starts at t0
    inc_d = sim.insert("incident", {"short_description": "Call back", "description": INC_D},
                       at=t0 + timedelta(minutes=10))
    env = {**os.environ, "UDC_REDACTION_KEY": KEY, "TMPDIR": str(work / "tmp"), "SQLITE_TMPDIR": str(work / "tmp"),
           "COLUMNS": "300"}
    run2 = udc("sync", "-c", str(config_path), "-p", "live", "-v", env=env, cwd=work)
    d = {pk: rec for pk, rec, _ in store.iter_records("snow/incident")}[inc_d]
    assert d["description"].startswith(users[thaddeus]["name"] + " asked")
    assert tokens(d["description"], "US_SSN") == tokens(a["description"], "US_SSN")  # stable across runs

    # exports and status
    out = work / "out"
    out.mkdir()
    for table in ("incident", "sys_user"):
        udc("export", "-c", str(config_path), "-p", "hist", "-t", table, "-o", str(out / f"{table}.jsonl"), env=env,
            cwd=work)
        udc("export", "-c", str(config_path), "-p", "hist", "-t", table, "-f", "csv", "-o", str(out / f"{table}.csv"),
            env=env, cwd=work)
    to_stdout = udc("export", "-c", str(config_path), "-p", "hist", "-t", "incident", env=env, cwd=work)
    status = udc("status", "-c", str(config_path), "-p", "hist", env=env, cwd=work)
    status_json = udc("status", "-c", str(config_path), "-p", "hist", "--json", env=env, cwd=work)

    lines = {line.split(":", 1)[0].strip(): line for line in status.stdout.splitlines() if "redacted in" in line}
    assert set(lines) == {"redacted in snow/incident", "redacted in snow/sys_user"}, status.stdout
    for entity in ("EMAIL", "PERSON", "PHONE", "US_SSN", "CREDIT_CARD", "IBAN", "DATE_OF_BIRTH"):
        assert f"{entity} " in lines["redacted in snow/incident"]
    for entity in ("EMAIL", "PERSON", "PHONE"):
        assert f"{entity} " in lines["redacted in snow/sys_user"]
    counts = json.loads(status_json.stdout)["hist"]["redactions"]
    assert counts["snow/incident"]["US_SSN"] == 3 and counts["snow/incident"]["CREDIT_CARD"] == 1
    assert all(isinstance(n, int) for table in counts.values() for n in table.values())

    # now search everything: every file udc wrote (the store and its -wal/-shm, locks, temp files, exports)...
    store.close()
    files = list(every_file(work))
    assert any(p.name == "udc.db" for p in files) and any(p.name.endswith("-wal") for p in files)
    leaks = {str(p.relative_to(work)): found for p in files if (found := forbidden(p.read_bytes().decode("latin-1")))}
    # ...and everything it said: logs, stdout/stderr of this process and of the subprocesses, run summaries
    captured = capfd.readouterr()
    streams = {"caplog": caplog.text, "stdout": captured.out, "stderr": captured.err,
               "sync stdout": run2.stdout, "sync stderr": run2.stderr, "export stdout": to_stdout.stdout,
               "status": status.stdout + status_json.stdout, "summary": json.dumps(summary.to_json())}
    leaks |= {name: found for name, text in streams.items() if (found := forbidden(text))}
    assert leaks == {}
    assert f"quarantined snow/incident {inc_b}: stored without work_notes" in status.stdout


def test_a_failing_redaction_leaves_no_value_in_errors_or_logs(sim: ServiceNowSim, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """A bug in redaction must not put the record it failed on into an error message, a log or the store."""
    from udc.redact.scanner import Scanner

    def broken(self: Scanner, text: str, *args: Any) -> Any:
        raise ValueError(f"cannot scan {text!r}")

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("UDC_REDACTION_KEY", KEY)
    monkeypatch.setattr(Scanner, "scan", broken)
    caplog.set_level("DEBUG")
    sim.insert("incident", {"short_description": "Card declined", "description": INC_A}, at=AFTER_DATA)
    config = load_config(write_config(work, sim))
    store = open_store(config.store)
    summary = Engine(config, store).sync("hist")
    assert summary.status == "failed"
    errors = [s.error for s in summary.streams if s.error]
    assert errors and all("RedactionFailed" in e or "redaction of a page" in e for e in errors)
    assert store.dataset_counts("snow/") == {}
    store.close()
    blobs = {str(p): p.read_bytes().decode("latin-1") for p in every_file(work)}
    blobs |= {"caplog": caplog.text, "summary": json.dumps(summary.to_json())}
    assert {name: found for name, blob in blobs.items() if (found := forbidden(blob))} == {}
