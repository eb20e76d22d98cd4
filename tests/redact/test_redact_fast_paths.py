"""The fast paths of stream 1 find what the plain patterns they replaced found, at the edges where they differ in
how they look: the first line of a text, an e-mail read from its "@", a record's names found word by word, a
greeting found from its last letters, phone numbers and tokens computed once."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.config import entities as E
from udc.records import Person
from udc.redact import Redactor, structured
from udc.redact.lowercase import lower_case
from udc.redact.names import NameMatcher
from udc.redact.redactor import _find_names, _greeted, _spread_names
from udc.redact.replace import Replacer
from udc.redact.scanner import Finding, Scanner, resolve_overlaps
from udc.redact.validators import ip_kind

KEY = SecretStr("fast-path-key-0123456789")
SCANNER = Scanner(["US", "GB"], [])
# the e-mail pattern the "@"-first reader replaced, as the reference
EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]{1,64}@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}"
                   r"(?![\w\-]|\.[A-Za-z0-9])")


def redactor() -> Redactor:
    return Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")


def test_line_patterns_match_on_the_first_line_too() -> None:
    r = redactor()
    text, counts = r.redact_text("2025-01-05 20:50:59 - Maya Novak (Work notes)\nrebooted", "incident", "work_notes")
    assert "Maya" not in text and counts == {"PERSON": 1}
    chat, _ = r.redact_text("[10:04] Aigerim Seitkali: hello?\n[10:05] Agent: hi")
    assert "Aigerim" not in chat
    hl7 = structured.hl7("PID|1||MRN12345^^^HOSP^MR||Novak^Maya||19800101|F")
    assert {(f.entity, f.key) for f in hl7} >= {(E.MRN, "mrn12345"), (E.PERSON, "maya novak"),
                                                (E.DATE_OF_BIRTH, "19800101")}
    cells = structured.csv_columns("name,phone\nMaya Novak,+44 20 7946 0958\n")
    assert [(f.entity, f.start, f.end) for f in cells] == [(E.PERSON, 11, 21), (E.PHONE, 22, 38)]


@pytest.mark.parametrize("text", [
    "mail j.doe@acme.example today", "a@b.com@c.com", "x" * 64 + "@acme.example", "x" * 65 + "@acme.example",
    "(priya.raman@acme.example)", "git@github.com:org/repo.git", "noreply@acme.example and ann@acme.example",
    "user@host.example.com.", "a.b@c.d", "name@sub.domain.example-x.org/x", "ünïcode@acme.example",
])
def test_emails_read_from_their_at_sign_are_the_patterns(text: str) -> None:
    expected = [m.span() for m in EMAIL.finditer(text) if m.group().split("@")[0].lower() not in (
        "git", "noreply")]
    assert [(f.start, f.end) for f in SCANNER.scan(text, frozenset({E.EMAIL}))] == expected


def test_a_records_names_are_found_whole_word_leftmost_and_without_overlap() -> None:
    names = _spread_names({"anna lee", "lee smith", "abel tuter", "single"})
    # longest first; a word found alone is never spread, the first word of a full name is (where capitalised)
    assert names == ("abel tuter", "lee smith", "anna lee", "abel", "anna", "lee")
    text = "Joanna Lee Smith met ABEL\n  Tuter; anna lee_x, Anna Lee."
    assert [text[f.start:f.end] for f in _find_names(text, names)] == ["Lee Smith", "ABEL\n  Tuter", "Anna Lee"]


@pytest.mark.parametrize("before,greeted", [
    ("Hi ", True), ("Thanks, ", True), ("thank you\t", True), ("good morning! ", True), ("cc: ", True),
    ("Called ", False), ("this ", False), ("Hi    ", False), ("Regards,", False), ("for ", False),
])
def test_greetings_are_recognised_from_their_last_letters(before: str, greeted: bool) -> None:
    assert _greeted(before + "Priya", len(before)) is greeted


def test_a_known_first_name_after_a_greeting_only() -> None:
    r = redactor()
    r.learn_directory([Person(name="Priya Raman", first="Priya", last="Raman", user_name="praman")])
    text, _ = r.redact_text("Hi Priya, the Priya cluster is back. Thanks, Priya", "incident", "work_notes")
    assert text.count("Priya") == 1 and "the Priya cluster" in text


def test_a_phone_number_is_parsed_once_and_keyed_alike() -> None:
    scanner = Scanner(["US"], [])
    assert scanner.phone_key("(415) 555-2671") == scanner.phone_key("(415) 555-2671") == "+14155552671"
    assert scanner.phone_key("12") is None
    assert scanner._phone_cache == {"(415) 555-2671": "+14155552671", "12": None}


def test_tokens_are_the_keyed_hmac_whether_cached_or_not() -> None:
    replacer = Replacer(b"k" * 24)
    first = replacer.token(E.EMAIL, "a@b.example")
    expected = hmac.new(b"k" * 24, b"EMAIL\x1fa@b.example", hashlib.sha256).hexdigest()[:8]
    assert first == replacer.token(E.EMAIL, "a@b.example") == f"<EMAIL:{expected}>" == "<EMAIL:fd510d9f>"
    assert replacer.token(E.PHONE, "a@b.example") != first  # the type is part of what is hashed


def test_overlaps_keep_the_earliest_then_the_longest_and_the_first_of_equals() -> None:
    a, b, c = Finding(5, 9, E.PHONE, "a"), Finding(5, 12, E.PHONE, "b"), Finding(5, 12, E.US_SSN, "c")
    cvv, email = Finding(0, 3, E.CVV, "x"), Finding(10, 30, E.EMAIL, "d")
    assert resolve_overlaps([a, c, b]) == [c] and resolve_overlaps([b, a, c]) == [b]  # equal spans: the first given
    assert resolve_overlaps([email, a, cvv, b]) == [cvv, email]  # a later, longer overlapping finding replaces b
    assert resolve_overlaps([Finding(10, 12, E.CVV, "y"), b]) == [b]


@pytest.mark.parametrize("text,phone", [
    ("2025-01-15 415-555-2671 called", "415-555-2671"),  # one digit run, its date a look-alike, the rest a phone
    ("at 10:22 (415) 555-2671", "(415) 555-2671"),
    ("v1.2.3.4 415.555.2671", "415.555.2671"),
])
def test_a_digit_run_partly_covered_by_a_look_alike_is_still_read(text: str, phone: str) -> None:
    assert [text[f.start:f.end] for f in SCANNER.scan(text, frozenset({E.PHONE}))] == [phone]


def _names_by_pattern(text: str, names: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """The reference: each name's pattern (any whitespace between its words, case-insensitive, whole words) tried
    wherever its first word starts in the lower-cased text, leftmost first, the earlier name first at one place."""
    lowered = lower_case(text)[0]
    hits = []
    for rank, name in enumerate(names):
        pattern = re.compile(r"\s+".join(re.escape(p) for p in name.split()) + r"(?!\w)", re.IGNORECASE)
        for i in range(len(text)):
            if lowered.startswith(name.split()[0], i) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")) \
                    and (m := pattern.match(text, i)):
                hits.append((i, rank, m.end()))
    found, done = [], 0
    for start, _, end in sorted(hits):
        if start >= done:
            found.append((start, end, text[start:end]))
            done = end
    return found


@pytest.mark.parametrize("text", [
    "Anna Lee, ANNA LEE. anna  lee\nAnna\tLee; Anna Leeds, Anna Lee_x, xAnna Lee, Anna Lee",
    "Σοφία Παπαδοπούλου και ΣΟΦΊΑ ΠΑΠΑΔΟΠΟΎΛΟΥ", "Jürgen Strauß / JÜRGEN STRAUSS / jürgen strauß",
    "İlkay Gündoğan, ilkay gündoğan, İLKAY GÜNDOĞAN", "Anna Lee Smith and Lee Smith", "nothing here",
])
def test_a_records_names_read_without_their_pattern_are_what_the_pattern_finds(text: str) -> None:
    names = _spread_names({"anna lee", "lee smith", "anna lee smith", "σοφία παπαδοπούλου", "jürgen strauß",
                           "jürgen strauss", "ilkay gündoğan", "i̇lkay gündoğan"})
    expected = _names_by_pattern(text, names)
    assert [(f.start, f.end, text[f.start:f.end]) for f in _find_names(text, names)] == expected
    assert _find_names(text, names) == _find_names(text, names, lower_case(text)[0])


@pytest.mark.parametrize("text", [
    "18:24:11", "10:22", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "2001:4860:4860:0:0:0:0:8888",
    "2001:4860::8888", "::", "1:2:3:4:5:6:8.8.8.8", "1:2:3:4:5:6:7:8%x:y", "fe80::1%eth0", "abc", "",
])
def test_an_address_without_dots_zone_or_elision_is_told_as_ipaddress_tells_it(text: str) -> None:
    try:
        address = ipaddress.ip_address(text)
        expected: bool | None = address.is_global and not address.is_multicast
    except ValueError:
        expected = None
    assert ip_kind(text) is expected


def test_known_names_are_keyed_by_their_normalised_form_however_written_and_after_more_are_learned() -> None:
    matcher = NameMatcher()
    matcher.add(["Abel Tuter"])
    text = "Tuter, Abel and ABEL  TUTER and abel tuter"
    assert matcher.find(text) == [(0, 11, "abel tuter"), (32, 42, "abel tuter")]
    matcher.add(["Maya Novak", "Abel Tuter"])  # the automaton rebuilt: the earlier forms keep their keys
    assert matcher.find("Novak, Maya / Tuter, Abel") == [(0, 11, "maya novak"), (14, 25, "abel tuter")]
