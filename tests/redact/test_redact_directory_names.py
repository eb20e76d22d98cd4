"""A directory's people found where earlier rules left them: a first name alone (as a word only where its place says
so), with an initial or a surname the directory does not know, in family-name-first order; logins built from a
double surname or naming a machine; and, without a directory, titles, nicknames and a help desk's reply authors.
"""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.records import Person
from udc.redact import Redactor

KEY = SecretStr("directory-names-key-0123456789abcdef")
PEOPLE = [
    Person(name="Marisol Brooks", first="Marisol", last="Brooks", user_name="mbrooks",
           email="marisol.brooks@corp.example"),
    Person(name="Page Harrington", first="Page", last="Harrington", user_name="pharrington"),
    Person(name="Chinonso Adeyemi-Eze", first="Chinonso", last="Adeyemi-Eze", user_name="cadeyemi"),
    Person(name="Ji-woo Seo", first="Ji-woo", last="Seo", user_name="jwseo"),
    Person(name="Austin Mbeki", first="Austin", last="Mbeki", user_name="ambeki"),
]


def found(text: str, people: list[Person] | None = None) -> list[tuple[str, str]]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    redactor.learn_directory(PEOPLE if people is None else people)
    return [(f.entity, text[f.start:f.end]) for f in redactor.find(text, "incident", "work_notes")]


@pytest.mark.parametrize(("text", "name"), [
    ("Marisol moves to the Lisbon office in March.", "Marisol"),  # no word: anywhere, capitalised
    ("the cert was rotated by chinonso last night", "chinonso"),  # ... or in lower case
    ("Do not copy keys from Chinonso's laptop.", "Chinonso"),  # a possessive ends the name
    ("Proxy exception added; Ji-woo is through.", "Ji-woo"),
    ("ok, but Page is leaving the team in January", "Page"),  # a word: mid-sentence after a lower-case word
    ("If it is lost, ask Page.", "Page"),
    ("Rota: Marisol B. primary, Page H. secondary", "Marisol B."),  # with an initial, whatever the word
])
def test_a_known_first_name_alone(text: str, name: str) -> None:
    assert ("PERSON", name) in found(text)


def test_a_word_name_with_an_initial() -> None:
    assert ("PERSON", "Page H.") in found("Rota: Marisol B. primary, Page H. secondary")


@pytest.mark.parametrize("text", [
    "Page 3 of the runbook has the steps.",  # a word at a sentence's start, before a number
    "the Page is blank after the upgrade",  # after a determiner
    "Export the Confluence Page Tree first.",  # in a capitalised run
    "the Marisol cluster is back",  # a thing named for someone
    "moved to the new site in Austin last week",  # a place: only where a person's place says so
    "see marisol.brooks@corp.example for the list",  # (inside an address: the address is the finding)
])
def test_a_known_first_name_used_otherwise_stays(text: str) -> None:
    assert [value for entity, value in found(text) if entity == "PERSON"] == []


def test_a_known_first_name_takes_an_unknown_surname_but_not_a_product() -> None:
    assert ("PERSON", "Marisol Quintero") in found("Marisol Quintero has to use the bank's service account.")
    assert found("Marisol Storage Array rebooted at 09:12") == []
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    redactor.learn_directory(PEOPLE)
    text, _ = redactor.redact_text("Marisol Brooks called. Later Marisol Quintero called.", "incident", "x")
    first, second = re.findall(r"<PERSON:\w+>", text)
    assert first != second  # two people, two tokens


def test_a_directory_name_family_name_first() -> None:
    text = "2026-11-30 08:12:44, RDR-B1-MAIN-IN, 0042 1175, BROOKS MARISOL, GRANTED"
    assert ("PERSON", "BROOKS MARISOL") in found(text)
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    redactor.learn_directory(PEOPLE)
    a, _ = redactor.redact_text("BROOKS MARISOL", "incident", "x")
    b, _ = redactor.redact_text("Marisol Brooks", "incident", "x")
    c, _ = redactor.redact_text("Marisol Brooks called", "incident", "x")  # (by the first name with the surname)
    assert a == b == c.removesuffix(" called") and a.startswith("<PERSON:")  # one token for one person


def test_logins_from_a_double_surname_and_naming_a_machine() -> None:
    assert found("cadeyemi 9:07 AM: uploading the new cert") == [("USERNAME", "cadeyemi")]
    assert ("USERNAME", "jwseo") in found("Dec 03 08:41:17 jwseo-mbp jamf[1184]: Checking for policy")
    assert found("jwseo-mbp.corp.example answers ping") == []  # (a host's name in full is a host's)


@pytest.mark.parametrize(("text", "name"), [
    ("Approver: Dr. Kwame Asante (clinical director)", "Dr. Kwame Asante"),
    ("GP letter from Dr Fiona Galbraith attached", "Dr Fiona Galbraith"),
    ('Customer: Terrence "Terry" Oduya, phone on file', 'Terrence "Terry" Oduya'),
    ('leaver Wilhelmina "Billie" Asante-Osei - last day Friday', 'Wilhelmina "Billie" Asante-Osei'),
])
def test_titles_and_nicknames_go_with_the_name(text: str, name: str) -> None:
    assert ("PERSON", name) in found(text, [])


@pytest.mark.parametrize("text", [
    "##- Please type your reply above this line -##\n\nRenata Kowalska\nDec 1, 2026, 16:09 CET\nHi, the card",
    "Thanks\n\nTomás Ferreira (Shop Support)\n01/12/2026 16:20\nRefunded.",
    "Ada Lovelace\nMon, 1 Dec 2026 at 4:09 PM\nhello",
])
def test_a_reply_s_author_over_its_time(text: str) -> None:
    assert [entity for entity, _ in found(text, [])] == ["PERSON"]


def test_a_heading_over_a_timed_line_of_text_stays() -> None:
    assert found("Timeline\n2026-11-03 09:12 alert fired on kafka-b3\n", []) == []
