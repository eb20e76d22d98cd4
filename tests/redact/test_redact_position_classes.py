"""Classes of values the second hand-written held-out set (bench/data/itsm-heldout-2.txt) showed stream 1 missing,
and neighbouring classes of real ITSM text none of the sets covered: self-introductions, name fields, e-mail headers
without an address, signatures under "-- ", external Teams speakers, known first names after "per"/"ask"; logins as
chat speakers, @mentions, in pam/sudo/home-folder/ssh/guest shapes and in people fields; street addresses in
European order or with the unit first; diagnoses after clinical phrasing; clinicians in HL7 order segments; and the
two look-alike families set 2 saw destroyed (public resolvers, team mailboxes). Each case is written in other words
than the set, so what is tested is the class.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.records import Person
from udc.redact import Redactor

KEY = SecretStr("position-classes-key-0123456789")


def found(text: str, people: list[Person] | None = None) -> list[tuple[str, str]]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    if people:
        redactor.learn_directory(people)
    return [(f.entity, text[f.start:f.end]) for f in redactor.find(text, "incident", "work_notes")]


@pytest.mark.parametrize(("text", "expected"), [
    # self-introductions: the name, then a comma or "from", "calling", "here"
    ("Voicemail: hello, this is Oisín Mac Giolla, calling about the scanner.", [("PERSON", "Oisín Mac Giolla")]),
    ("Hi, it's Babajide Ogunleye from ward 7, my badge stopped working.", [("PERSON", "Babajide Ogunleye")]),
    ("I am Radhika Venkataraman, from the billing office.", [("PERSON", "Radhika Venkataraman")]),
    # name fields: "Employee name:", "Name on card:", "Assignee:", "Reporter:"
    ("Employee name: Nguyễn Thị Hoa\nForm: W-4", [("PERSON", "Nguyễn Thị Hoa")]),
    ("Assignee: Folasade Adeyemi\nReporter: Henrik Sørensen", [
        ("PERSON", "Folasade Adeyemi"), ("PERSON", "Henrik Sørensen")]),
    # e-mail headers naming a person without the address; a signature under "-- " or after a blank line
    ("To: Marisol Echeverría; Service Desk\nSubject: laptop", [("PERSON", "Marisol Echeverría")]),
    ("see below\n-- \nEamon Doherty\nHead of Estates", [("PERSON", "Eamon Doherty")]),
    ("Kind regards,\n\nSakura Ishikawa | Payroll Officer", [("PERSON", "Sakura Ishikawa")]),
    ("Good morning Teodora, the printer is back.", [("PERSON", "Teodora")]),
    # a Teams speaker marked as external
    ("Joost Vermeulen (External) 14:02\nthe certificate expired", [("PERSON", "Joost Vermeulen")]),
    # a full name as the subject of a verb only people do
    ("Before the block Ewurabena Quaye typed her password into the form.", [("PERSON", "Ewurabena Quaye")]),
    # given names that are months, leading a longer name or alone as a chat speaker
    ("Refund for August Mbeki: card declined.", [("PERSON", "August Mbeki")]),
    ("[09:14] May: is the portal down?", [("PERSON", "May")]),
    # a name before a comma when what follows it is no name
    ("Site contact Tanvir Rahman, Unit 2, 9 Beach Road, Coogee NSW 2034", [
        ("PERSON", "Tanvir Rahman"), ("STREET_ADDRESS", "Unit 2, 9 Beach Road, Coogee NSW 2034")]),
])
def test_names_by_position(text: str, expected: list[tuple[str, str]]) -> None:
    assert sorted(f for f in found(text) if f[0] in {"PERSON", "STREET_ADDRESS"}) == sorted(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("[2025-01-14 07:31] m.haddad-ali: is the VPN down?\n[2025-01-14 07:32] rfischer2: yes", [
        "m.haddad-ali", "rfischer2"]),
    ("thanks @k.osei, closing", ["k.osei"]),
    ("Assigned, [~lpetrova] please review", ["lpetrova"]),
    ("Jan 14 02:10:09 db1 sshd[911]: pam_unix(sshd:session): session opened for user wtembo(uid=1201) by (uid=0)",
     ["wtembo"]),
    ("Jan 14 02:10:44 db1 sudo[912]:   wtembo : TTY=pts/2 ; PWD=/home/wtembo ; USER=root ; COMMAND=/bin/ls", [
        "wtembo", "wtembo"]),
    ('auth failed for user "gmarchetti" on console', ["gmarchetti"]),
    ("guest account joao.silva_partner.example#EXT# was blocked", ["joao.silva_partner.example#EXT#"]),
    ("Requested for: a.kowalczyk", ["a.kowalczyk"]),
    ("she ran ssh b.nakamura@jump-03 and got denied", ["b.nakamura"]),
    ("Please add ofashola to SG-Finance-Readers today", ["ofashola"]),
    ("Agent: can you give me your username?\nCaller: yfarouk", ["yfarouk"]),
])
def test_logins_by_shape(text: str, expected: list[str]) -> None:
    assert sorted(v for e, v in found(text) if e == "USERNAME") == sorted(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("Lieferadresse: Berliner Allee 56, 40212 Düsseldorf", "Berliner Allee 56, 40212 Düsseldorf"),
    ("Retour à 14 Rue des Lilas, 75011 Paris", "14 Rue des Lilas, 75011 Paris"),
    ("Home: Kungsgatan 44, 111 35 Stockholm", "Kungsgatan 44, 111 35 Stockholm"),
    ("Sede: Via Roma 3, 00184 Roma", "Via Roma 3, 00184 Roma"),
    ("Deliver to Flat 7, 19 Albert Road, Leeds LS6 4AB please", "Flat 7, 19 Albert Road, Leeds LS6 4AB"),
    ("Postal: 4/12 Ocean Street, Bondi NSW 2026", "4/12 Ocean Street, Bondi NSW 2026"),
])
def test_street_addresses_in_other_orders(text: str, expected: str) -> None:
    assert ("STREET_ADDRESS", expected) in found(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("Presenting with acute bronchitis since Monday.", "acute bronchitis"),
    ("Indication: rheumatoid arthritis.", "rheumatoid arthritis"),
    ("Reason for referral: chronic kidney disease.", "chronic kidney disease"),
    ("Known type 1 diabetes mellitus, insulin pump.", "type 1 diabetes mellitus"),
])
def test_diagnoses_after_clinical_phrasing(text: str, expected: str) -> None:
    assert ("DIAGNOSIS", expected) in found(text)


def test_clinicians_in_hl7_order_segments() -> None:
    text = "OBR|1|A1|B2|80053^CMP^LN|||20250114|||||||||1982641759^Okereke^Chidi\n"
    assert sorted(found(text)) == sorted([("US_NPI", "1982641759"), ("PERSON", "Okereke^Chidi")])  # one value
    text = "PV1|1|O|ENDO||||2040636914^ABERNATHY^CLAIRE^M^^^^^^NPI\n"  # a middle initial after the names goes too
    assert sorted(found(text)) == sorted([("US_NPI", "2040636914"), ("PERSON", "ABERNATHY^CLAIRE^M")])


def test_an_icd10_code_that_spells_a_code_system_name() -> None:
    assert found("DG1|1||I10^Essential hypertension^I10\n") == [("DIAGNOSIS", "I10"),
                                                              ("DIAGNOSIS", "Essential hypertension")]


def test_csv_logon_and_associate_columns() -> None:
    text = "Associate,Logon ID,Site\nMarta Quispe,mquispe,Lima\nAlibek Nurlanov,anurlanov,Almaty\n"
    assert sorted(found(text)) == sorted([("PERSON", "Marta Quispe"), ("USERNAME", "mquispe"),
                                          ("PERSON", "Alibek Nurlanov"), ("USERNAME", "anurlanov")])


def test_known_first_names_after_hand_over_words_and_hyphenated_logins() -> None:
    people = [Person(name="Chukwuemeka Obi", first="Chukwuemeka", last="Obi", user_name="cobi1"),
              Person(name="Layla Al-Amin", first="Layla", last="Al-Amin", user_name="lalamin")]
    text = "closed per Chukwuemeka; I'll ask Layla about lalamin's mailbox"
    assert sorted(found(text, people)) == sorted([("PERSON", "Chukwuemeka"), ("PERSON", "Layla"),
                                                  ("USERNAME", "lalamin")])


@pytest.mark.parametrize("text", [
    "Resolvers 8.8.8.8, 1.1.1.1 and 9.9.9.9 answered; 2001:4860:4860::8888 too.",
    "Escalate to network-team@acme.example or dl-finance@acme.example.",
    "We sent it via Teams 3 times to 10000 users.",
    "Use a test login for user convenience; for user testing use the sandbox.",
    "Caller: Service Desk\nAssignee: Network Operations",
    "it is Critical, this is Tuesday, from the Kafka team",
    "Red Hat Support confirmed the bug; Change Advisory Board approved it; Windows Update reported failure.",
    "Upgrade planned for May 2025; the April Patch caused it; see you in June, thanks.",
    "Caller: Guest\nTicket was closed by Auto Close after 5 days",
    "cd /home/ubuntu && ls /home/ec2-user; user=postgres",
    "Add memory to VM-Prod-01 and disk to SRV_DB_02.",
])
def test_look_alikes_stay(text: str) -> None:
    assert found(text) == []
