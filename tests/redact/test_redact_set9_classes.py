"""Classes of values the ninth hand-written held-out set (bench/data/itsm-heldout-9.txt, measured blind first)
showed stream 1 missing. Each case is written in other words than the set, so what is tested is the class, not the
set's strings; the look-alikes beside them stay readable.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.redact import Redactor

KEY = SecretStr("set9-classes-key-0123456789abcdef")


def found(text: str) -> list[tuple[str, str]]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    return [(f.entity, text[f.start:f.end]) for f in redactor.find(text, "incident", "work_notes")]


def test_a_markdown_table_s_columns_named_for_a_type() -> None:
    text = ("Visa letters:\n| Employee | Passport no. | Date of birth | Ticket |\n|:---|---|---|---|\n"
            "| Imogen Tassell | C03005988 | 1990-04-17 | RITM0104422 |\n| Kwabena Adjei | 912048576 | 1984-12-01 | "
            "RITM0104423 |\n\nBoth sent.")
    assert found(text) == [
        ("PERSON", "Imogen Tassell"), ("US_PASSPORT", "C03005988"), ("DATE_OF_BIRTH", "1990-04-17"),
        ("PERSON", "Kwabena Adjei"), ("US_PASSPORT", "912048576"), ("DATE_OF_BIRTH", "1984-12-01")]


@pytest.mark.parametrize("text", [
    "| Host | Version | Status |\n|---|---|---|\n| srv-app-01 | 4.2.1 | ok |",
    "| Step | Due |\n|---|---|\n| Patch 2024-12-01 | Friday |",
])
def test_markdown_tables_of_no_one_stay(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(("text", "value"), [
    ("Fecha de nacimiento: 14 de octubre de 1979 (según DNI)", "14 de octubre de 1979"),
    ("Geboortedatum 21 augustus 1986, BSN volgt", "21 augustus 1986"),
    ("Geburtsdatum: 2. Dezember 1968", "2. Dezember 1968"),
    ("data urodzenia: 7 lipca 1991", "7 lipca 1991"),
    ("colaboradora nascida em 30/01/1988 em Recife", "30/01/1988"),
    ("Doğum tarihi: 19 Eylül 1993", "19 Eylül 1993"),
    ("生年月日: 1979年11月23日", "1979年11月23日"),
])
def test_birth_dates_in_more_languages(text: str, value: str) -> None:
    assert found(text) == [("DATE_OF_BIRTH", value)]


@pytest.mark.parametrize("text", [
    "Wartungsfenster am 4. Mai 2026, Rollout 2. Dezember 2026", "Go-live: 14 de octubre de 2026",
    "リリース日: 2026年3月1日",
])
def test_other_dates_in_those_languages_stay(text: str) -> None:
    assert found(text) == []


def test_names_joined_after_their_roles_in_brackets() -> None:
    text = "On the bridge with Yusuf Demir (MIM), Ngozi Ibe (identity), Lars Aune (vendor TAM) and Service Desk (L1)."
    assert [v for e, v in found(text) if e == "PERSON"] == ["Yusuf Demir", "Ngozi Ibe", "Lars Aune"]


@pytest.mark.parametrize(("text", "value"), [
    ("Escalated to Radoslaw K. for the vendor call.", "Radoslaw K."),
    ("Hi, my name is Marisa J. Okonjo and I cannot log in.", "Marisa J. Okonjo"),
    ("Spoke with H. Nakagawa about the token.", "H. Nakagawa"),
])
def test_names_with_an_initial_after_a_cue(text: str, value: str) -> None:
    assert ("PERSON", value) in found(text)


@pytest.mark.parametrize(("text", "phone"), [
    ("Mobile 0412 555 019, desk (03) 5550 8812.", "(03) 5550 8812"),  # a desk's line, valid here or not
    ("cb no 555 014 2290 if it drops", "555 014 2290"),  # a call-back's abbreviation
    ("Patient called back on (555) 017-3345 about the bill", "(555) 017-3345"),
    ("Kullanıcı: Emre Doğan, cep: 0533 555 02 61", "0533 555 02 61"),  # Turkish "cep" (mobile)
    ("bhai mera naya number 98111 55502 hai", "98111 55502"),  # Hindi, transliterated: "my new number"
])
def test_a_phone_after_more_of_its_words(text: str, phone: str) -> None:
    assert ("PHONE", phone) in found(text)


def test_a_desk_without_a_phone_stays() -> None:
    assert found("Desk 12 on floor 3 is broken; asset 4471 2208 stays in the cage.") == []


@pytest.mark.parametrize(("text", "name"), [
    ("Analyst: Oskar Lindqvist. IOC added to the blocklist.", "Oskar Lindqvist"),
    ("Ward clerk Ivy Brennan-Shaw created the encounter.", "Ivy Brennan-Shaw"),
    ("IG lead Hollie Varga informed; DATIX raised.", "Hollie Varga"),
    ("Outgoing: Brodie Walsh (night). Incoming: Ngaire Te Rangi (day).", "Ngaire Te Rangi"),
    ("Collect from: Wilhelmina Osei, Van Woustraat 188-2, Amsterdam", "Wilhelmina Osei"),
])
def test_a_name_after_a_role_that_also_ends_a_job_title(text: str, name: str) -> None:
    assert ("PERSON", name) in found(text)


@pytest.mark.parametrize(("text", "names"), [
    ("Position: Clinical Data Analyst, Revenue Cycle Analytics", []),  # a job's title, then its team
    ("Collect from: Wilhelmina Osei, Van Woustraat 188-2, Amsterdam", ["Wilhelmina Osei"]),  # (then her street)
])
def test_a_team_or_street_after_such_a_role_is_no_name(text: str, names: list[str]) -> None:
    assert [v for e, v in found(text) if e == "PERSON"] == names
