"""NATIONAL_ID: other countries' national identity numbers, in the shapes people type them, and the look-alikes
(order numbers, phones, timestamps, IBANs, US SSNs, "FIN", "CF", "UID", "NAS", "IC") that must stay readable.

Every value is fictitious and passes its scheme's check (python-stdnum; test_the_values_pass_their_checks).
"""

from __future__ import annotations

import re

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.config.entities import canonical
from udc.redact import Redactor
from udc.redact import validators as V
from udc.redact.national import CHECKS, normal

KEY = SecretStr("national-key-0123456789abcdef")
REDACTOR = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")

# scheme → valid values (compact), used below in their written shapes
VALID = {
    "br": ["52998224725", "11358660662"], "nl": ["893873871", "458172571"], "es": ["94377249S", "X3086548V"],
    "sg": ["S1114029G", "T1958854D", "F3298525N", "M1234567K"], "za": ["5609055349099"], "ca": ["574688610"],
    "gb": ["AB123456C"], "in": ["794589041416"], "it": ["RSSMRA85T10A562S"], "fr": ["285037511500503"],
    "se": ["9803261586"], "no": ["19129559678"], "dk": ["1905666556"], "fi": ["0303877577", "140968276R"],
    "pl": ["96101299647"], "be": ["50091801078"], "pt": ["324400613", "172341815UA5"], "mx": ["BOXW310820HNERXN09"],
    "cn": ["11010519761108291X"], "kr": ["6002132592730"],
    "ar": ["20334455662"], "cl": ["12345670K"], "ch": ["7561234567804"], "cz": ["7905121004"], "ro": ["1850715401009"],
    "gr": ["12058510004"], "tr": ["12345671098"], "il": ["312345671"], "pk": ["3520244182736"],
    "id": ["3273011504880001"], "th": ["3101200456789"], "au": ["123456782"], "de": ["61234567806"],
    "at": ["1004150385"], "jp": ["123456789018"],
}


def found(text: str, field: str = "work_notes") -> list[tuple[str, str]]:
    return [(f.entity, text[f.start:f.end]) for f in REDACTOR.find(text, "incident", field)]


def national(text: str, field: str = "work_notes") -> list[str]:
    return [value for entity, value in found(text, field) if entity == "NATIONAL_ID"]


def test_the_values_pass_their_checks() -> None:
    assert [(s, v) for s, values in VALID.items() for v in values if not CHECKS[s](v)] == []


