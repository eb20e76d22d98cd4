"""Classes of values the seventh hand-written held-out set (bench/data/itsm-heldout-7.txt, measured blind first)
showed stream 1 missing, and look-alikes it redacted. Each case is written in other words than the set, so what is
tested is the class, not the set's strings.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.records import Person
from udc.redact import Redactor

KEY = SecretStr("set7-classes-key-0123456789abcdef")


def found(text: str, entity: str, directory: list[Person] | None = None) -> list[str]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    if directory:
        redactor.learn_directory(directory)
    return [text[f.start:f.end] for f in redactor.find(text, "incident", "work_notes") if f.entity == entity]


# --- diagnoses in a record about a patient, with no context word before them -----------------------------------------

@pytest.mark.parametrize(("text", "values"), [
    ("pt rang re her epilepsy meds, pharmacy out of stock", ["epilepsy"]),
    ("Clinic ticket: the scanned letter about his Alzheimer's disease will not open. MRN 4471023.",
     ["Alzheimer's disease"]),
    ("Triage note froze: 71F, COPD, now with community-acquired pneumonia.", ["COPD", "community-acquired pneumonia"]),
    ("Patient asked about the infusion clinic for her rheumatoid arthritis and poorly controlled asthma.",
     ["rheumatoid arthritis", "poorly controlled asthma"]),
    ("Referral scanned for the patient: chronic hepatitis B, query cirrhosis.",
     ["chronic hepatitis B", "query cirrhosis"]),
    ("FMLA case: employee off for a slipped disc, physio weekly, also sciatica.", ["slipped disc", "sciatica"]),
])
def test_a_patient_record_names_conditions_anywhere(text: str, values: list[str]) -> None:
    assert found(text, "DIAGNOSIS") == values


@pytest.mark.parametrize("text", [
    # no patient, no condition: the lexicon's words of IT text stay
    "Ransomware infection on the file server, stroke of luck we had backups. Depression of the market aside.",
    # a patient record's ordinary phrases that the code set's descriptions also hold
    "Patient portal: user stays at home and works as a contractor; the media server is slow. CAP theorem again.",
    "Pharmacist reports the MS Teams PCI vault page and the PE firewall rule are fine.",
])
def test_a_patient_record_alone_redacts_no_ordinary_words(text: str) -> None:
    assert found(text, "DIAGNOSIS") == []


# --- phones and birth dates after words of other languages -------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("Merci de rappeler Mme Girard sur son portable 07 81 22 45 19 avant midi.", "07 81 22 45 19"),
    ("Graag terugbellen, u kunt bellen op 06-29381745.", "06-29381745"),
    ("Celular: (21) 99812-3344", "(21) 99812-3344"),
])
def test_phone_words_of_other_languages(text: str, value: str) -> None:
    assert found(text, "PHONE") == [value]


def test_birth_date_words_of_other_languages() -> None:
    assert found("Zur Prüfung: Geburtsdatum 03.09.1979, Kundennummer folgt.", "DATE_OF_BIRTH") == ["03.09.1979"]
    assert found("Data de nascimento: 21/02/1984", "DATE_OF_BIRTH") == ["21/02/1984"]


# --- look-alikes ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Join the bridge +44 20 3481 7700 PIN 339 118# at 21:00.",
    "Dial-in: +1 646 555 0199, passcode 4471 9921",
    "The insurer says claim CLM 2027-448120 was paid; order no. 2026-441872 shipped.",
])
def test_bridges_and_references_are_no_phones(text: str) -> None:
    assert found(text, "PHONE") == []


def test_a_person_s_phone_still_counts_beside_those_words() -> None:
    assert found("Claim 88120 denied; callback 202-555-0147 today.", "PHONE") == ["202-555-0147"]


@pytest.mark.parametrize("text", [
    "Rolled back to 8.4.0.112 after the print spooler crash.",
    "Downgraded to 7.140.5.60 and the drops stopped.",
    "Attacker infrastructure: C2 / hosting: 185.100.87.41, still up.",
    "The portal front end is 52.143.71.8 (Azure LB), origin behind it.",
    "Upstream 41.0.4.1 (ISP gateway) answers ping.",
])
def test_versions_and_service_addresses_stay(text: str) -> None:
    assert found(text, "IP_ADDRESS") == []


def test_a_home_router_s_address_is_still_a_person_s() -> None:
    assert found("Her router WAN is 81.2.69.160 (home fibre).", "IP_ADDRESS") == ["81.2.69.160"]


def test_a_group_npi_stays_and_a_provider_s_counts() -> None:
    text = "Bill under group NPI 1760493837; rendering provider NPI 1225144462."
    assert found(text, "US_NPI") == ["1225144462"]


@pytest.mark.parametrize("address", [
    "klantenservice@corp.example", "kundenservice@shop.example", "sap-basis@corp.example", "okta-admins@corp.example",
])
def test_team_mailboxes_stay(address: str) -> None:
    assert found(f"Please write to {address} for this.", "EMAIL") == []


def test_a_person_s_address_with_a_product_word_later_still_counts() -> None:
    assert found("Mail anna.sapienza@corp.example about it.", "EMAIL") == ["anna.sapienza@corp.example"]


def test_sap_technical_users_stay() -> None:
    assert found("In SU01, user RFC_PAYROLL needs a new password.", "USERNAME") == []


def test_a_machine_account_in_a_people_column_stays() -> None:
    directory = [Person(name="svc-erp-batch", user_name="svc-erp-batch", email="svc-erp-batch@corp.example",
                        machine=True)]
    text = "number,caller_id,short_description\nINC0010001,svc-erp-batch,Password expiry\n"
    assert found(text, "PERSON", directory) == []


def test_a_first_name_in_capitals_is_a_product() -> None:
    directory = [Person(name="Iris Okafor", first="Iris", last="Okafor", user_name="iokafor",
                        email="iris.okafor@corp.example")]
    assert found("Caller: Iris Okafor\nThe IRIS Readiris licence lapsed; Iris will retest.", "PERSON",
                 directory) == ["Iris Okafor", "Iris"]


def test_a_hospital_is_no_person() -> None:
    assert found("Scanned letters from Leeds Royal and from Aintree Infirmary fail to file.", "PERSON") == []


# --- people --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "values"), [
    # a form's line whose whole value is a full name, the label no thing's
    ("Minutes taken by the team.\nNote taker: Adaeze Okonjo\nDecision: go", ["Adaeze Okonjo"]),
    ("Solicitante: Rafaela Duarte Pinheiro\nSetor: compras", ["Rafaela Duarte Pinheiro"]),
    ("Locum on shift: Kwesi Mensah-Bonsu (MPharm)\nStore 118", ["Kwesi Mensah-Bonsu"]),
    # a closing dash after the last sentence
    ("Card number removed from the note. – Ilse Vermeulen", ["Ilse Vermeulen"]),
    # a possession only people have
    ("Restored Aiko Fujimori's mailbox from the 3 May backup.", ["Aiko Fujimori"]),
    # "by", "via", an administrator's verb before a full name
    ("Rebuilt by Oluwatobi Adeyemi last night; escalated via Henrike Vos.", ["Oluwatobi Adeyemi", "Henrike Vos"]),
    ("Please add Ines Carvalho to the shared mailbox.", ["Ines Carvalho"]),
    # particles of Malay and Tamil names
    ("Visitor Siti Nurhaliza binti Abdullah signed in; contractor Ravi Kumar s/o Subramaniam too.",
     ["Siti Nurhaliza binti Abdullah", "Ravi Kumar s/o Subramaniam"]),
    # French "M." and German "Herrn"
    ("Rappeler M. Jean-Luc Fabre demain.", ["Jean-Luc Fabre"]),
    ("Bitte Herrn Özdemir zurückrufen.", ["Özdemir"]),
    # a payload's field named for a person
    ('{"cardholder":"Pernille Holm","last4":"4410"}', ["Pernille Holm"]),
    # before a login spelled from the name, in brackets
    ("Escalated once Tuğba Şahin (tsahin) got locked out.", ["Tuğba Şahin"]),
])
def test_names_by_their_place(text: str, values: list[str]) -> None:
    assert found(text, "PERSON") == values


@pytest.mark.parametrize(("text", "values"), [
    # fast-typed notes: a lower-case name after its cue, before a word that follows a person
    ("caller femi adeyemi says the app freezes", ["femi adeyemi"]),
    ("spoke w jorge salas re refund, sent form", ["jorge salas"]),
    ("hi my name is nadia haddad from the warehouse i cant log in", ["nadia haddad"]),
    # lower-case "pt" and "dr" before a capitalised name
    ("pt Agnieszka Wrona called, dr Mbeki to ring back", ["Agnieszka Wrona", "Mbeki"]),
])
def test_names_in_fast_typed_notes(text: str, values: list[str]) -> None:
    assert found(text, "PERSON") == values


def test_people_joined_to_a_known_person() -> None:
    directory = [Person(name="Maren Solheim", first="Maren", last="Solheim", user_name="msolheim",
                        email="maren.solheim@corp.example")]
    text = "Responders: Maren Solheim, Ruslan Abenov and Chioma Nwachukwu-Ude. Priya Nair and Maren Solheim paired."
    assert found(text, "PERSON", directory) == ["Maren Solheim", "Ruslan Abenov", "Chioma Nwachukwu-Ude",
                                                "Priya Nair", "Maren Solheim"]


def test_a_lower_case_chat_export_names_its_speakers() -> None:
    text = "tomas 9:02 AM\nwho has the VPN ticket\nlena 9:04 AM\nme, closing it now\n"
    assert found(text, "PERSON") == ["tomas", "lena"]


@pytest.mark.parametrize("text", [
    "cutover 10:00 PM\nall hands on the bridge",  # one stamped line is a plan, not a chat
    "Application: Epic Hyperspace\nHotel: Marina Bay Sands\nPlan: Gold Choice\n",  # labels of things
    "Build finished. - Release Pipeline",  # a dash before IT words
    "Resolved by the the by drained were was normally restarted.",  # lower-case words after a weak cue
    "Not in a bracket (prod) nor (deploy) nor Payments Team (billing).",
    "ee and member were fields; caller id says blocked from ph.",
])
def test_places_that_name_no_one(text: str) -> None:
    assert found(text, "PERSON") == []


def test_a_known_first_name_alone_by_a_role_or_in_brackets() -> None:
    directory = [Person(name="Summer Okoye", first="Summer", last="Okoye", user_name="sokoye",
                        email="summer.okoye@corp.example"),
                 Person(name="Dale Brennan", first="Dale", last="Brennan", user_name="dbrennan",
                        email="dale.brennan@corp.example")]
    text = "Live Agent (Summer): hello. Fleet coordinator Dale will check. A summer rota, a dale in Yorkshire."
    assert found(text, "PERSON", directory) == ["Summer", "Dale"]


# --- logins and client addresses -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "values"), [
    ("Benutzername kbrauer7 ist gesperrt.", ["kbrauer7"]),
    ("O usuário mlacerda foi bloqueado pelo job.", ["mlacerda"]),
    ("Compromised accounts: tvoss, h.okafor and pdiallo", ["tvoss", "h.okafor", "pdiallo"]),
    ("Automation granted GG_SALES_RO to vkamau until Friday.", ["vkamau"]),
    ("Restore https://corp-my.sharepoint.com/personal/ines_barros_corp_example from the bin.",
     ["ines_barros_corp_example"]),
    ("User Henrik Dahl (hdahl) cannot print.", ["hdahl"]),
])
def test_logins_by_their_place(text: str, values: list[str]) -> None:
    assert found(text, "USERNAME") == values


@pytest.mark.parametrize("text", [
    "Affected users: all of finance",  # prose after the label
    "Granted access to the share to everyone in HR.",
    "Ticket (prod) and (staging) differ.",
])
def test_no_logins_in_prose(text: str) -> None:
    assert found(text, "USERNAME") == []


@pytest.mark.parametrize(("text", "value"), [
    ("Her laptop had client IP 10.14.2.77 when the macro ran.", "10.14.2.77"),
    ("His router hands him 192.168.0.23 and the VPN fails.", "192.168.0.23"),
])
def test_a_person_s_private_address(text: str, value: str) -> None:
    assert found(text, "IP_ADDRESS") == [value]


def test_private_infrastructure_addresses_stay() -> None:
    assert found("Pool member 10.14.2.77 down; DNS 10.0.0.10 fine; assigned=10.200.4.17.", "IP_ADDRESS") == []


# --- addresses -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("Nieuw adres: Prinsengracht 263-II, 1016 GV Amsterdam.", "Prinsengracht 263-II, 1016 GV Amsterdam"),
    ("Vivo en Calle de Toledo 41, 2º dcha., 28005 Madrid desde mayo.", "Calle de Toledo 41, 2º dcha., 28005 Madrid"),
    ("Endereço: Avenida Paulista, 1578, apto 41, Bela Vista, São Paulo - SP, 01310-200",
     "Avenida Paulista, 1578, apto 41, Bela Vista, São Paulo - SP, 01310-200"),
    ("Deliver to 4 Rosemullion Cottages, Mawnan Smith, Falmouth TR11 5HT please",
     "4 Rosemullion Cottages, Mawnan Smith, Falmouth TR11 5HT"),
    ("Moved to Flat 2, 8 Harcourt Street, Dublin 2, D02 YX88 in June", "Flat 2, 8 Harcourt Street, Dublin 2, D02 YX88"),
    ("addr confirmed 412 maple ridge dr, roswell ga 30075 ok", "412 maple ridge dr, roswell ga 30075"),
    ("Ship to Blk 456 Tampines St 42, #05-117", "Blk 456 Tampines St 42, #05-117"),
    ("送付先: 〒530-0001 大阪府大阪市北区梅田3-1-1\nよろしく", "〒530-0001 大阪府大阪市北区梅田3-1-1"),
])
def test_addresses_of_other_countries(text: str, value: str) -> None:
    assert found(text, "STREET_ADDRESS") == [value]


def test_lower_case_words_before_a_street_type_alone_are_no_address() -> None:
    assert found("we have 2 main st branches, 3 new tools", "STREET_ADDRESS") == []


# --- round 4: partial accounts, devices, initials, records, more street types ----------------------------------------

def test_the_last_four_after_ending_and_no_phone_as_an_account() -> None:
    text = "Refund to checking acct ending 4471; she rang from (415) 555-0132 about the acct."
    assert found(text, "BANK_ACCOUNT") == ["4471"]
    assert found(text, "PHONE") == ["(415) 555-0132"]


def test_a_named_person_s_laptop_address() -> None:
    assert found("Repro from Amara's laptop 10.20.7.45 only.", "IP_ADDRESS") == ["10.20.7.45"]


def test_an_initial_after_a_title() -> None:
    assert found("Pt J. Okonkwo 71F, bed 4", "PERSON") == ["J. Okonkwo"]


def test_a_person_s_record_by_possession() -> None:
    assert found("The portal showed Bogdan Petrov's lab results to another user.", "PERSON") == ["Bogdan Petrov"]


@pytest.mark.parametrize(("text", "value"), [
    ("New address 9 Honor Oak Rise, London SE23 3RA from June.", "9 Honor Oak Rise, London SE23 3RA"),
    ("Moved to No. 22, 5th Cross, Jayanagar, Bengaluru 560041 last week.",
     "No. 22, 5th Cross, Jayanagar, Bengaluru 560041"),
])
def test_more_street_types(text: str, value: str) -> None:
    assert found(text, "STREET_ADDRESS") == [value]


def test_logins_an_administrator_reset() -> None:
    assert found("Password reset for okimura and lbauer, MFA re-enrolled.", "USERNAME") == ["okimura", "lbauer"]
    assert found("Reset for everyone in the team is planned.", "USERNAME") == []


# --- an Australian Medicare card's number, in its card's groups -----------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("Imaging bridge fails for Tayla Boon, Medicare card 4027 19963 2, ph 0412 555 870", "4027 19963 2"),
    ("Medicare number 2428 77813 2/1 on the referral.", "2428 77813 2"),
])
def test_a_medicare_card_number_in_its_groups(text: str, value: str) -> None:
    assert found(text, "HEALTH_PLAN_ID") == [value]
    assert not any("Medicare" in name for name in found(text, "PERSON"))


def test_a_grouped_number_without_its_word_is_no_member_id() -> None:
    assert found("Build 4027 19963 2 shipped to the Medicare-free clinics.", "HEALTH_PLAN_ID") == []
