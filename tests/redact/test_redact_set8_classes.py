"""Classes of values the eighth hand-written held-out set (bench/data/itsm-heldout-8.txt, measured blind first)
showed stream 1 missing. Each case is written in other words than the set, so what is tested is the class, not the
set's strings; the look-alikes beside them stay readable.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.redact import Redactor

KEY = SecretStr("set8-classes-key-0123456789abcdef")


def found(text: str, entity: str = "PERSON") -> list[str]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    return [text[f.start:f.end] for f in redactor.find(text, "incident", "work_notes") if f.entity == entity]


@pytest.mark.parametrize(("text", "values"), [
    # Teams' copied chat: the date and time in brackets, then the speaker, also "Last, First"
    ("[3/14/2026 10:02 AM] Oluwaseun Adeyemi: morning, is the VPN down?\n[3/14/2026 10:03 AM] Brandt, Henrike: "
     "yes, since 9", ["Oluwaseun Adeyemi", "Brandt, Henrike"]),
    ("[14.03.2026 10:02] Mateus Carvalho: feito", ["Mateus Carvalho"]),
])
def test_chat_speakers_after_a_date_and_time(text: str, values: list[str]) -> None:
    assert found(text) == values


@pytest.mark.parametrize(("text", "values"), [
    ("Ticket notes\nReview (Tamsin Achebe): use the vault, not the share.", ["Tamsin Achebe"]),
    ("Nota RH (Kofi Mensah, kadry): dane poprawione.", ["Kofi Mensah"]),
    ("Facilities (Ilse Vermeulen) : badge reissued.", ["Ilse Vermeulen"]),
    ("Case\nService desk (Oren Katzman): called back, fixed.", ["Oren Katzman"]),
    ("Case\nNote from Philippa: the laptop is in the locker.", ["Philippa"]),
])
def test_a_comment_s_author_in_brackets_after_its_label(text: str, values: list[str]) -> None:
    assert found(text) == values


@pytest.mark.parametrize("text", [
    "Status (Awaiting Approval): parked until Monday.",
    "Deploy (Blue Green): done, traffic on green.",
    "Owner (Service Desk): Tier 2.",
    "Case\nNote from IT: patch window tonight.",
])
def test_a_label_s_bracketed_words_that_are_no_one_stay(text: str) -> None:
    assert found(text) == []


def test_a_payload_s_name_parts() -> None:
    text = ('FHIR Patient rejected: {"resourceType":"Patient","name":[{"family":"Okereke","given":["Ifunanya"]}],'
            '"gender":"female"} and LDAP export givenName=Raimo sn=Virtanen')
    assert found(text) == ["Okereke", "Ifunanya", "Raimo", "Virtanen"]


def test_payload_name_keys_with_values_that_are_no_one_stay() -> None:
    assert found('{"displayName": "Payroll Bot", "given": "true", "family": "x86_64", "surname": "n/a"}') == []


def test_an_hl7_name_with_a_middle_initial_is_hidden_whole() -> None:
    assert found("PID|1||E20331^^^NWH^MR||HOLLISTER^GRETA^J||19610302|F") == ["HOLLISTER^GRETA^J"]


# --- look-alikes: desks' mailboxes, GitHub's app accounts, organisations named like people ---------------------------

@pytest.mark.parametrize("text", [
    "Forwarded by the travel desk (travel@corp.example) and cardservices@corp.example.",
    "Owner tag should be the team mailbox claims-platform@corp.example; IOCs to threatintel@corp.example.",
    "Author: dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>",
])
def test_desk_mailboxes_and_app_accounts_stay(text: str) -> None:
    assert found(text, "EMAIL") == [] and found(text, "USERNAME") == []


@pytest.mark.parametrize("text", [
    "OH provider Northgate Health booked the assessment.",
    "Caller is a contractor (Brightwater Staffing) on the night shift.",
    "Benefits called Express Scripts about the mail-order refill.",
])
def test_organisations_named_like_people_stay(text: str) -> None:
    assert found(text) == []


# --- an address's label, in the languages tickets are written in ---------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("Nouvelle adresse : 88, boulevard de la Liberté, app. 12, Lille 59800. Merci !",
     "88, boulevard de la Liberté, app. 12, Lille 59800"),
    ("Domicilio: Avenida Insurgentes Sur 1602, Int. 7, Col. Crédito Constructor, 03940 CDMX",
     "Avenida Insurgentes Sur 1602, Int. 7, Col. Crédito Constructor, 03940 CDMX"),
    ("homePostalAddress: 4 Quay Lane, Kinsale, Co. Cork P17 X627\ntelephoneNumber: n/a",
     "4 Quay Lane, Kinsale, Co. Cork P17 X627"),
    ("Update (the old one, 12 Birch Row, Leeds LS6 2QX was wrong) - new address: 7 Hill Rise, York YO1 7HH; thanks",
     "7 Hill Rise, York YO1 7HH"),
])
def test_the_value_after_an_address_label(text: str, value: str) -> None:
    assert value in found(text, "STREET_ADDRESS")


@pytest.mark.parametrize("text", [
    "IP address: 10.20.30.40 (static)", "MAC address: 00:1A:2B:3C:4D:5E", "E-mail address: jo@corp.example",
    "Server address: srv-db-01.corp.example:5432", "Billing address: see PO 4500012345", "Address: not provided",
])
def test_addresses_of_no_one_s_home_stay(text: str) -> None:
    assert found(text, "STREET_ADDRESS") == []


def test_a_macos_home_folder_names_its_login_and_a_web_path_does_not() -> None:
    assert found("Error running script: /Users/mkowalczyk/Library/Preferences is read-only", "USERNAME") == [
        "mkowalczyk"]
    assert found("GET /api/users/profile 200; see /Users/Shared/logs", "USERNAME") == []


# --- a card's code read out after it; phone words of other languages ------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("number is 5555 5555 5555 4444 exp 09/29 code 713, ok?", "713"),
    ("Visa 4012 8888 8888 1881, valid to 11/28, security 490.", "490"),
    ("Amex 3782 822463 10005, expires June 2029, the four digit code on the front is 7715", "7715"),
    ("card 4012 8888 8888 1881 / 03/27 / CVC 8 8 1 (read out slowly)", "8 8 1"),
])
def test_a_card_s_code_read_out_after_it(text: str, value: str) -> None:
    assert found(text, "CVV") == [value]


@pytest.mark.parametrize("text", [
    "card 4012 8888 8888 1881 declined, error code 2051 from the issuer",
    "card 5555 5555 5555 4444 approved, auth code 804 and response code 000",
])
def test_other_codes_after_a_card_stay(text: str) -> None:
    assert found(text, "CVV") == []


@pytest.mark.parametrize(("text", "value"), [
    ("Dane kontaktowe: kom. 602 555 471", "602 555 471"),
    ("Nytt nummer, Mobil 073-555 20 14, från måndag", "073-555 20 14"),
    ("휴대폰: 010-5555-0199", "010-5555-0199"),
])
def test_phone_words_of_more_languages(text: str, value: str) -> None:
    assert found(text, "PHONE") == [value]


@pytest.mark.parametrize(("text", "value"), [
    ("Ireland payroll: PPSN 1234567T added to Core.", "1234567T"),
    ("NZ new starter, IRD number 49-091-850, tax code M.", "49-091-850"),
])
def test_irish_and_new_zealand_ids_after_their_words(text: str, value: str) -> None:
    assert found(text, "NATIONAL_ID") == [value]


@pytest.mark.parametrize("text", [
    "Edge router peaked at 1234567 pps; PPS 1234567 limit hit.", "IRD 49-091-851 (check fails)"])
def test_packet_rates_and_failed_checks_are_no_ids(text: str) -> None:
    assert found(text, "NATIONAL_ID") == []
