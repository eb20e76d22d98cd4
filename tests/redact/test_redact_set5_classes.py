"""Classes of values the fifth hand-written held-out set (bench/data/itsm-heldout-5.txt, measured blind first)
showed stream 1 missing or destroying. Each case is written in other words than the set, so what is tested is the
class, not the set's strings.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.records import Person
from udc.redact import Redactor

KEY = SecretStr("set5-classes-key-0123456789abcdef")


def found(text: str, people: list[Person] | None = None) -> list[tuple[str, str]]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    if people:
        redactor.learn_directory(people)
    return [(f.entity, text[f.start:f.end]) for f in redactor.find(text, "incident", "work_notes")]


@pytest.mark.parametrize(("text", "values"), [
    # clinician shorthand after "PMHx", "w/", "dx"; a query "?" and a fracture "#" belong to the value
    ("Pt 64F. PMHx IDDM, CCF, IHD. Came in w/ UTI, ?DVT on the left.",
     ["IDDM", "CCF", "IHD", "UTI", "?DVT"]),
    ("Referred for suspected MS; dx OSA last year.", ["suspected MS", "OSA"]),
    ("Ward 9 bed 2: #L wrist after a fall, s/p PCI 2021, HFrEF exacerbation noted.",
     ["#L wrist", "s/p PCI 2021", "HFrEF exacerbation"]),
])
def test_clinical_shorthand_is_a_diagnosis(text: str, values: list[str]) -> None:
    assert [v for e, v in found(text) if e == "DIAGNOSIS"] == values


@pytest.mark.parametrize("text", [
    "The MS Teams client on the PE build crashes; AF_INET error, RA tool and CAP file attached.",
    "Ticket #4471 moved to CAB; OA rollout w/ the new PCI scope.",
])
def test_shorthand_without_a_clinical_word_stays(text: str) -> None:
    assert [v for e, v in found(text) if e == "DIAGNOSIS"] == []


def test_compound_role_mailboxes_stay_and_people_and_admin_logins_go() -> None:
    text = ("Copy radiology-bookings@clinic.example, lab.support@clinic.example and print-queue@clinic.example; "
            "the patient wrote from hannah.obi-lewis@mail.example; admin login: tkowal-admin")
    assert found(text) == [("EMAIL", "hannah.obi-lewis@mail.example"), ("USERNAME", "tkowal-admin")]


DIRECTORY = [Person(name="Ingrid Solberg", first="Ingrid", last="Solberg", user_name="isolberg"),
             Person(name="Kwame Asante", first="Kwame", last="Asante", user_name="kasante")]


@pytest.mark.parametrize(("text", "values"), [
    # a directory person's first name in lower case, as a chat speaker or before a verb only people do
    ("ingrid: printer on 2 is jammed\nkwame: on it", ["ingrid", "kwame"]),
    ("fyi kwame is off today, ingrid spoke to the vendor", ["kwame", "ingrid"]),
    # after a greeting in another language, after a role's label
    ("Hallo Ingrid, das Update ist fertig.", ["Ingrid"]),
    ("Rollback owner Kwame. Host: Ingrid.", ["Kwame", "Ingrid"]),
])
def test_directory_first_names_in_chat_and_other_languages(text: str, values: list[str]) -> None:
    assert [v for e, v in found(text, DIRECTORY) if e == "PERSON"] == values


@pytest.mark.parametrize(("text", "values"), [
    # the first name alone of someone named in full in the same text
    ("Regards,\nTheodora Vance\n\nPS: Theodora is off on Friday.", ["Theodora Vance", "Theodora"]),
    # a greeting in another language, a form's "Name:" and "Opened for:", a second person joined by "and"
    ("Beste Joost,\nde schijf is vol.", ["Joost"]),
    ("Name: Rukhsana Begum\nOpened for: Callum Fairweather-Ross", ["Rukhsana Begum", "Callum Fairweather-Ross"]),
    ("Badges for Ayodele Bankole and Liesl Grünewald are ready.", ["Ayodele Bankole", "Liesl Grünewald"]),
    ("Hi, I'm Marisa Quintanilla in the Leeds office.", ["Marisa Quintanilla"]),
])
def test_names_by_position_set5(text: str, values: list[str]) -> None:
    assert [v for e, v in found(text) if e == "PERSON"] == values


def test_words_that_are_given_names_stay_in_lower_case_prose() -> None:
    people = [Person(name="Dawn Ellery", first="Dawn", last="Ellery", user_name="dellery")]
    text = "patch at dawn; will mark the change. Grant access after the window."
    assert [v for e, v in found(text, people) if e == "PERSON"] == []


@pytest.mark.parametrize("address", [
    "7 Thistle Brae, Dundee DD2 1QP",  # UK street type and postcode after the town
    "40 Harbour Quay E, Unit 808, Vancouver, BC V6B 1A1",  # Canadian province and postal code
    "Unit 3/22 Banksia St, Toowong QLD 4066",  # Australian unit/number, state and postcode
    "9 Oakfield Park, Douglas, Co. Cork, T12 K8Y2",  # Irish county and Eircode
    "No. 8, 3rd Cross Road, Koramangala 5th Block, Bengaluru, Karnataka 560095",  # Indian layout and PIN
    "310 SW 12th Ave, 2nd Floor, Portland, OR 97205",  # an ordinal street and floor
    "1187 N. LINCOLN AVE APT 2F EVANSTON IL 60201",  # capitals, as a form's OCR gives them
    "P.O. Box 902, Boise, ID 83701",
    "8 rue du Moulin, 33000 Bordeaux",  # French writes the street's type in lower case
    "77 Rue Sainte-Catherine, Apt 5, Laval, QC H7N 2B4",  # the type first, then the name
])
def test_addresses_in_other_countries_formats(address: str) -> None:
    assert found(f"Please ship it to {address} by Friday.") == [("STREET_ADDRESS", address)]


@pytest.mark.parametrize(("text", "entity", "value"), [
    # a bare "account" among banking words
    ("Salary goes to account 60012345678901 at ICICI, IFSC ICIC0000123.", "BANK_ACCOUNT", "60012345678901"),
    ("ABA 026009593, account ending 4471902231.", "BANK_ACCOUNT", "4471902231"),
    ("Direct deposit: transit 00452, institution 004, account 9912044.", "BANK_ACCOUNT", "9912044"),
    # Amex's CID, the digits on the back
    ("amex ending 1005, cid 8812, please charge it", "CVV", "8812"),
    ("the 3 digits on the back are 571", "CVV", "571"),
    # birth dates written day-month-year with dashes, or with spaced slashes by OCR
    ("Dependant added, DOB 21-Mar-2011.", "DATE_OF_BIRTH", "21-Mar-2011"),
    ("DATE OF BIRTH: 14 / 02 / 1977", "DATE_OF_BIRTH", "14 / 02 / 1977"),
])
def test_banking_card_and_birth_date_contexts(text: str, entity: str, value: str) -> None:
    assert (entity, value) in found(text)


@pytest.mark.parametrize("text", [
    "Sales account 00123456 renewed; licence count 48.",  # no banking word: a CRM's account number
    "Name on account: Tegan Hume\nSort code: 40-11-62",  # a sort code beside "account" is no account number
])
def test_bare_account_without_banking_stays(text: str) -> None:
    assert [f for f in found(text) if f[0] == "BANK_ACCOUNT"] == []


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("Courier cleared: NY driver's license 318 442 907 on file.", "US_DRIVER_LICENSE", "318 442 907"),
    ("Carrier Humana, member ID H44190273 02 for the child.", "HEALTH_PLAN_ID", "H44190273 02"),
    ("Insurance: BCBS TX   ID#: ZGP 4410 88213", "HEALTH_PLAN_ID", "ZGP 4410 88213"),
    ("Primary Cigna ID 7731904452, secondary none.", "HEALTH_PLAN_ID", "7731904452"),
    # a people cue before a name in brackets; a "user_name" column holding display names
    ("Record merged into another patient (Ingeborg Nilsen-Rye) by mistake.", "PERSON", "Ingeborg Nilsen-Rye"),
    ("asset,user_name,returned\nLT-1,Wen-Li Okoro,yes\n", "PERSON", "Wen-Li Okoro"),
])
def test_licence_plan_and_name_shapes(text: str, entity: str, value: str) -> None:
    assert (entity, value) in found(text)


def test_powershell_ad_cmdlets_name_logins_not_groups() -> None:
    text = ('PS> Get-ADUser r.okafor -Properties *\n'
            'PS> Add-ADGroupMember -Identity "GG-Finance-RW" -Members tnakamura, svc-backup\n'
            'PS> Unlock-ADAccount -Identity mbrennan2')
    assert [v for e, v in found(text) if e == "USERNAME"] == ["r.okafor", "tnakamura", "mbrennan2"]


def test_own_public_addresses_by_their_role_stay() -> None:
    text = "Clinic egress 52.14.88.3 is ours; the user came from 81.2.69.160; NAT gateway 34.120.5.9 fine."
    assert [v for e, v in found(text) if e == "IP_ADDRESS"] == ["81.2.69.160"]


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("Send it to 3 Heol Tawe, Swansea SA1 2AB please.", "STREET_ADDRESS", "3 Heol Tawe, Swansea SA1 2AB"),
    ("Deliver to Flat No. 12, Green Glen Apartments, Whitefield, Bengaluru 560066.", "STREET_ADDRESS",
     "Flat No. 12, Green Glen Apartments, Whitefield, Bengaluru 560066"),
    ("her personal number is 0433 555 812 if she rings", "PHONE", "0433 555 812"),
    ("ADT rejected: PID-3 K00981234 belongs to someone else", "MRN", "K00981234"),
])
def test_welsh_streets_indian_flats_phone_and_pid3(text: str, entity: str, value: str) -> None:
    assert (entity, value) in found(text)


@pytest.mark.parametrize(("text", "value"), [
    ("Reported by SN Abimbola Coker at 03:10.", "Abimbola Coker"),  # a nurse's grade between cue and name
    ("PATIENT NAME: OYELARAN, TEMITOPE   MRN: 0042", "OYELARAN, TEMITOPE"),  # a form in capitals
    ("Unser Techniker Benedikt Hofstätter kommt morgen.", "Benedikt Hofstätter"),  # a role in another language
    ("Skicka datorn till Astrid Holmqvist i Malmö.", "Astrid Holmqvist"),
    ("Hej! Maja, din dator är klar.", "Maja"),  # a greeting with "!"
])
def test_names_after_grades_capitals_and_foreign_roles(text: str, value: str) -> None:
    assert ("PERSON", value) in found(text)


def test_till_before_a_day_is_no_name() -> None:
    assert [f for f in found("Frozen till End Of Month, then Patch Tuesday.") if f[0] == "PERSON"] == []


def test_a_time_after_a_date_is_no_dependant_suffix() -> None:
    text = "since 06/01/2024 14:31 UTC"
    assert [text[f.start:f.end] for f in Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow").find(
        text, "incident", "u_member_id")] == []  # (the whole field is a member id's context: still no "2024 14")
