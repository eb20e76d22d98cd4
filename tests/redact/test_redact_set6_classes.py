"""Classes of values the sixth hand-written held-out set (bench/data/itsm-heldout-6.txt, measured blind first)
showed stream 1 missing. Each case is written in other words than the set, so what is tested is the class, not the
set's strings.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.redact import Redactor

KEY = SecretStr("set6-classes-key-0123456789abcdef")


def diagnoses(text: str) -> list[str]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    return [text[f.start:f.end] for f in redactor.find(text, "incident", "work_notes") if f.entity == "DIAGNOSIS"]


@pytest.mark.parametrize(("text", "values"), [
    # a chart's problem list copied into a ticket
    ("Copied from the chart. Problem list: asthma, hypertension. Please scrub.", ["asthma", "hypertension"]),
    # HR leave and accommodation cases name the condition the leave is for
    ("Sick leave approved, reason given: bipolar disorder.", ["bipolar disorder"]),
    ("Ergonomic chair requested due to rheumatoid arthritis in both hands.", ["rheumatoid arthritis"]),
    ("FMLA paperwork for migraine attached by the employee.", ["migraine"]),
])
def test_hr_and_chart_cues_introduce_a_diagnosis(text: str, values: list[str]) -> None:
    assert diagnoses(text) == values


@pytest.mark.parametrize("text", [
    "Build failed due to a flaky test; problem list in Jira is empty.",
    "Reason given: vendor outage. Accommodation booking tool down due to DNS.",
])
def test_the_cues_alone_redact_nothing(text: str) -> None:
    assert diagnoses(text) == []


def persons(text: str) -> list[str]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    return [text[f.start:f.end] for f in redactor.find(text, "incident", "work_notes") if f.entity == "PERSON"]


@pytest.mark.parametrize(("text", "values"), [
    # Vietnamese horned letters and Romanian comma-below letters (Latin Extended-B) are letters of a name
    ("Customer Trương Văn Phước rang about the invoice.", ["Trương Văn Phước"]),
    ("Patient Ștefan Țurcanu cannot log in to the portal.", ["Ștefan Țurcanu"]),
    # a role with a qualifier or a partner role before a full name
    ("Radiographer on call Chidi Okeke restarted the PACS viewer.", ["Chidi Okeke"]),
    ("Payroll partner Ingrid Solberg approved the correction.", ["Ingrid Solberg"]),
    ("EDR: logged-on user Tomasz Nowicki ran the macro.", ["Tomasz Nowicki"]),
])
def test_names_after_roles_and_in_extended_latin(text: str, values: list[str]) -> None:
    assert persons(text) == values


@pytest.mark.parametrize("text", [
    "Our partner Contoso sent the quote; on call rota updated.",
    "The on duty Service Desk queue is empty.",
])
def test_role_words_before_teams_redact_nothing(text: str) -> None:
    assert persons(text) == []


@pytest.mark.parametrize(("text", "values"), [
    # a name field of a JSON, XML or key=value payload pasted into a work note
    ('Payload: {"id": 7, "name": "Halima Yusuf", "dept": "Oncology"}', ["Halima Yusuf"]),
    ("<Member><Name>Jonas Berg</Name><Plan>Gold</Plan></Member>", ["Jonas Berg"]),
    ("audit: full_name=Olek Nowak action=login", ["Olek Nowak"]),
])
def test_a_payloads_name_field_is_a_person(text: str, values: list[str]) -> None:
    assert persons(text) == values


def test_a_payloads_other_name_fields_are_kept() -> None:
    assert persons('{"hostname": "Web Prd", "filename": "Report Final.pdf", "name": "nginx"}') == []
