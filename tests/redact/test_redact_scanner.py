"""Stream 1 free text: real identifiers in odd formatting are caught, look-alikes pass through, scans stay linear."""

from __future__ import annotations

import sys
import time

import pytest
from itsm_corpus import documents

from udc.config import entities as E
from udc.redact.scanner import Scanner

SCANNER = Scanner(["US", "GB"], [])


def found(text: str, field_types: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start:f.end]) for f in SCANNER.scan(text, E.ALL, field_types)]


@pytest.mark.parametrize("text,entity,value", [
    # cards: spaces, dashes, line breaks, Amex layout, glued to punctuation
    ("card 4111 1111 1111 1111 expired", E.CREDIT_CARD, "4111 1111 1111 1111"),
    ("pay with 4111-1111-1111-1111.", E.CREDIT_CARD, "4111-1111-1111-1111"),
    ("number is 4111 1111\n1111 1111 thanks", E.CREDIT_CARD, "4111 1111\n1111 1111"),
    ("amex 3782 822463 10005", E.CREDIT_CARD, "3782 822463 10005"),
    ("(5555555555554444)", E.CREDIT_CARD, "5555555555554444"),
    ("my card 630427373398 is lost", E.CREDIT_CARD, "630427373398"),  # 12-digit Maestro, with context
    # SSNs: dashed alone; spaces, dots or none after a context word
    ("SSN: 123-45-6789", E.US_SSN, "123-45-6789"),
    ("employee 123-45-6789 on file", E.US_SSN, "123-45-6789"),
    ("social security number 123 45 6789", E.US_SSN, "123 45 6789"),
    ("ssn=123456789", E.US_SSN, "123456789"),
    # e-mail
    ("mail John.Smith+it@Example.CO.UK today", E.EMAIL, "John.Smith+it@Example.CO.UK"),
    # IBAN: grouped, lower case, glued to a full stop
    ("IBAN GB82 WEST 1234 5698 7654 32.", E.IBAN, "GB82 WEST 1234 5698 7654 32"),
    ("my iban is gb82west12345698765432", E.IBAN, "gb82west12345698765432"),
    # phones: US, UK, international, extension, bare digits after a context word
    ("call (415) 555-2671 now", E.PHONE, "(415) 555-2671"),
    ("cell 415.555.2671", E.PHONE, "415.555.2671"),
    ("ring +44 20 7946 0958", E.PHONE, "+44 20 7946 0958"),
    ("desk 020 7946 0958 ext 12", E.PHONE, "020 7946 0958 ext 12"),
    ("Phone:\n4155552671", E.PHONE, "4155552671"),
    ("Mobile: 0496 46 46 70", E.PHONE, "0496 46 46 70"),  # region not configured, but right after its word
    # addresses that are personal data: public only
    ("login from 89.160.20.112 failed", E.IP_ADDRESS, "89.160.20.112"),
    ("client 2a02:8108:1a40:3b00::17 blocked", E.IP_ADDRESS, "2a02:8108:1a40:3b00::17"),
    # context-only identifiers
    ("DOB: 02/10/1985", E.DATE_OF_BIRTH, "02/10/1985"),
    ("born on 12 March 1980 in Leeds", E.DATE_OF_BIRTH, "12 March 1980"),
    ("date of birth 1985-02-10", E.DATE_OF_BIRTH, "1985-02-10"),
    ("passport no. 123456789", E.US_PASSPORT, "123456789"),
    ("my driver's license number is 2270-66-1551", E.US_DRIVER_LICENSE, "2270-66-1551"),
    ("MRN: 00123456", E.MRN, "00123456"),
    ("CVV 123", E.CVV, "123"),
    ("NHS number 943 476 5919", E.UK_NHS, "943 476 5919"),
    ("NPI 1234567893", E.US_NPI, "1234567893"),
    ("routing number 021000021", E.ABA_ROUTING, "021000021"),
])
def test_real_identifiers_are_caught(text: str, entity: str, value: str) -> None:
    assert (entity, value) in found(text)


