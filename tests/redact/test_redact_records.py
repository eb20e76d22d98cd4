"""The Redactor as the sync engine uses it: records redacted in place, per policy, counts out, values never out."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from pydantic import SecretStr

from udc.config import FieldPolicy, RedactionConfig, TablePolicy
from udc.errors import ConfigError
from udc.redact import RedactionFailed, Redactor

KEY = SecretStr("test-key-0123456789abcdef")
TOKEN = re.compile(r"<([A-Z_]+):([0-9a-f]{8})>")
SYS_ID = "5137153cc611227c000bbd1bd8cd2005"


def redactor(source: str = "servicenow", **policy: Any) -> Redactor:
    policy.setdefault("key", KEY)
    return Redactor(RedactionConfig(enabled=True, **policy), source)


def redact(r: Redactor, stream: str, record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    record = copy.deepcopy(record)
    counts = r.redact_records(stream, [record])
    return record, counts


# --- tokens ----------------------------------------------------------------------------------------------------------


def test_token_is_typed_and_stable_across_records_and_runs() -> None:
    records = [{"description": "mail jane.doe@example.com"}, {"description": "JANE.DOE@EXAMPLE.COM wrote"}]
    redactor().redact_records("incident", records)
    first = TOKEN.search(records[0]["description"])
    second = TOKEN.search(records[1]["description"])
    assert first and second and first.group(1) == "EMAIL" and first.group() == second.group()
    again, _ = redact(redactor(), "incident", {"description": "jane.doe@example.com"})
    assert again["description"] == first.group()  # a new run, same key: same token, so records still join


def test_token_depends_on_the_key_and_formatting_does_not_matter() -> None:
    a, _ = redact(redactor(), "t", {"d": "call (415) 555-2671"})
    b, _ = redact(redactor(), "t", {"d": "call +1 415 555 2671"})
    c, _ = redact(redactor(key=SecretStr("another-key-0123456789")), "t", {"d": "call (415) 555-2671"})
    assert a == b and a != c and a["d"].startswith("call <PHONE:")


def test_mask_and_drop_modes() -> None:
    masked, _ = redact(redactor(mode="mask"), "t", {"d": "ssn 123-45-6789 ok", "caller_id": "Fred Luddy"})
    assert masked == {"d": "ssn *********** ok", "caller_id": "**** *****"}
    dropped, _ = redact(redactor(mode="drop"), "t", {"d": "ssn 123-45-6789 ok", "caller_id": "Fred Luddy"})
    assert dropped == {"d": "ssn  ok", "caller_id": None}


def test_counts_per_entity_type_never_values() -> None:
    _, counts = redact(redactor(), "incident", {"d": "a@b.com c@d.org 81.2.69.142", "caller_id": "Fred Luddy"})
    assert counts == {"EMAIL": 2, "IP_ADDRESS": 1, "PERSON": 1}


# --- policy ----------------------------------------------------------------------------------------------------------


def test_per_table_and_per_field_overrides() -> None:
    policy = {
        "tables": {
            "incident": TablePolicy(mode="mask", fields={
                "close_notes": FieldPolicy(skip=True),
                "work_notes": FieldPolicy(entities=["EMAIL_ADDRESS"], mode="token"),
                "u_patient": FieldPolicy(whole=True, entities=["PERSON"]),
            }),
            "problem": TablePolicy(entities=["PHONE_NUMBER"]),
        },
    }
    r = redactor(**policy)
    text = "a@b.com 415-555-2671"
    inc, _ = redact(r, "incident", {"description": text, "close_notes": text, "work_notes": text, "u_patient": "X Y"})
    assert inc["description"] == "******* ************"
    assert inc["close_notes"] == text
    assert inc["work_notes"].startswith("<EMAIL:") and inc["work_notes"].endswith(" 415-555-2671")
    assert inc["u_patient"] == "* *"  # whole field, in the table's mode
    prb, _ = redact(r, "problem", {"description": text})
    assert prb["description"].startswith("a@b.com <PHONE:")


def test_nested_field_policy_applies_to_its_subtree() -> None:
    r = redactor("jira", tables={"issues": TablePolicy(fields={"fields.environment": FieldPolicy(skip=True)})})
    rec, _ = redact(r, "issues", {"fields": {"environment": {"text": "a@b.com"}, "summary": "a@b.com"}})
    assert rec["fields"]["environment"]["text"] == "a@b.com" and rec["fields"]["summary"].startswith("<EMAIL:")


def test_allow_list() -> None:
    rec, _ = redact(redactor(allow_list=["ServiceDesk@acme.com"]), "t", {"d": "servicedesk@acme.com, jo@acme.com"})
    assert rec["d"].startswith("servicedesk@acme.com, <EMAIL:")


def test_disabled_policy_changes_nothing() -> None:
    r = Redactor(RedactionConfig(), "servicenow")
    record = {"d": "a@b.com"}
    assert not r.enabled and r.redact_records("t", [record]) == {} and record == {"d": "a@b.com"}


def test_token_mode_without_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UDC_REDACTION_KEY", raising=False)
    with pytest.raises(ConfigError) as err:
        Redactor(RedactionConfig(enabled=True), "jira")
    assert "UDC_REDACTION_KEY" in str(err.value)
    Redactor(RedactionConfig(enabled=True, mode="mask"), "jira")  # mask and drop need no key


def test_key_from_environment_and_references(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("UDC_REDACTION_KEY", "k" * 32)
    assert Redactor(RedactionConfig(enabled=True), "jira").enabled
    monkeypatch.setenv("OTHER_KEY", "o" * 32)
    env_ref = Redactor(RedactionConfig(enabled=True, key=SecretStr("env:OTHER_KEY")), "jira")
    literal = Redactor(RedactionConfig(enabled=True, key=SecretStr("o" * 32)), "jira")
    assert env_ref.redact_text("a@b.com") == literal.redact_text("a@b.com")
    with pytest.raises(ConfigError, match="too short"):
        Redactor(RedactionConfig(enabled=True, key=SecretStr("short")), "jira")
    with pytest.raises(ConfigError, match="MISSING_KEY"):
        Redactor(RedactionConfig(enabled=True, key=SecretStr("env:MISSING_KEY")), "jira")


def test_unknown_entity_and_region_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="EMAIL"):
        redactor(entities=["EMAIL_ADRESS"])
    with pytest.raises(ConfigError, match="XX"):
        redactor(phone_regions=["US", "XX"])
    with pytest.raises(ConfigError):
        redactor(tables={"incident": TablePolicy(fields={"d": FieldPolicy(entities=["NOPE"])})})


def test_failure_never_carries_record_content(monkeypatch: pytest.MonkeyPatch) -> None:
    r = redactor()

    def boom(text: str, *args: Any) -> list[Any]:
        raise ValueError(f"cannot parse {text}")

    monkeypatch.setattr(r._scanner, "scan", boom)
    with pytest.raises(RedactionFailed) as err:
        r.redact_records("incident", [{"d": "secret 123-45-6789"}])
    assert "123-45-6789" not in str(err.value) and err.value.__suppress_context__


# --- schema-driven people fields ------------------------------------------------------------------------------------


def test_servicenow_references_keep_sys_id_and_drop_display_values() -> None:
    record = {
        "number": "INC0010001", "sys_id": SYS_ID,
        "caller_id": {"link": f"https://x.service-now.com/api/now/table/sys_user/{SYS_ID}", "value": SYS_ID,
                      "display_value": "Fred Luddy"},
        "assigned_to": SYS_ID, "opened_by": "Beth Anglin", "sys_created_by": "admin", "sys_updated_by": "beth.anglin",
        "caller_id.email": "fred.luddy@example.com", "caller_id.phone": "(415) 555-2671",
        "caller_id.name": "Fred Luddy",
        "assignment_group.name": "Service Desk", "cmdb_ci.name": "db01",
        "u_site_contact": {"link": f"https://x.service-now.com/api/now/table/sys_user/{SYS_ID}", "value": SYS_ID,
                           "display_value": "Beth Anglin"},
        "short_description": "Fred Luddy cannot log in",
    }
    rec, counts = redact(redactor(), "incident", record)
    assert rec["caller_id"]["value"] == SYS_ID and rec["caller_id"]["link"] == record["caller_id"]["link"]
    person = rec["caller_id"]["display_value"]
    assert TOKEN.fullmatch(person) and person.startswith("<PERSON:")
    assert rec["caller_id.name"] == person and rec["short_description"] == f"{person} cannot log in"
    assert rec["assigned_to"] == SYS_ID and rec["sys_created_by"] == "admin"
    assert rec["u_site_contact"]["value"] == SYS_ID and rec["u_site_contact"]["display_value"].startswith("<PERSON:")
    assert rec["opened_by"].startswith("<PERSON:") and rec["sys_updated_by"].startswith("<PERSON:")
    assert rec["caller_id.email"].startswith("<EMAIL:") and rec["caller_id.phone"].startswith("<PHONE:")
    assert rec["assignment_group.name"] == "Service Desk" and rec["cmdb_ci.name"] == "db01"
    assert "Fred" not in json.dumps(rec) and "Beth" not in json.dumps(rec)


def test_servicenow_user_table_is_people() -> None:
    rec, _ = redact(redactor(), "sys_user", {"sys_id": SYS_ID, "name": "Abel Tuter", "first_name": "Abel",
                                             "email": "abel.tuter@example.com", "mobile_phone": "+1 415 555 2671",
                                             "street": "1 Main St", "title": "Engineer", "active": "true"})
    assert rec["sys_id"] == SYS_ID and rec["title"] == "Engineer" and rec["active"] == "true"
    assert all(rec[k].startswith("<") for k in ("name", "first_name", "email", "mobile_phone", "street"))


def adf(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": list(content)}]}


def test_jira_user_objects_and_adf_descriptions() -> None:
    reporter = {"self": "https://acme.atlassian.net/rest/api/3/user?accountId=557058:f581", "accountId": "557058:f581",
                "emailAddress": "ann@acme.com", "displayName": "Ann Lee", "active": True, "timeZone": "Europe/London"}
    record = {"key": "OPS-12", "fields": {
        "reporter": reporter, "assignee": None, "summary": "VPN down for Ann Lee",
        "description": adf({"type": "text", "text": "Call me on +44 20 7946 0958 "},
                           {"type": "mention", "attrs": {"id": "557058:f581", "text": "@Ann Lee"}}),
        "comment": {"comments": [{"author": dict(reporter), "body": adf({"type": "text", "text": "ssn 123-45-6789"})}]},
    }}
    rec, counts = redact(redactor("jira"), "issues", record)
    f = rec["fields"]
    person = f["reporter"]["displayName"]
    assert person.startswith("<PERSON:") and f["reporter"]["accountId"] == "557058:f581"
    assert f["reporter"]["emailAddress"].startswith("<EMAIL:") and f["reporter"]["timeZone"] == "Europe/London"
    assert f["summary"] == f"VPN down for {person}"
    texts = f["description"]["content"][0]["content"]
    assert texts[0]["text"].startswith("Call me on <PHONE:")
    assert texts[1]["attrs"]["id"] == "557058:f581" and texts[1]["attrs"]["text"].startswith("<PERSON:")
    assert f["comment"]["comments"][0]["body"]["content"][0]["content"][0]["text"].startswith("ssn <US_SSN:")
    assert rec["key"] == "OPS-12" and "Ann" not in json.dumps(rec)


def test_salesforce_case_and_contact_fields() -> None:
    case = {"attributes": {"type": "Case"}, "Id": "5003000000D8cuIAAR", "CaseNumber": "00001026",
            "SuppliedName": "Rose Gonzalez", "SuppliedEmail": "rose@edge.com", "SuppliedPhone": "(415) 555-2671",
            "SuppliedCompany": "Edge Communications", "Subject": "Rose Gonzalez reports a faulty unit",
            "Contact": {"attributes": {"type": "Contact"}, "Id": "0033000000Rs9qZAAR", "Name": "Rose Gonzalez"},
            "Account": {"attributes": {"type": "Account"}, "Name": "Edge Communications"}}
    rec, _ = redact(redactor("salesforce"), "Case", case)
    assert rec["Id"] == case["Id"] and rec["CaseNumber"] == "00001026"
    assert rec["SuppliedCompany"] == "Edge Communications" and rec["Account"]["Name"] == "Edge Communications"
    person = rec["SuppliedName"]
    assert person.startswith("<PERSON:") and rec["Contact"]["Name"] == person
    assert rec["Contact"]["Id"] == "0033000000Rs9qZAAR" and rec["Subject"] == f"{person} reports a faulty unit"
    contact, _ = redact(redactor("salesforce"), "Contact", {
        "Id": "0033000000Rs9qZAAR", "FirstName": "Rose", "LastName": "Gonzalez", "Email": "rose@edge.com",
        "MobilePhone": "+1 415 555 2671", "Birthdate": "1980-03-12", "Title": "VP"})
    assert contact["Id"] == "0033000000Rs9qZAAR" and contact["Title"] == "VP"
    assert all(contact[k].startswith("<") for k in ("FirstName", "LastName", "Email", "MobilePhone", "Birthdate"))


# --- names -----------------------------------------------------------------------------------------------------------


def test_learned_names_are_found_in_free_text() -> None:
    r = redactor("rest")
    assert r.learn_names(["Abel Tuter", "Tuter, Abel", "Bo", "System Administrator", "Beth Q. Anglin"]) > 0
    rec, counts = redact(r, "tickets", {"d": "abel  TUTER and Tuter, Abel and Beth Anglin met; Abelard Tuterson; "
                                               "System Administrator ran it"})
    tokens = TOKEN.findall(rec["d"])
    assert len(tokens) == 3 and tokens[0] == tokens[1]  # one person, one token, whichever way the name is written
    assert "Abelard Tuterson" in rec["d"] and "System Administrator" in rec["d"] and counts == {"PERSON": 3}


def test_names_of_a_record_are_spread_to_all_its_text() -> None:
    rec, _ = redact(redactor(), "incident", {"caller_id": "Fred Luddy", "description": "fred luddy says hi",
                                             "comments": ["Fred Luddy again"]})
    token = rec["caller_id"]
    assert rec["description"] == f"{token} says hi" and rec["comments"] == [f"{token} again"]


# --- stream 2 --------------------------------------------------------------------------------------------------------


def test_context_stream_without_model_refuses_to_start() -> None:
    pytest.importorskip("spacy")
    with pytest.raises(ConfigError) as err:
        redactor(context_stream=True, ner_model="no_such_spacy_model_xyz")
    assert "neither a directory nor an installed spaCy model" in str(err.value)
    with pytest.raises(ConfigError) as err:
        redactor(context_stream=True)
    assert "requires redaction.ner_model" in str(err.value)


def test_people_fields_teach_the_matcher_for_later_pages() -> None:
    r = redactor()
    first = [{"caller_id": "Fred Luddy", "description": "printer jam"}]
    later = [{"description": "Fred Luddy called again", "caller_id": SYS_ID}]
    r.redact_records("incident", first)
    r.redact_records("incident", later)
    assert later[0]["description"] == f"{first[0]['caller_id']} called again"


def test_servicenow_journal_authors_are_people() -> None:
    notes = ("2025-01-05 20:50:59 - Maya Novak (Work notes)\nRestarted app01; Maya Novak to confirm.\n\n"
             "2025-01-05 20:40:00 - System Administrator (Additional comments)\nAuto-closed.")
    rec, counts = redact(redactor(), "incident", {"work_notes": notes})
    token = TOKEN.search(rec["work_notes"])
    assert token and rec["work_notes"].count(token.group()) == 2 and "Maya" not in rec["work_notes"]
    assert "System Administrator (Additional comments)" in rec["work_notes"] and counts == {"PERSON": 2}