# (text, the value found): each shape without a word where it is distinctive, with its country's word where not
@pytest.mark.parametrize(("text", "value"), [
    # Brazil: formatted anywhere, bare after "CPF"
    ("Colaborador transferido, 529.982.247-25, sem acesso ao SAP", "529.982.247-25"),
    ("CPF: 11358660662", "11358660662"),
    ("cadastro de pessoas físicas 113.586.606-62", "113.586.606-62"),
    # Netherlands
    ("Mijn BSN is 893873871", "893873871"),
    ("burgerservicenummer: 4581.72.571", "4581.72.571"),
    ("sofinummer 458 172 571", "458 172 571"),
    # Spain: a DNI as one token and an NIE anywhere; spaced after "DNI"
    ("Mi DNI es 94377249S y mi cuenta", "94377249S"),
    ("pendiente: 94377249-S", "94377249-S"),
    ("DNI 94.377.249-S", "94.377.249-S"),
    ("NIE X3086548V caducado", "X3086548V"),
    ("tarjeta de residencia X-3086548-V", "X-3086548-V"),
    # Singapore NRIC / FIN anywhere
    ("NRIC on the visitor pass: S1114029G", "S1114029G"),
    ("contractor T1958854D, badge issued", "T1958854D"),
    ("FIN F3298525N", "F3298525N"),
    ("work pass M1234567K renewed", "M1234567K"),
    # South Africa after "ID number" or "RSA ID"
    ("ID number: 5609055349099", "5609055349099"),
    ("RSA ID 560905 5349 099", "560905 5349 099"),
    ("identity number 5609055349099 verified", "5609055349099"),
    # Canada after its words
    ("SIN 574 688 610", "574 688 610"),
    ("social insurance number: 574-688-610", "574-688-610"),
    ("numéro d'assurance sociale 574688610", "574688610"),
    ("NAS: 574 688 610", "574 688 610"),
    # UK National Insurance number anywhere in its shapes, lower case after its word
    ("NI contributions missing for AB 12 34 56 C since April", "AB 12 34 56 C"),
    ("payroll has AB123456C on file", "AB123456C"),
    ("national insurance ab123456c", "ab123456c"),
    # India
    ("Aadhaar 7945 8904 1416 linked", "7945 8904 1416"),
    ("UID: 7945-8904-1416", "7945-8904-1416"),
    # Italy, Mexico anywhere
    ("dipendente RSSMRA85T10A562S, contratto scaduto", "RSSMRA85T10A562S"),
    ("codice fiscale: RSSMRA85T10A562S", "RSSMRA85T10A562S"),
    ("alta en el IMSS con BOXW310820HNERXN09", "BOXW310820HNERXN09"),
    # France
    ("NIR 2 85 03 75 115 005 03", "2 85 03 75 115 005 03"),
    ("numéro de sécurité sociale : 285037511500503", "285037511500503"),
    # Sweden, Norway, Denmark, Finland
    ("personnummer 980326-1586", "980326-1586"),
    ("Personnummer: 19980326-1586", "19980326-1586"),
    ("fødselsnummer 191295 59678", "191295 59678"),
    ("CPR-nr. 190566-6556", "190566-6556"),
    ("CPR: 1905666556", "1905666556"),
    ("henkilötunnus 030387-7577", "030387-7577"),
    ("HETU: 140968A276R", None),  # (a wrong century sign: not this number)
    ("HETU: 140968-276R", "140968-276R"),
    # Poland, Belgium, Portugal
    ("PESEL 96101299647", "96101299647"),
    ("rijksregisternummer 50.09.18-010.78", "50.09.18-010.78"),
    ("numéro national 50091801078", "50091801078"),
    ("NIF 324 400 613", "324 400 613"),
    ("cartão de cidadão 17234181 5 UA5", "17234181 5 UA5"),
    # Mexico, China, South Korea
    ("CURP: BOXW310820HNERXN09", "BOXW310820HNERXN09"),
    ("身份证号码：11010519761108291X", "11010519761108291X"),
    ("resident identity card 110105 19761108 291X", "110105 19761108 291X"),
    ("주민등록번호 600213-2592730", "600213-2592730"),
    ("RRN 6002132592730", "6002132592730"),
    ("resident registration number 600213-2592730", "600213-2592730"),
    # Argentina, Chile, Switzerland (its AHV number's shape anywhere), Czechia, Romania, Greece, Turkey, Israel
    ("no coincide el CUIL 20-33445566-2", "20-33445566-2"),
    ("Cliente (RUT 12.345.670-K) llamó", "12.345.670-K"),
    ("AHV-Nummer 756.1234.5678.04 ungültig", "756.1234.5678.04"),
    ("he typed 756.1234.5678.04 in the form", "756.1234.5678.04"),
    ("RČ 790512/1004", "790512/1004"),
    ("CNP 1850715401009", "1850715401009"),
    ("AMKA 12058510004", "12058510004"),
    ("T.C. Kimlik No: 12345671098", "12345671098"),
    ("ת.ז. 312345671", "312345671"),
    # Pakistan, Indonesia, Thailand (shapes anywhere), Australia, Germany, Austria
    ("approved for 35202-4418273-6, transfer to Dubai", "35202-4418273-6"),
    ("NIK 3273011504880001", "3273011504880001"),
    ("Bangkok  ID 3-1012-00456-78-9  DOB", "3-1012-00456-78-9"),
    ("TFN 123 456 782", "123 456 782"),
    ("Steuer-ID: 61234567806", "61234567806"),
    ("SVNR 1004 150385", "1004 150385"),
    ("マイナンバー: 1234 5678 9018", "1234 5678 9018"),  # Japan's individual number
    # a word of every country
    ("national ID: 893873871", "893873871"),
])
def test_found_in_the_shapes_people_type(text: str, value: str | None) -> None:
    assert national(text) == ([value] if value else [])


@pytest.mark.parametrize("text", [
    # bare digit strings without a word: a BSN, a SIN, an Aadhaar, a South African id, a PESEL, a personnummer, a
    # NIR, a CPR, a fødselsnummer, a Belgian number, an RRN, a Chinese id, a Portuguese NIF
    "batch 893873871 done", "moved 574 688 610 rows", "7945 8904 1416 bytes", "job 5609055349099 finished",
    "count 96101299647", "range 980326-1586", "285037511500503 events", "ref 1905666556 updated",
    "next run 20261218", "ran 12345671098 times", "build 61234567806",
    "191295 59678 sent", "50.09.18-010.78", "600213-2592730", "11010519761108291X", "total 324400613",
])
def test_bare_digits_need_a_word(text: str) -> None:
    assert national(text) == []


