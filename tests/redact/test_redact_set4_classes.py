"""Classes of values the fourth hand-written held-out set (bench/data/itsm-heldout-4.txt, measured blind first) and
the third showed stream 1 missing or destroying: names answering a question about a name, opening a message alone
or after a role or a self-introduction in another language, in CSV "holder" and "assigned_to" columns; logins a
person states, granted access, after "user X says", as a web server's remote user; US addresses with a direction,
Spanish floors; expiries written MMYY; diagnoses after "patient with". And look-alikes they destroyed: business
mailboxes, "last_login" timestamps, display names of kiosks and syncs, name prefixes in HL7, a unit "mg/dL" read as
"DL", a pod address after "dial", toll-free numbers, hotfix versions, claim numbers near "member", AD groups after
"from". Each case is written in other words than the sets, so what is tested is the class.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.records import Person
from udc.redact import Redactor

KEY = SecretStr("set4-classes-key-0123456789abcdef")


def found(text: str, people: list[Person] | None = None) -> list[tuple[str, str]]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    if people:
        redactor.learn_directory(people)
    return [(f.entity, text[f.start:f.end]) for f in redactor.find(text, "incident", "work_notes")]


@pytest.mark.parametrize(("text", "entity", "value"), [
    # the answer on the line after a question about a name
    ("Bot: Can you type your full name please?\nYou: Adaeze Nwachukwu-Baptiste\nBot: thanks", "PERSON",
     "Adaeze Nwachukwu-Baptiste"),
    # a role before a full name; a self-introduction in Spanish, French, German
    ("The field engineer Ruslan Abdrakhmanov will arrive at nine.", "PERSON", "Ruslan Abdrakhmanov"),
    ("Plan member Thandiwe Mokoena disputes the bill.", "PERSON", "Thandiwe Mokoena"),
    ("Buenos días, me llamo Ximena Ortega Ruiz y trabajo en compras.", "PERSON", "Ximena Ortega Ruiz"),
    ("Bonjour, je suis Amélie Fournier du service paie.", "PERSON", "Amélie Fournier"),
    ("Hallo, ich bin Lukas Baumgartner aus dem Lager.", "PERSON", "Lukas Baumgartner"),
    ("Room 4 was booked by Tiago Mendonça for the audit.", "PERSON", "Tiago Mendonça"),
    # CSV columns of people
    ("locker,holder,floor\nL-14,Mehmet Aydın,3\n", "PERSON", "Mehmet Aydın"),
    ("ci,assigned_to,status\nPRN-22,Oluwaseun Bakare,In use\n", "PERSON", "Oluwaseun Bakare"),
    # logins: stated by a person, granted access, doing something, a web server's remote user
    ("Good day, my id is pkaranja and I cannot print.", "USERNAME", "pkaranja"),
    ("her user ID is zmorales, please unlock", "USERNAME", "zmorales"),
    ("Can you give tobrien and k.lindqvist write access to the Audit share?", "USERNAME", "k.lindqvist"),
    ("user hsaleh says teams keeps freezing", "USERNAME", "hsaleh"),
    ('91.198.174.2 - rbianchi [11/Jan/2025:09:00:01 +0000] "GET /a HTTP/1.1" 200 1', "USERNAME", "rbianchi"),
    # addresses: a direction before or after the street's name, a Spanish floor and door
    ("ship it to 810 N Lakeshore Dr, Chicago, IL 60611 please", "STREET_ADDRESS",
     "810 N Lakeshore Dr, Chicago, IL 60611"),
    ("Avda. home: Calle Mayor 12, 2º A, 28013 Madrid", "STREET_ADDRESS", "Calle Mayor 12, 2º A, 28013 Madrid"),
    # card expiry without a separator right after its word
    ("Mastercard 5425 2334 3010 9903 exp 0328 cvc 712", "CARD_EXPIRY", "0328"),
    # a condition after "patient with"
    ("bed 12, a patient with atrial fibrillation, alarm silent", "DIAGNOSIS", "atrial fibrillation"),
    # round two, from both sets' remaining misses: sign-offs in other languages and with "and"
    ("see attachment\nMit freundlichen Grüßen\nKatharina Oberhuber\nEinkauf", "PERSON", "Katharina Oberhuber"),
    ("pls revert\nThanks & Regards\nSaravanan", "PERSON", "Saravanan"),
    # two particles, an Irish one
    ("ask my colleague Anke van der Linden, she knows the tool", "PERSON", "Anke van der Linden"),
    ("caller Donncha Ó Dálaigh verified", "PERSON", "Donncha Ó Dálaigh"),
    # logins: "log in as", an access review's "account" column
    ("From Monday he will log in as tmwangi on the new laptop.", "USERNAME", "tmwangi"),
    ("id,account,decision\n7,rmoreau,Retain\n", "USERNAME", "rmoreau"),
    # phones after short or call-back words; a routing number after "wire" (its checksum holds)
    ("any issue ph 09 555 0134 after six", "PHONE", "09 555 0134"),
    ("the callback number is 0398 765 432 today", "PHONE", "0398 765 432"),
    ("wire it via 021000021 today", "ABA_ROUTING", "021000021"),
    # a lower-case street abbreviation
    ("adres: ul. Długa 12/4, 80-831 Gdańsk", "STREET_ADDRESS", "ul. Długa 12/4, 80-831 Gdańsk"),
    # diagnoses: British spellings, a stage, a qualifier, after "prescription for"
    ("History of iron deficiency anaemia since 2019.", "DIAGNOSIS", "iron deficiency anaemia"),
    ("Dx: chronic kidney disease stage 4 per nephrology", "DIAGNOSIS", "chronic kidney disease stage 4"),
    ("indication: possible pulmonary embolism", "DIAGNOSIS", "possible pulmonary embolism"),
    ("her prescription for epilepsy ran out", "DIAGNOSIS", "epilepsy"),
])
def test_found(text: str, entity: str, value: str) -> None:
    assert (entity, value) in found(text)


def test_first_name_opening_a_message() -> None:
    people = [Person(name="Oyelaran Temitope", first="Temitope", last="Oyelaran", user_name="toyelaran",
                     email="t.oyelaran@corp.example")]
    assert ("PERSON", "Temitope") in found("Subject: disk\n\nTemitope,\n\nthe disk is replaced.", people)
    assert ("PERSON", "Temitope") in found("Fixed, done by Temitope this morning.", people)


@pytest.mark.parametrize("text", [
    # mailboxes of business functions, in other languages too
    "Send the remittance advice to payments@northwind.example and invoices@northwind.example.",
    "Questions to vendor-mgmt@fabrikam.example or ar@contoso.example; Rechnungen an rechnung@firma.example.",
    # a timestamp column whose header holds "login", display names of no person
    "account,display_name,last_login\nsvc_print,Print Spooler Sync,2024-10-02 11:04\n",
    "asset,assigned_to\nKIOSK-01,Kiosk - Ward Nurses\n",
    "host,username\nWS-0091,kiosk-ward5\nWS-0092,porters-pool\nWS-0093,shared-pharmacy\n",
    # a unit "mg/dL" is no driver's licence; a pod address after "dial"; toll-free numbers
    "OBX|1|NM|GLU||95|mg/dL|65-110|N",
    "error: dial tcp 10.128.7.21:8080: connect: no route to host",
    "Call the vendor hotline on +1 888 555 0199 or 0800 123 4567.",
    # a hotfix's version, a claim number near "member", an AD group after "from"
    "Applied hotfix 3.2.0.11 on the app tier.",
    "Member services reopened claim CLM-40017720 after review.",
    "Removed the leaver from Domain Admins and Backup Operators.",
    # a login cue inside a URL, a login said to be broken, words after "login"
    "The page /login blocked again; my login is broken since Monday.",
    "Spike of VPN login failures at 09:00, then login attempts dropped.",
    # a mail relay's address after its name, as Postfix logs it
    "postfix/smtp[911]: 3F2A1: to=<orders@acme.example>, relay=aspmx.l.google.com[142.250.27.26]:25, status=sent",
    # a company before a person's verb; the pH of a sample
    "Northwind Medical Supply requests a new PO.",
    "Sample pH 7.41, lactate normal.",
])
def test_lookalikes_kept(text: str) -> None:
    assert found(text) == []


def test_hl7_name_is_one_value_and_its_prefix_no_name() -> None:
    text = "PID|1||0042^^^H^MR||Okoro^Chidinma^A^^Mrs||19700101|F"
    names = [v for e, v in found(text) if e == "PERSON"]
    assert names == ["Okoro^Chidinma^A"]  # (the initial inside the name's span; the prefix "Mrs" left)


def test_known_first_name_as_subject_or_after_a_hand_over() -> None:
    people = [Person(name="Ayesha Siddiqui", first="Ayesha", last="Siddiqui", user_name="asiddiqui",
                     email="ayesha.siddiqui@corp.example")]
    assert ("PERSON", "Ayesha") in found("09:12 Ayesha (storage) confirms the LUN is back.", people)
    assert ("PERSON", "Ayesha") in found("still open, waiting on Ayesha for the logs", people)
    assert ("PERSON", "Ayesha") in found("fine, assigning to Ayesha.", people)
    # the same name inside a longer capitalised run or before other verbs stays
    assert found("Ayesha Storage Array rebooted at 09:12", people) == []


def test_name_before_at_and_their_phone() -> None:
    assert ("PERSON", "Tadeusz Wróblewski") in found("Verified: Tadeusz Wróblewski at (312) 555-0199 answered.")
    assert found("Call Network Operations at (312) 555-0199.") == [("PHONE", "(312) 555-0199")]


def test_unresolved_mail_client_stays_an_address() -> None:
    assert found("postfix/smtpd[77]: connect from unknown[81.2.69.160]") == [("IP_ADDRESS", "81.2.69.160")]


def test_hl7_pid3_repetitions_typed_by_their_code() -> None:
    text = "PID|1||A771^^^H^MR~QZK40019922^^^AETNA^MB~B552^^^H^PI||Osei^Kwabena||19600101|M"
    got = found(text)
    assert ("MRN", "A771") in got and ("HEALTH_PLAN_ID", "QZK40019922") in got and ("MRN", "B552") in got