@pytest.mark.parametrize("text", [
    "INC0012345 CHG0030001 RITM0010001 KB0012345 PRB0040001 TASK0012345 SCTASK0012345",
    "see OPS-1234 and PAY-98765432",
    "sys_id 5137153cc611227c000bbd1bd8cd2005 and 123456781234567812345678123456789",
    "correlation {3f2504e0-4f89-11d3-9a0c-0305e82c3301} and 12345678-1234-1234-1234-123456789012",
    "epoch 1700000000 and 1700000000123 and 1700000000123456",
    "upgraded to version 4.5.1.2, agent 10.2.3.4, v8.8.8.8 and 2.4.6-beta and 1.8.0_292 and 10.0.19041.1234.5",
    "2024-01-15 10:22:33 ERROR 2024-01-15T10:22:33.123Z 01/15/2024 15.01.2024 15/Jan/2024:10:22:33 +0000",
    "commit 4a1f9e2c7d8b6a5f4e3d2c1b0a9f8e7d6c5b4a39 image sha256:" + "ab" * 32,
    "db01.prod.acme-internal.net resolved to 10.20.30.40; 192.168.1.1, 172.16.5.4, 127.0.0.1, 192.0.2.7",
    "\tat com.acme.orders.Service.handle(Service.java:1234)\n\t... 42 more",
    '  File "/opt/app/etl/load.py", line 142, in main',
    "dd.trace_id=6680481366601616317 offset=5555555555554444 order_id: 4111111111111111",
    "git@github.com:acme/orders.git and noreply@github.com",
    "4111111111111112 is not Luhn; 9111111111111119 has no scheme",
    "no context: 9434765919 (NHS-valid), 123 45 6789 (SSN-shaped), 021000021 (ABA-valid), 1234567893 (NPI-valid)",
    "born in 1980, no day given",
    "release dates 1985-02-10 and 02/10/1985 without a context word",
    "pid 2231 port 8443 took 1532 ms; 987654321 bytes; Microsoft case 112345678901",
    "1,234,567,890 records; ratio 3.14159265358979",
])
def test_look_alikes_pass_through(text: str) -> None:
    assert found(text) == []


def test_field_name_gives_context_to_the_whole_value() -> None:
    assert found("123456789", frozenset({E.US_SSN})) == [(E.US_SSN, "123456789")]
    assert found("1985-02-10", frozenset({E.DATE_OF_BIRTH})) == [(E.DATE_OF_BIRTH, "1985-02-10")]
    assert found("123456789") == []


def test_same_value_in_different_formats_has_one_key() -> None:
    keys = {f.key for text in ("(415) 555-2671", "+1 415 555 2671", "415.555.2671")
            for f in SCANNER.scan(f"call {text}", E.ALL)}
    assert keys == {"+14155552671"}


def test_allow_list_keeps_listed_values() -> None:
    scanner = Scanner(["US"], ["servicedesk@acme.com", "+1 (415) 555-2671"])
    text = "mail servicedesk@acme.com or call 415 555 2671; jane@acme.com"
    assert [text[f.start:f.end] for f in scanner.scan(text, E.ALL)] == ["jane@acme.com"]


def test_disabled_entity_types_are_not_reported() -> None:
    text = "card 4111 1111 1111 1111, mail a@b.com"
    assert [f.entity for f in SCANNER.scan(text, frozenset({E.EMAIL}))] == [E.EMAIL]


def test_no_false_hits_on_pii_free_itsm_text() -> None:
    hits = [(f.entity, doc[f.start:f.end]) for doc in documents(200_000, seed=11) for f in SCANNER.scan(doc, E.ALL)]
    assert hits == []


@pytest.mark.parametrize("unit", ["1 ", "1-", "a" * 63 + ".", "a@", "4" * 19 + " ", "1.", "GB82", "+(", "12:",
                                  "x" * 99, "ssn 1 ", "card "])
def test_pathological_input_scans_in_linear_time(unit: str) -> None:
    def text(n: int) -> str:
        return unit * (n // len(unit))

    def calls(n: int) -> int:  # Python and C function calls made by one scan: a count of work, no clock
        count = 0

        def tally(frame: object, event: str, arg: object) -> None:
            nonlocal count
            count += event in ("call", "c_call")

        sample = text(n)
        sys.setprofile(tally)
        try:
            SCANNER.scan(sample, E.ALL)
        finally:
            sys.setprofile(None)
        return count

    # the Python side: 4x the input makes about 4x the calls (quadratic work would make 16x)
    assert calls(100_000) <= 5 * calls(25_000) + 1_000
    # the regex engine's side (its steps cannot be counted): CPU seconds, small and large interleaved so a busy
    # moment of the machine hits both, the best of five
    small_text, large_text = text(25_000), text(100_000)
    small, large = [], []
    for _ in range(5):
        for sample, timings in ((small_text, small), (large_text, large)):
            start = time.process_time()
            SCANNER.scan(sample, E.ALL)
            timings.append(time.process_time() - start)
    assert min(large) < 5.0
    assert min(large) < 10 * max(min(small), 2e-3)  # 4x the input: far from the 16x of quadratic behaviour
