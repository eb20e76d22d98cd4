"""Every type stream 1 finds in ITSM text, with the look-alikes that must survive next to each.

Written as short ITSM snippets (journal lines, e-mails, chats, logs, HL7, CSV); the benchmark's corpus
(bench/itsm_eval_corpus.py) is a separate generator and is not used here.
"""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.redact import Redactor

KEY = SecretStr("types-key-0123456789abcdef")


def found(text: str, **policy: object) -> list[tuple[str, str]]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY, **policy), "servicenow")  # type: ignore[arg-type]
    return [(f.entity, text[f.start:f.end]) for f in redactor.find(text, "incident", "work_notes")]


@pytest.mark.parametrize(("text", "expected"), [
    # people by position: greetings, sign-offs, chat speakers, mail headers, cue words, "Last, First"
    ("Hi Oluwaseun,\nthe VPN profile is fixed.", [("PERSON", "Oluwaseun")]),
    ("Printer fixed.\n\nKind regards,\nSiobhán Ní Bhriain\n", [("PERSON", "Siobhán Ní Bhriain")]),
    ("[10:04] Aigerim: my screen is black", [("PERSON", "Aigerim")]),
    ("From: Mehmet Yılmaz <m.yilmaz@acme.example>", [("PERSON", "Mehmet Yılmaz"), ("EMAIL", "m.yilmaz@acme.example")]),
    ("Called Zhang, Wei back about the token.", [("PERSON", "Zhang, Wei")]),
    ("Refund for Grace O'Brien approved.", [("PERSON", "Grace O'Brien")]),
    ("Reassigned to Thandiwe Dlamini-Mokoena.", [("PERSON", "Thandiwe Dlamini-Mokoena")]),
    # logins after their label
    ("user=aigerim.n61 src=10.1.2.3", [("USERNAME", "aigerim.n61")]),
    ("Username: praman", [("USERNAME", "praman")]),
    ("logged in as CORP\\jdoe2", [("USERNAME", "CORP\\jdoe2")]),
    # logins in prose: after an account word, as DOMAIN\\login, a plain word before an account's state, first.last
    # near a word about access, the answer to a question about a login
    ("AD account m.kowalczyk needs a reset", [("USERNAME", "m.kowalczyk")]),
    ("Share denied for EMEA\\tnakamura on the finance folder", [("USERNAME", "EMEA\\tnakamura")]),
    ("Caller says user okowalski is locked again", [("USERNAME", "okowalski")]),
    ("MFA prompt loops for lena.vogt today", [("USERNAME", "lena.vogt")]),
    ("[09:12] Agent: what's your login name?\n[09:13] Tomas: it's tbrennan, thanks", [
        ("PERSON", "Tomas"), ("USERNAME", "tbrennan")]),
    # street addresses
    ("Ship it to 1627 Maple Avenue, Apt 4, Springfield, IL 62704 please", [
        ("STREET_ADDRESS", "1627 Maple Avenue, Apt 4, Springfield, IL 62704")]),
    ("home: 12 Kingsway, Leeds LS1 4DY", [("STREET_ADDRESS", "12 Kingsway, Leeds LS1 4DY")]),
    # dates of birth, in the shapes people type
    ("DOB 1987-03-14, caller verified", [("DATE_OF_BIRTH", "1987-03-14")]),
    ("date of birth: 14 Mar 1987", [("DATE_OF_BIRTH", "14 Mar 1987")]),
    # SSNs: dashed anywhere; other shapes after their word
    ("SSN 536 22 8019 on file", [("US_SSN", "536 22 8019")]),
    ("ssn: 536228019", [("US_SSN", "536228019")]),
    ("ref 536-22-8019", [("US_SSN", "536-22-8019")]),
    # phones, national and international (an unassigned block in international form still counts)
    ("mobile +44 7700 900123", [("PHONE", "+44 7700 900123")]),
    ("call (312) 555-0142 after 5", [("PHONE", "(312) 555-0142")]),
    # PHI
    ("MRN: A12345678 admitted", [("MRN", "A12345678")]),
    ("member ID XGH123456789 on the claim", [("HEALTH_PLAN_ID", "XGH123456789")]),
    ("diagnosis E11.9 (type 2 diabetes)", [("DIAGNOSIS", "E11.9"), ("DIAGNOSIS", "type 2 diabetes")]),
    ("history of epilepsy, on leave", [("DIAGNOSIS", "epilepsy")]),
    ("passport X12345678 scanned", [("US_PASSPORT", "X12345678")]),
    ("driver's license F3743510", [("US_DRIVER_LICENSE", "F3743510")]),
    # PCI and banking
    ("card 4111 1111 1111 1111 exp 06/27 cvv 123", [("CREDIT_CARD", "4111 1111 1111 1111"),
                                                   ("CARD_EXPIRY", "06/27"), ("CVV", "123")]),
    ("4111111111111111 08/2029", [("CREDIT_CARD", "4111111111111111"), ("CARD_EXPIRY", "08/2029")]),
    ("bank acct 129695300, routing 011000015", [("BANK_ACCOUNT", "129695300"), ("ABA_ROUTING", "011000015")]),
    ("IBAN DE89 3704 0044 0532 0130 00", [("IBAN", "DE89 3704 0044 0532 0130 00")]),
    # a home IP is PII; an infrastructure IP is not
    ("my IP at home is 73.12.45.67", [("IP_ADDRESS", "73.12.45.67")]),
])
def test_each_type_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    # role mailboxes and service accounts
    "Reply sent from servicedesk@acme.example and noreply@acme.example; cc it-support@acme.example",
    "Job svc_backup failed; sa-deploy and svc-sql-agent retried; jenkins-ci green",
    "user=svc_backup src=10.0.0.5",
    # dates that are no birth dates: a password's expiry, timestamps
    "Reset done, password expires 03/26. Next review 2025-04-01.",
    "2025-03-04T05:12:22.123Z ERROR auth failed",
    # ticket numbers, Jira keys, sys_ids, hashes, versions, hosts, infrastructure IPs
    "Ticket INC0012345, change CHG0034567, see OPS-1234 and KB0010001",
    "sys_id 9d385017c611228701d22104cc95c371, sha1 3f786850e387550fdab836ed7e6dc881de23001b",
    "Client v5.2.14 on build 10.0.19045.3930, agent 7.4.1-beta",
    "Reset on srv-app-prd-01 (db-ora-07.corp.acme.example) via 10.20.30.40 and 192.168.1.20",
    # capitalised words that are no names
    "Hi Team, Windows Server and Microsoft Teams restarted. Thanks, Service Desk",
    "Escalated to Network Operations; contact Security Operations for access.",
    # words near their context that are not values
    "user account locked after 5 attempts",
    "user is locked out; the user profile was reset",
    "Added support for numpy.array and pandas.read_csv in the report job",
    "password reset for config.yaml on app.example, see C:\\Users\\Public and HKLM\\Software",
    "[09:12] Agent: do you know your username?\n[09:13] Caller: It's on my badge",
    "diagnosis: network outage on the core switch",
    "race condition in the scheduler",
    "member of the CAB approved",
])
def test_look_alikes_survive(text: str) -> None:
    assert found(text) == []