@pytest.mark.parametrize("text", [
    # one digit or letter off, or one too few (stdnum would pad the BSN with a zero): the check fails
    "CPF 529.982.247-26", "BSN 893873872", "BSN 89387387", "DNI 94377249T", "NIE X3086548W", "S1114029H",
    "ID number 5609055349098", "SIN 574 688 611", "Aadhaar 7945 8904 1417", "codice fiscale RSSMRA85T10A562T",
    "NIR 285037511500504", "personnummer 980326-1587", "fødselsnummer 19129559679", "CPR-nr. 3202666556",
    "HETU 030387-7578", "PESEL 96101299648", "rijksregisternummer 50.09.18-010.79", "NIF 324400614",
    "CURP BOXW310820HNERXN08", "身份证号码：110105197611082910",
    # placeholders, and a number stdnum's data cannot place (its check raises)
    "CPF 111.111.111-11", "SIN 111 111 118", "身份证号码：111900198501011237",
    "RRN 6002132592731",
    # the UK's rules: no D, F, I, Q, U or V first, no O second, prefixes never issued, suffix A-D
    "DA123456C", "AO123456C", "GB123456C", "ZZ123456C", "AB123456E", "QQ123456C",
])
def test_a_failed_check_is_no_national_id(text: str) -> None:
    assert national(text) == []


@pytest.mark.parametrize("text", [
    # order, invoice, PO, serial numbers and asset tags, even with a valid check
    "Order 20231115Q shipped", "PO AB123456C approved", "serial no. S1114029G replaced", "asset tag: T1958854D",
    "Invoice 2024-118233 paid; PO 4500123456 open", "part number 94377249S on back order",
    # ticket numbers, sys_ids, GUIDs, hashes, versions, error codes
    "Ticket INC0012345, change CHG0034567, RITM0010001", "sys_id 9d385017c611228701d22104cc95c371",
    "GUID 3f2504e0-4f89-11d3-9a0c-0305e82c3301", "sha1 3f786850e387550fdab836ed7e6dc881de23001b",
    "build 10.0.19045.3930 on agent 7.4.1-beta", "error 0x80070005 and E-DEP-07",
    # timestamps: an epoch in milliseconds that passes South Africa's check, without its word
    "created 1705120000008 by the job", "ts=1705120000008 level=info",
    # IBANs, cards
    "IBAN NL91 ABNA 0417 1643 00 and BSN on file", "card 4111 1111 1111 1111",
    # "FIN" (finance, Finnish), "CF" (CloudFormation, Cloudflare), "UID", "NAS", "IC", "sin", "CPR" as other things
    "FIN approved PO 450012347 today", "FIN locale fi_FI, FIN-1234 closed", "CF stack 893873871 rolled back",
    "Cloudflare (CF) ray 7945890414161234", "uid=1000(bob) gid=1000 groups=574688610",
    "the NAS at 10.0.0.5, serial 574688610", "NAS volume 2 of 3 degraded", "IC 74HC595 replaced on board 893873871",
    "pedido sin número 574688610", "CPR training booked for 12/03/2025, room 1905666556",
])
def test_look_alikes_stay(text: str) -> None:
    assert national(text) == []


def test_a_phone_keeps_its_number() -> None:
    """A nine-digit number after a phone's word is a phone number, also after a national id's word."""
    assert found("SIN on file; call back on 416 555 019") == [("PHONE", "416 555 019")]
    assert found("ID number noted, phone 574 688 610") == [("PHONE", "574 688 610")]
    assert national("phone 574688610") == []


def test_a_us_ssn_stays_a_us_ssn() -> None:
    assert found("national ID: 536-22-8019") == [("US_SSN", "536-22-8019")]
    assert found("SSN 536 22 8019") == [("US_SSN", "536 22 8019")]


def test_ibans_and_cards_stay_what_they_are() -> None:
    """An IBAN's or a card's digit groups after a national id's word are no national id."""
    assert found("BSN en IBAN: NL91 ABNA 0417 1643 00") == [("IBAN", "NL91 ABNA 0417 1643 00")]
    assert found("national ID 4111111111111111") == [("CREDIT_CARD", "4111111111111111")]


