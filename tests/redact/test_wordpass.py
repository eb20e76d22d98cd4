"""Stream 1's word lists found in one pass: each list gets every hit its own automaton would give, in the same order,
including words shared by several lists and words ending where another (longer or shorter) one ends."""

from __future__ import annotations

import random

import ahocorasick
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.config import entities as E
from udc.records import Person
from udc.redact import Redactor, positions, wordpass
from udc.redact.context import ContextIndex

# Lists that overlap every way: one word in both ("contact"), a word that is a suffix of another list's ("act" in
# "contact"), of its own list's ("name" in "user name"), a prefix of another's ("user" in "username").
CUES = {"contact": "cue", "hi": "greeting", "this is": "intro", "act": "verb"}
LABELS = {"user": "prose", "username": "label", "user name": "label", "name": "field", "contact": "label"}
STREETS = {"st": "type", "street": "type", "is": "odd"}


def alone(words: dict[str, str], text: str) -> list[tuple[int, str]]:
    automaton = ahocorasick.Automaton()
    for word, value in words.items():
        automaton.add_word(word, value)
    automaton.make_automaton()
    return list(automaton.iter(text))


def test_each_list_gets_what_its_own_automaton_finds_in_its_order() -> None:
    lists = wordpass.WordLists()
    numbers = [lists.add(words) for words in (CUES, LABELS, STREETS)]
    texts = ["hi, this is the contact for user name jdoe, username jdoe, at 1 main street",
             "contactcontact hist this", ""]
    alphabet = "contaciushremb ,"
    rng = random.Random(7)
    texts += ["".join(rng.choice(alphabet) for _ in range(300)) for _ in range(50)]
    for text in texts:
        for number, words in zip(numbers, (CUES, LABELS, STREETS), strict=True):
            assert lists.hits(text, number) == alone(words, text), (text, words)
    # a shared word ("contact") and words ending at one place ("contact", "act") are all reported
    text = "our contact"
    assert lists.hits(text, numbers[0]) == [(10, "cue"), (10, "verb")]
    assert lists.hits(text, numbers[1]) == [(10, "label")]


def test_a_list_added_after_a_pass_is_found_too() -> None:
    lists = wordpass.WordLists()
    first = lists.add({"user": 1})
    assert lists.hits("user", first) == [(3, 1)]
    second = lists.add({"ser": 2})
    assert lists.hits("user", first) == [(3, 1)] and lists.hits("user", second) == [(3, 2)]


def test_a_word_of_two_of_stream_1s_lists_counts_for_both() -> None:
    # "contact" is a phone number's context word and a cue word before a name: one hit serves both
    text = "Contact Maya Novak on 0412 555 019 today"
    assert ContextIndex(text).by_type[E.PHONE] == [len("Contact")]
    assert [f.key for f in positions.people(text)] == ["maya novak"]


def test_a_directorys_names_logins_and_first_names_found_in_one_pass_all_count() -> None:
    # "priya" (a first name), "priya.raman" (a login) and "priya raman" (a name) start at one place: each list's own
    # hit counts, and a name learned later (its list replaced) is found beside them
    redactor = Redactor(RedactionConfig(enabled=True, key=SecretStr("wordpass-key-0123456789abcdef")), "servicenow")
    redactor.learn_directory([Person(name="Priya Raman", first="Priya", last="Raman", user_name="praman",
                                     email="priya.raman@acme.example")])
    text = "Hi Priya, praman and priya.raman are locked. Priya Raman called; so did Tomasz Wójcik."

    def found() -> list[tuple[str, str]]:
        return [(text[f.start:f.end], f.entity) for f in redactor.find(text, "incident", "work_notes")]

    assert found() == [("Priya", E.PERSON), ("praman", E.USERNAME), ("priya.raman", E.USERNAME),
                       ("Priya Raman", E.PERSON)]
    redactor.learn_names(["Tomasz Wójcik"])
    assert found()[-1] == ("Tomasz Wójcik", E.PERSON) and len(found()) == 5