def test_keep_accounts_adds_patterns() -> None:
    text = "user=ops.robot failed; mail ops.robot@acme.example"
    assert [e for e, _ in found(text)] == ["USERNAME", "EMAIL"]
    assert found(text, keep_accounts=["ops.*"]) == []


def test_hl7_segments() -> None:
    text = ("MSH|^~\\&|EPIC|HOSP|||20250314||ADT^A01|48213|P|2.5\n"
            "PID|1||48213377^^^HOSP^MR||Halvorsen^Ingrid||19510711|F|||12 Elm Street^^Springfield^IL^62704||"
            "(312) 555-0142\nDG1|1||E11.9^Type 2 diabetes mellitus^I10\n")
    assert found(text) == [
        ("MRN", "48213377"), ("PERSON", "Halvorsen^Ingrid"), ("DATE_OF_BIRTH", "19510711"),
        ("STREET_ADDRESS", "12 Elm Street^^Springfield^IL^62704"),
        ("PHONE", "(312) 555-0142"), ("DIAGNOSIS", "E11.9"), ("DIAGNOSIS", "Type 2 diabetes mellitus")]


def test_an_hl7_name_is_one_person_of_the_record() -> None:
    """PID-5's parts make one token, the one the person's name gets in the record's prose."""
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    record = {"work_notes": "PID|1||48213377^^^HOSP^MR||Halvorsen^Ingrid||19510711|F\nCalled Ingrid Halvorsen back."}
    redactor.redact_records("incident", [record])
    tokens = re.findall(r"<PERSON:[0-9a-f]+>", record["work_notes"])
    assert len(tokens) == 2 and tokens[0] == tokens[1] and "Ingrid" not in record["work_notes"]


def test_csv_columns_by_header() -> None:
    text = ("name,email,ssn,host,ticket\n"
            "Keanu Hunter,keanu.hunter@acme.example,494 94 5344,srv-app-01,INC8163430\n"
            "Priya Hill,priya.hill@acme.example,512687876,srv-app-02,INC3059205\n")
    assert found(text) == [
        ("PERSON", "Keanu Hunter"), ("EMAIL", "keanu.hunter@acme.example"), ("US_SSN", "494 94 5344"),
        ("PERSON", "Priya Hill"), ("EMAIL", "priya.hill@acme.example"), ("US_SSN", "512687876")]