def test_a_payload_key_is_the_word() -> None:
    assert national('{"cpf": "52998224725", "status": "ok"}') == ["52998224725"]
    assert national("nationalId=893873871 status=ok") == ["893873871"]
    assert national("<bsn>893873871</bsn>") == ["893873871"]


def test_words_that_are_often_something_else_count_only_in_capitals() -> None:
    assert national("SIN 574688610") == ["574688610"] and national("sin 574688610") == []
    assert national("NAS 574688610") == ["574688610"] and national("nas 574688610") == []
    assert national("UID 794589041416") == ["794589041416"] and national("uid 794589041416") == []


def test_a_common_word_names_only_the_numbers_a_check_says_more_about() -> None:
    """After "ID number" a nine-digit number (a BSN, SIN or NIF passes one of their checks one time in four) is not
    taken; after "national ID" it is."""
    assert national("employee ID number 893873871") == []
    assert national("national ID 893873871") == ["893873871"]
    assert national("ID number 96101299647") == ["96101299647"]


@pytest.mark.parametrize(("field", "value"), [
    ("u_cpf", "52998224725"), ("u_national_id", "893873871"), ("u_bsn", "8938 73 871"), ("u_nino", "ab123456c"),
    ("u_aadhaar", "794589041416"), ("u_personnummer", "19980326-1586"), ("u_pesel", "96101299647"),
    ("u_social_insurance_number", "574688610"), ("u_curp", "BOXW310820HNERXN09"),
])
def test_a_field_name_is_the_word(field: str, value: str) -> None:
    assert national(value, field) == [value]
    assert national(value) == ([value] if field in ("u_nino", "u_curp") and value.isupper() else [])


def test_a_field_that_only_contains_a_country_code_is_no_word() -> None:
    """"business" holds "sin", "unified" "nif", "guid" "uid": no field hint."""
    for field in ("u_business_unit", "u_unified_id", "u_guid", "u_midnight_run"):
        assert national("893873871", field) == [] and national("574688610", field) == []


def test_csv_column() -> None:
    text = "name,national_id,ticket\nAna Lima,529.982.247-25,INC0012345\nJo Smit,893873871,INC0012346\n"
    assert [v for e, v in found(text) if e == "NATIONAL_ID"] == ["529.982.247-25", "893873871"]


def test_the_token_does_not_change_with_the_formatting() -> None:
    records = [{"work_notes": text} for text in (
        "CPF 529.982.247-25", "CPF: 52998224725", "CPF 529 982 247 25",
        "personnummer 980326-1586", "Personnummer: 19980326-1586", "personnummer 9803261586",
        "NI number AB 12 34 56 C", "nino AB123456C", "national insurance ab 123456 c",
        "Aadhaar 7945 8904 1416", "UID 7945-8904-1416")]
    REDACTOR.redact_records("incident", records)
    tokens = [re.findall(r"<NATIONAL_ID:[0-9a-f]{8}>", r["work_notes"]) for r in records]
    assert all(len(t) == 1 for t in tokens), records
    groups = [tokens[0:3], tokens[3:6], tokens[6:9], tokens[9:11]]
    assert all(len({t[0] for t in group}) == 1 for group in groups)
    assert len({group[0][0] for group in groups}) == 4
    assert normal("529.982.247-25") == normal("52998224725") == "52998224725"


def test_the_entity_can_be_named_and_turned_off() -> None:
    assert canonical("national_id_number") == canonical("UK_NINO") == canonical("NATIONAL-ID") == "NATIONAL_ID"
    off = Redactor(RedactionConfig(enabled=True, key=KEY, entities=["EMAIL", "PHONE"]), "servicenow")
    assert off.find("CPF 529.982.247-25, NRIC S1114029G, BSN 893873871", "incident", "work_notes") == []


def test_validators() -> None:
    assert V.uk_nino("AB123456C") and V.uk_nino("JG103759A")
    assert not any(V.uk_nino(v) for v in ("AB123456E", "AO123456C", "BG123456C", "NK123456A", "ab123456c",
                                          "AB12345C", "DA123456C"))
    assert V.sg_nric("S1234567D") and V.sg_nric("M1234567K") and V.sg_nric("G1234567X")
    assert not any(V.sg_nric(v) for v in ("S1234567E", "A1234567D", "S123456D", "M1234567L"))
