"""The redaction stage between a source and the store: records are redacted in place, page by page.

Per record: schema rules replace known people fields whole; every other string is scanned (stream 1 patterns,
learned names, and optionally stream 2 NER); names found anywhere in the record are then looked for everywhere in
it; finally each string is rewritten once. Only counts per entity type leave this module, never a value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from udc.config import entities as E
from udc.config.redaction import KEY_HINT, FieldPolicy, Mode, RedactionConfig, TablePolicy, check_policy, redaction_key
from udc.errors import ConfigError, UdcError
from udc.records import Person
from udc.redact import positions, spaced, structured
from udc.redact.accounts import Accounts
from udc.redact.context import field_context
from udc.redact.lowercase import lower_case
from udc.redact.medical import Diagnoses
from udc.redact.memory import NameMemory, StateStore
from udc.redact.names import _NOT_PEOPLE, NameMatcher, normalise_name
from udc.redact.replace import Replacer
from udc.redact.scanner import Finding, Scanner, resolve_overlaps
from udc.redact.schema import KEEP, PERSON_OBJECT, FieldRules, is_people_table
from udc.redact.siblings import siblings
from udc.redact.wordnames import PLACE_NAMES, WORD_NAMES
from udc.redact.wordpass import WordLists


class RedactionFailed(UdcError):
    """Redaction of a page failed; the page is not stored. The message never contains record content."""


@dataclass(frozen=True, slots=True)
class _Settings:
    entities: frozenset[str]
    mode: Mode
    skip: bool = False
    whole: str | None = None  # entity label when the policy marks the field `whole`


def _outside(text: str, start: int, end: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of text[start:end] no span of `taken` covers, trimmed to their letters and digits (none if empty)."""
    parts, at = [], start
    for taken_start, taken_end in sorted(t for t in taken if t[0] < end and t[1] > start):
        parts.append((at, taken_start))
        at = max(at, taken_end)
    parts.append((at, end))
    kept = []
    for part_start, part_end in parts:
        piece = text[part_start:part_end]
        stripped = piece.strip(_EDGE)
        if any(c.isalnum() for c in stripped):
            left = part_start + len(piece) - len(piece.lstrip(_EDGE))
            kept.append((left, left + len(stripped)))
    return kept


_EDGE = " \t\n,;:.()[]{}<>'\"-/|"


@dataclass(slots=True)
class _Leaf:
    container: Any  # the dict or list holding the string
    key: Any
    text: str
    settings: _Settings
    field_types: frozenset[str]
    findings: list[Finding] = field(default_factory=list)
    lowered: str = ""  # the text lower-cased (lower_case) when scanned, for the record's names spread over it later


class Redactor:
    """`memory`: where names of people learned in this run are remembered (as keyed digests) for later runs, and
    where those of earlier runs are recalled from; the engine passes its store."""

    def __init__(self, policy: RedactionConfig, source_type: str, memory: StateStore | None = None) -> None:
        self.policy = policy
        self.source_type = source_type.lower()
        self.enabled = policy.enabled
        self._entities = E.entity_set(policy.entities)
        self._tables = {name.lower(): table for name, table in policy.tables.items()}
        check_policy(policy)
        self._replacer = Replacer(self._key() if policy.needs_key() else None)
        self._scanner = Scanner(policy.phone_regions, policy.allow_list)
        self._allow = {" ".join(a.split()).casefold() for a in policy.allow_list}
        # the directory's names, logins and first names, each a word list found in one pass over a text
        self._directory = WordLists()
        self._names = NameMatcher(self._directory)
        self._accounts = Accounts(policy.keep_accounts, self._directory)
        self._diagnoses = Diagnoses()
        self._given_names: set[str] = set()  # the directory's people's first names, for "Hi Priya," (memory only)
        self._given_forms: set[str] = set()  # ... lower-cased as in text, the words of a list to find them fast
        self._given_list = self._directory.add({})
        self._rules = FieldRules(self.source_type)
        self._settings_cache: dict[tuple[str, tuple[str, ...]], _Settings] = {}
        self._ner = None
        if self.enabled and policy.context_stream:
            from udc.redact.ner import NerStream

            self._ner = NerStream(policy.ner_model, policy.ner_model_sha256)
        self._memory: NameMemory | None = None
        if self.enabled and memory is not None:
            key = self._memory_key()
            self._memory = NameMemory(key, memory) if key else None

    # --- public API -------------------------------------------------------------------------------------------------

    def learn_names(self, names: Iterable[str]) -> int:
        """Learn people's names (from user tables, Jira users, Salesforce contacts); returns how many were new.
        Records redacted afterwards have them replaced wherever they appear; with a memory they are also
        remembered for later runs. The engine need not call this: names in people fields (a user table's `name`,
        a reporter's `displayName`) are learned from each page before that page's free text is scanned."""
        names = [n for n in names if isinstance(n, str)]
        if self._memory is not None:
            self._memory.add(names)
        return self._names.add(names)

    def learn_directory(self, people: Iterable[Person]) -> dict[str, int]:
        """Learn the people of a source's directory: their names (as `learn_names`, remembered only as keyed
        digests) and logins are found in free text from then on; accounts that are no person (the source says so,
        or they have no person's name) stay readable. Returns how many people, logins and machine accounts."""
        names: list[str] = []
        given_forms: set[str] = set()
        counts = {"people": 0, "logins": 0, "machines": 0}
        for person in people:
            full = " ".join(f"{person.first} {person.last}".split())
            display = " ".join(person.name.split())
            if person.machine or (" " not in display and " " not in full) or display.casefold() in _NOT_PEOPLE or (
                    person.user_name and self._accounts.kept(person.user_name)):
                self._accounts.add_machine(person.user_name, person.email)
                counts["machines"] += 1
                continue
            counts["people"] += 1
            names += [n for n in (display, full) if n]
            first = person.first or display.split()[0]
            given = first.casefold()
            if len(given) >= 3 and given not in _NOT_GIVEN_NAMES:
                self._given_names.add(given)
                given_forms |= {given, first.lower()}
            for login in (person.user_name, person.email.split("@", 1)[0] if "@" in person.email else ""):
                if login and self._accounts.add_login(login, person.first or display.split()[0],
                                                      person.last or display.split()[-1]):
                    counts["logins"] += 1
        if given_forms - self._given_forms:
            self._given_forms |= given_forms
            self._directory.set(self._given_list, {form: len(form) for form in self._given_forms})
        self.learn_names(names)
        return counts

    def is_people_stream(self, stream_name: str) -> bool:
        """A stream whose records are people (sys_user, Contact, User...): synced first, so their names are known
        before the tables that mention them are redacted."""
        return is_people_table(stream_name)

    @property
    def remembered(self) -> int:
        """Names (forms) recalled from earlier runs when this redactor was built."""
        return self._memory.loaded if self._memory is not None else 0

    def redact_records(self, stream_name: str, records: list[dict[str, Any]]) -> dict[str, int]:
        """Redact `records` in place; returns how many values of each entity type were replaced."""
        if not self.enabled or not records:
            return {}
        counts: Counter[str] = Counter()
        try:
            # people fields first (a user table's names, callers, reporters, contacts): replaced whole, and their raw
            # names learned before any free text of the page is scanned, so "Abel Tuter" in a work note is found
            # on the very page that introduces him (NER guesses are never learned: one wrong guess would spread)
            pages = [self._walk(stream_name, record, counts) for record in records]
            people = {name for _, names in pages for name in names}
            self._names.add(people)
            for leaves, names in pages:
                for leaf in leaves:
                    self._scan(leaf, names)
            found = {name for _, names in pages for name in names} - people  # journal authors, recalled names
            self._names.add(found)
            people |= found
            self._apply_ner([leaf for leaves, _ in pages for leaf in leaves])
            for leaves, names in pages:
                self._finish_record(leaves, names, counts)
        except UdcError:
            raise
        except Exception as exc:  # never let a record's content reach a log or a traceback
            raise RedactionFailed(f"redaction of a page of '{stream_name}' failed ({type(exc).__name__}); "
                                  "the page was not stored", "report this as a bug; the run can be retried") from None
        if self._memory is not None and people:
            self._memory.add(people)  # saved before the page is stored: a crash can only remember too much
        return dict(counts)

    def find(self, text: str, stream_name: str = "", field_name: str = "") -> list[Finding]:
        """Findings in one free-text string under the policy, without replacing (for evaluation and tests)."""
        settings = self._settings(stream_name, (field_name,) if field_name else ())
        leaf = _Leaf(None, None, text, settings, field_context(field_name) if field_name else frozenset())
        names: set[str] = set()
        self._scan(leaf, names)
        self._apply_ner([leaf])
        return self._final(leaf, names, _spread_names(names | {f.key for f in leaf.findings if f.entity == E.PERSON}))

    def redact_text(self, text: str, stream_name: str = "", field_name: str = "") -> tuple[str, dict[str, int]]:
        """One free-text string, redacted; with counts."""
        record: dict[str, Any] = {field_name or "text": text}
        counts = self.redact_records(stream_name, [record])
        return record[field_name or "text"], counts

    # --- walking a record ---------------------------------------------------------------------------------------------

    def _walk(self, stream: str, record: dict[str, Any], counts: Counter[str]) -> tuple[list[_Leaf], set[str]]:
        """Replace the record's whole-value fields; return its free-text leaves and the people it names."""
        leaves: list[_Leaf] = []
        names: set[str] = set()  # people named anywhere in this record, spread to all its text afterwards
        self._walk_dict(stream, record, (), None, False, leaves, names, counts)
        return leaves, names

    def _walk_dict(self, stream: str, obj: dict[str, Any], path: tuple[str, ...], owner: str | None, in_person: bool,
                   leaves: list[_Leaf], names: set[str], counts: Counter[str]) -> None:
        rules = self._rules.for_dict(stream, obj, owner, in_person)
        for key, value in obj.items():
            child = (*path, key)
            settings = self._settings(stream, child)
            rule = rules.get(key)
            if settings.skip or rule == KEEP:
                continue
            self._visit(stream, obj, key, value, child, settings, rule, leaves, names, counts)

    def _visit(self, stream: str, container: Any, key: Any, value: Any, path: tuple[str, ...], settings: _Settings,
               rule: str | None, leaves: list[_Leaf], names: set[str], counts: Counter[str]) -> None:
        if isinstance(value, dict):
            self._walk_dict(stream, value, path, str(path[-1]) if path else None, rule == PERSON_OBJECT, leaves, names,
                            counts)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self._visit(stream, value, i, item, path, settings, rule, leaves, names, counts)
        elif isinstance(value, str) and value.strip():
            whole = settings.whole or (rule if rule in E.ALL else None)
            if whole and whole in settings.entities:
                self._replace_whole(container, key, value, whole, settings, names, counts)
            else:
                leaves.append(_Leaf(container, key, value, settings, field_context(path[-1]) if path else frozenset()))

    def _replace_whole(self, container: Any, key: Any, value: str, entity: str, settings: _Settings, names: set[str],
                       counts: Counter[str]) -> None:
        folded = " ".join(value.split()).casefold()
        if folded in self._allow or (entity == E.PERSON and folded in _NOT_PEOPLE):
            return
        if entity == E.PERSON:
            normalised = normalise_name(value)
            names.add(normalised)
        elif entity == E.PHONE:
            # as the scanner keys it in free text, so a phone joins across fields: E.164, else "+"? and the digits
            digits = re.sub(r"\D", "", value)
            plus = "+" if value.lstrip().startswith("+") else ""
            normalised = self._scanner.phone_key(value) or (plus + digits if digits else folded)
        else:
            normalised = folded
        replaced = self._replacer.replace(settings.mode, entity, value, normalised)
        container[key] = None if settings.mode == "drop" else replaced
        counts[entity] += 1

    # --- finding and replacing ------------------------------------------------------------------------------------

    def _scan(self, leaf: _Leaf, names: set[str]) -> None:
        text, entities = leaf.text, leaf.settings.entities
        found = self._scanner.scan(text, entities, leaf.field_types) + self._payload_values(text, entities)
        if E.USERNAME in entities and len(self._accounts):
            found += [Finding(s, e, E.USERNAME, login) for s, e, login in self._accounts.find_logins(text)]
        found += [f for f in self._by_position(text) if f.entity in entities]
        if spaced.HAS_SPACED.search(text):  # a form OCR spaced out: "S S N :  5 3 1 - 2 0 - 7 7 8 4"
            for meant, where in spaced.closed_up(text):
                found += [Finding(where[f.start], where[f.end - 1] + 1, f.entity, f.key) for f in (
                    self._scanner.scan(meant, entities, leaf.field_types) + self._by_position(meant))
                    if f.entity in entities]
        found += [f for f in siblings(text, found) if f.entity in entities]
        if E.STREET_ADDRESS in entities:  # an organisation's own address stays readable
            found = [f for f in found if f.entity != E.STREET_ADDRESS or not (positions.organisations_address(
                text, f.start) or structured.x12_organisations_street(text, f.start))]
            if "\n" in text:
                found += positions.address_lines_after(text, found)
        # role mailboxes and service accounts stay readable: "servicedesk@", "svc_backup" (also where a people
        # column names one: a caller "svc-sap-batch")
        found = [f for f in found if (f.entity not in _ACCOUNT_TYPES and (f.entity != E.PERSON or " " in f.key))
                 or not self._accounts.kept(f.key)]
        if E.PERSON in entities and found:  # "Bartholomew Quist (+61 …)", "(Rafael Quintero, DOB …)"
            found += positions.people_beside(text, found)
        if E.USERNAME in entities and found and " (" in text:  # "Noa Ben-Ami (nbenami)"
            found += positions.logins_beside(text, found)
        leaf.findings.extend(found)
        if self.source_type == "servicenow" and E.PERSON in leaf.settings.entities and (
                "otes)" in leaf.text or "omments)" in leaf.text):
            for m in _JOURNAL_AUTHOR.finditer("\n" + leaf.text):  # "2025-01-05 20:50:59 - Maya Novak (Work notes)"
                name = normalise_name(m.group(1))
                if name not in _NOT_PEOPLE:
                    leaf.findings.append(Finding(m.start(1) - 1, m.end(1) - 1, E.PERSON, name))
                    names.add(name)
        if E.PERSON not in leaf.settings.entities:
            return
        hits = self._names.find(leaf.text) if len(self._names) else []
        leaf.lowered = lower_case(leaf.text)[0]  # (the one the passes above made)
        if self._memory is not None and self._memory.loaded:  # people synced in earlier runs
            hits += self._memory.find(leaf.text)
        for start, end, name in hits:
            leaf.findings.append(Finding(start, end, E.PERSON, name))
            names.add(name)
        if self._given_forms:
            # A known first name alone (_first_name_alone says where it is a person's). The word list finds where
            # one may start: the name first, it is rarer.
            text = leaf.text
            starts = {start for start, _, _ in hits}  # (a full name found there; two forms of one name)
            for last, length in self._directory.hits(lower_case(text)[0], self._given_list):
                start, end = last + 1 - length, last + 1
                if (start and text[start - 1] not in " \t\n(") or start in starts or _joined_after(text, end):
                    continue  # (inside a longer word, a login or an address: "Dan" in "Danger", "marisol.b@")
                starts.add(start)
                if (given := text[start:end].casefold()) in self._given_names and (
                        alone := _first_name_alone(text, start, end, given)):
                    leaf.findings.append(Finding(start, alone[0], E.PERSON, alone[1]))
        if " and " in leaf.text or ", " in leaf.text or " & " in leaf.text:
            leaf.findings.extend(positions.joined(leaf.text, leaf.findings))

    def _payload_values(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Values of a pasted payload's fields whose keys name their type, as a record's field of that name gives its
        value's type ('"ssn": "…"', "<dob>…</dob>", "member_id=…"; everything else in them is found by the scan of the
        whole text); a card expiry's month and year fields; a person's name parts ('"family": "…"', '"given": […]')."""
        found: list[Finding] = []
        for key, start, end in structured.payload_fields(text):
            value = text[start:end]
            if E.CARD_EXPIRY in entities and structured.expiry_part(key, value):
                found.append(Finding(start, end, E.CARD_EXPIRY, value))
            elif E.PERSON in entities and structured.person_part(key, value):
                found.append(Finding(start, end, E.PERSON, " ".join(value.split()).casefold()))
            elif types := field_context(key) & entities:
                found += [Finding(f.start + start, f.end + start, f.entity, f.key)
                          for f in self._scanner.field_values(value, entities, types)]
        return found

    def _by_position(self, text: str) -> list[Finding]:
        """What stream 1 finds by position rather than shape: names in greetings, sign-offs, chat speakers and
        headers; logins after their label; street addresses; diagnoses near their words; HL7 and CSV columns."""
        found: list[Finding] = []
        found += positions.people(text)  # (also in lower case: "hi my name is tiago nunes from …")
        if _HAS_DIGIT.search(text):
            found += positions.addresses(text)
        found += positions.logins(text) + self._diagnoses.find(text)
        if "|" in text:
            found += structured.hl7(text)
        if "NM1*" in text or "~HI*" in text:
            found += structured.x12(text)
        if "INSERT" in text or "insert" in text:
            found += structured.sql_inserts(text)
        if "\n" in text:
            found += structured.csv_columns(text)
            if "|--" in text or "| --" in text or "|:--" in text or "|\n|" in text or "| \n|" in text:
                found += structured.markdown_tables(text)
        return found

    def _apply_ner(self, leaves: list[_Leaf]) -> None:
        if self._ner is None or not leaves:
            return
        wanted = [leaf for leaf in leaves if leaf.settings.entities & {E.PERSON, E.LOCATION}]
        for leaf, spans in zip(wanted, self._ner.find([leaf.text for leaf in wanted], self._entities), strict=True):
            found = [(f.start, f.end) for f in leaf.findings]
            for span_start, span_end, entity in spans:
                if entity not in leaf.settings.entities:
                    continue
                # only what stream 1 left: a longer model span overlapping a finding would otherwise win the overlap
                # and uncover the rest of that finding ("Asante,Retain" read as a name pushed out "Kwame Asante")
                for start, end in _outside(leaf.text, span_start, span_end, found):
                    value = leaf.text[start:end]
                    key = normalise_name(value) if entity == E.PERSON else value.casefold()
                    leaf.findings.append(Finding(start, end, entity, key))

    def _finish_record(self, leaves: list[_Leaf], names: set[str], counts: Counter[str]) -> None:
        for leaf in leaves:
            names.update(f.key for f in leaf.findings if f.entity == E.PERSON)
        spread = _spread_names(names)
        for leaf in leaves:
            findings = self._final(leaf, names, spread)
            if findings:
                leaf.container[leaf.key] = self._rewrite(leaf.text, findings, leaf.settings.mode, counts)

    @staticmethod
    def _final(leaf: _Leaf, names: set[str], spread: tuple[str, ...]) -> list[Finding]:
        """A leaf's findings with the record's names spread over it, overlaps resolved, the policy's types only."""
        findings = leaf.findings
        if spread and E.PERSON in leaf.settings.entities:
            findings = findings + _find_names(leaf.text, spread, leaf.lowered)
        findings = [f for f in resolve_overlaps(findings) if f.entity in leaf.settings.entities]
        return _with_titles(leaf.text, findings) if E.PERSON in leaf.settings.entities else findings

    def _rewrite(self, text: str, findings: list[Finding], mode: Mode, counts: Counter[str]) -> str:
        pieces: list[str] = []
        last = 0
        replace, token = self._replacer.replace, self._replacer.token
        tokens = mode == "token"  # (the common mode: its token straight from the cache, no original sliced)
        for start, end, entity, key in findings:
            if start < last:
                continue
            pieces.append(text[last:start])
            pieces.append(token(entity, key) if tokens else replace(mode, entity, text[start:end], key))
            last = end
            counts[entity] += 1
        pieces.append(text[last:])
        return "".join(pieces)

    # --- policy -----------------------------------------------------------------------------------------------------

    def _settings(self, stream: str, path: tuple[str, ...]) -> _Settings:
        cached = self._settings_cache.get((stream, path))
        if cached is not None:
            return cached
        table = self._tables.get(stream.lower())
        entities = self._entities if table is None else E.entity_set(table.entities, self._entities)
        mode: Mode = (table.mode if table and table.mode else None) or self.policy.mode
        settings = _Settings(entities, mode)
        field_policy = _field_policy(table, path)
        if field_policy is not None:
            whole = None
            if field_policy.whole:
                whole = E.canonical(field_policy.entities[0]) if field_policy.entities else E.PII
            settings = _Settings(E.entity_set(field_policy.entities, entities) | ({whole} if whole else set()),
                                 field_policy.mode or mode, field_policy.skip, whole)
        self._settings_cache[(stream, path)] = settings
        return settings

    def _memory_key(self) -> bytes | None:
        """The redaction key if one is set (token mode needs one; mask and drop may run without, then nothing is
        remembered across runs)."""
        try:
            return self._key()
        except ConfigError:
            return None

    def _key(self) -> bytes:
        try:
            return redaction_key(self.policy).encode()
        except ValueError as exc:
            raise ConfigError(f"redaction.key: {exc}", KEY_HINT) from None


_ACCOUNT_TYPES = frozenset({E.EMAIL, E.USERNAME})
_HAS_DIGIT = re.compile(r"[0-9]")
# A first name alone is a person only where people are addressed: greetings and sign-offs.
_GREETING_BEFORE = re.compile(
    r"(?i:\b(?:hi|hello|hey|dear|morning|good (?:morning|afternoon|evening)|thanks|thank you|thx|regards|"
    r"best|cheers|br|ty|cc|ping|@|per|ask|asked|tell|told|with|w/|by|"
    r"hallo|beste|hej|hei|hola|bonjour|ciao|olá|ola|liebe|lieber|cher|chère|caro|cara|querido|querida|"
    r"owner|host|contact|attn|implementer|reviewer|approver|manager|engineer|"
    r"coordinator|agent|approved|lead|tech|scribe|pinging))[,!:]?[ \t]{1,3}$"
)  # (and words that hand over to a colleague: "ok to close per Emeka", "I'll ask Zofia"; greetings in other
# languages: "Beste Maarten", "Hallo Willem"; a role's holder: "owner Faisal", "Host: Venkatesh", "Fleet coordinator
# Dale", "Agent Camille:", "Approved: Grant")
# The last two characters of those words, tested before the pattern (a case-insensitive alternation, slow to search)
_GREETING_TAILS = frozenset({"hi", "lo", "ey", "ar", "ng", "ks", "ou", "hx", "ds", "st", "rs", "br", "ty", "cc",
                             "er", "sk", "ed", "ll", "ld", "th", "w/", "by", "te", "ej", "ei", "la", "ur", "ao",
                             "lá", "be", "re", "ro", "ra", "do", "da", "ct", "tn", "or", "nt", "ad", "ch"})
# words that hand a ticket over to a colleague: "assigning to Thabo", "waiting on Aroha" (tested with endswith)
_HANDED_OVER = ("assigning to", "assigned to", "reassigned to", "handing to", "handing over to", "waiting on",
                "waiting for", "->")
_HANDED_TAILS = frozenset({"o", "n", "r", ">"})


def _greeted(text: str, start: int) -> bool:
    """A greeting or sign-off word just before `start`: "Hi Priya", "Thanks, Priya"."""
    j = start
    while j > 0 and start - j < 3 and text[j - 1] in " \t":
        j -= 1
    if j > 0 and text[j - 1] in ",!:":
        j -= 1
    if not (text[j - 1:j] == "@" or text[max(0, j - 2):j].lower() in _GREETING_TAILS):
        return False
    return _GREETING_BEFORE.search(text, max(0, start - 24), start) is not None


# A known first name as the subject of a verb only people do: "06:58 Mariana confirms", "Rohan (network) reports"
_ACTS_AFTER = re.compile(r"[^\W\d_][\w'’\-]*(?:[ ]\([^()\n]{1,24}\))?[ ](?:confirms|confirmed|reports|reported|says|"
                         r"said|asks|asked|wants|replied|agreed|approved|rang|phoned|emailed|joined|typed|mentioned|"
                         r"spoke|called|is off|is out|is on leave|is covering|is away|will cover|needs|sent|covers)\b")


def _acts(text: str, start: int) -> bool:
    space = text.find(" ", start, start + 32)  # (a full name's next word is capitalised: most hits end here)
    return space > 0 and space + 1 < len(text) and not text[space + 1].isupper() and (
        _ACTS_AFTER.match(text, start) is not None)


def _named_alone(text: str, start: int) -> re.Match[str] | None:
    """The word at `start` where its place makes a known first name a person's: capitalised after a greeting, on
    its own line or before a verb only people do; in lower case (chat) as a line's speaker or before such a verb.
    The cheap tests run first: most hits of a first name are none of these."""
    if text[start].isupper():
        if not (start and (_greeted(text, start) or _addressed(text, start) or _acts(text, start) or _bracketed(
                text, start) or (
                text[start - 2:start - 1] in _HANDED_TAILS and text[max(0, start - 17):start - 1].lower(
                ).endswith(_HANDED_OVER)))):
            return None
    elif not ((word := _GIVEN_WORD.match(text, start)) and _speaks(text, start, word.end())) and not _acts(
            text, start) and not _TYPED_GREETING.search(text, max(0, start - 12), start):
        return None
    return _GIVEN_WORD.match(text, start)


def _first_name_alone(text: str, start: int, end: int, given: str) -> tuple[int, str] | None:
    """(end, key) of a directory's first name alone at text[start:end] where it is a person's: one that is no word
    ("Marisol", "chinonso") wherever it stands as a word, perhaps with a surname the directory does not know ("Kenji
    Tanaka"); one that is a word or a place ("Page", "Austin") where its place says so: after a greeting ("Thanks,
    Page"), mid-sentence after a lower-case word ("ok, but Page is"; not for places: "in Austin"); any before an
    initial ("Pat O."). None where it is not a person's."""
    if initial := _INITIAL.match(text, end):  # "Tomasz W.", "Pat O.": a person, whatever the word
        return initial.end(), given
    if not (text[start].isupper() or (end - start >= 4 and text[start:end].islower())) or (
            given in WORD_NAMES or given in PLACE_NAMES or _determined(text, start)):
        if (given in WORD_NAMES and _mid_sentence(text, start, end)) or (
                (word := _named_alone(text, start)) and word.end() == end):
            return end, given
        return None
    if text[start].isupper() and (then := _SURNAME.match(text, end)):
        if then.group(1).casefold() in positions.NOT_NAMES:
            return None  # a thing named for someone: "Ayesha Storage Array"
        # the rest of a name the directory does not know ("Kenji Tanaka") or knows (one token for the full name)
        return then.end(), normalise_name(text[start:then.end()])
    return end, given


def _joined_after(text: str, end: int) -> bool:
    """The word ending at `end` goes on: in a longer word, a hyphenated one, a login or an address ("danny",
    "marisol.brooks@", "kenji_t"); a possessive ("Tomasz's") ends it."""
    after = text[end:end + 1]
    if after in "'’":  # ("D'Arcy" goes on)
        return not (text[end + 1:end + 2] == "s" and not text[end + 2:end + 3].isalnum())
    return after.isalnum() or after in "-_@/\\" or (after == "." and text[end + 1:end + 2].isalnum())


def _with_titles(text: str, findings: list[Finding]) -> list[Finding]:
    """A title before a name hidden with it ("Dr. [name]" would tell a reader more than the name's token; labellers
    disagree whether it is part of the name), where nothing found before reaches it. The last letter before the
    space is tested first: most names have no title."""
    out: list[Finding] = []
    last = 0
    for f in findings:
        if f.entity == E.PERSON and f.start > 2 and text[f.start - 2] in _TITLE_ENDS and text[f.start - 1] == " " and (
                title := _TITLE_BEFORE.search(text, max(last, f.start - 7), f.start)):
            f = f._replace(start=title.start())
        out.append(f)
        last = f.end
    return out


_TITLE_BEFORE = re.compile(r"(?<![\w.])(?:Dr|Prof|Mr|Mrs|Ms|Mx|Miss)\.?[ ]\Z")
_TITLE_ENDS = frozenset(".rfsx")
_SURNAME = re.compile(r"[ ]([A-Z][^\W\d_]+(?:[-'’][A-Z][^\W\d_]+)?)(?![\w\-'’])")
_INITIAL = re.compile(r"[ ][A-Z]\.(?![\w.])")

# words after which a capitalised word is a thing, not a person: "the Page", "a Mark", "our Summer rota"
_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "each", "every", "any", "no", "our", "your", "their",
                          "his", "her", "my", "its", "per", "of", "new", "next", "last", "first", "same"})


def _word_before(text: str, start: int) -> str:
    before = text[max(0, start - 16):start - 1]
    return before[max(before.rfind(" "), before.rfind("\n"), before.rfind("\t")) + 1:]


def _determined(text: str, start: int) -> bool:
    """A determiner before the word: "the Priya cluster" is a thing named for someone."""
    return start > 1 and text[start - 1] == " " and _word_before(text, start).lower() in _DETERMINERS


def _mid_sentence(text: str, start: int, end: int) -> bool:
    """A capitalised word after a lower-case one that is no determiner, followed by a lower-case word or a
    sentence's punctuation: "ok, but Page is leaving", "ask Drew." (not "Page 3", "Rich Text", "the Summer rota")."""
    if not text[start].isupper() or start < 2 or text[start - 1] != " ":
        return False
    word = _word_before(text, start).rstrip(",")
    if not (word.isalpha() and word.islower()) or word in _DETERMINERS:
        return False
    if text[end:end + 2] in ("'s", "’s"):
        end += 2
    after = text[end:end + 2]
    return after == "" or after[0] in ".,;:!?)" or (after[0] == " " and after[1:].islower())


def _bracketed(text: str, start: int) -> bool:
    """A first name alone in brackets, as a role's holder: "Live Agent (Summer):", "the user (Rose) had left"."""
    return text[start - 1] == "(" and (word := _GIVEN_WORD.match(text, start)) is not None and (
        text[word.end():word.end() + 1] == ")")


# lower-case chat greets and hands over by a first name: "pinging sven", "hi priya", "thx dale"
_TYPED_GREETING = re.compile(r"(?:^|[\s(])(?:hi|hey|hello|thanks|thx|ty|cc|ping|pinging|@)[ ]\Z")


def _speaks(text: str, start: int, end: int) -> bool:
    """A chat line's speaker, at its start before a colon: "willem: done", "dawn: the cabinet is stuck"."""
    return (start == 0 or text[start - 1] == "\n") and text[end:end + 2] == ": "


def _addressed(text: str, start: int) -> bool:
    """A name opening a message on its own line after a blank one, before a comma: "\n\nGrace,\n"."""
    return text[start - 1] == "\n" and (start < 2 or text[start - 2] == "\n") and (
        (comma := text.find(",", start, start + 32)) > 0 and text[start:comma].isalpha())


_GIVEN_WORD = re.compile(r"[^\W\d_][\w'’\-]{2,30}\b")  # matched where a space, tab or line break precedes
_NOT_GIVEN_NAMES = frozenset({"team", "all", "everyone", "support", "admin", "system", "guest", "user", "service"})

# ServiceNow journal entries (work_notes, comments) start with a header naming their author. Run over "\n" + text
# (offsets one more): led by its newline, the scan jumps from line to line instead of testing "^" everywhere.
_JOURNAL_AUTHOR = re.compile(
    r"\n(?m:[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} - ([^\n()]{1,100}?) "
    r"\((?:Work notes|Additional comments|Comments|Work Notes|Additional Comments)\)$)"
)


def _field_policy(table: TablePolicy | None, path: tuple[str, ...]) -> FieldPolicy | None:
    """The nearest policy on the path: `fields.description` beats `fields`; the bare key name is the fallback."""
    if table is None or not table.fields or not path:
        return None
    for n in range(len(path), 0, -1):
        found = table.fields.get(".".join(path[:n]))
        if found is not None:
            return found
    return table.fields.get(path[-1])


def _spread_names(names: set[str]) -> tuple[str, ...]:
    """This record's names worth spreading over all its text, longest first: multi-word names, and their first words
    (a person named in full is then called by the first name alone: "Dawn Forrest" … "Looping in Dawn"), which
    _find_names takes only where capitalised. Single words found alone are too ambiguous to spread."""
    full = {n for n in names if " " in n and len(n) >= 5}
    given = {first for n in full if len(first := n.split(None, 1)[0]) >= 3 and first.isalpha()
             and first not in positions.NOT_NAMES and first not in _NOT_GIVEN_NAMES}
    return tuple(sorted(full | given, key=lambda n: (-len(n), n)))


def _find_names(text: str, names: tuple[str, ...], lowered: str = "") -> list[Finding]:
    """Whole-word, case-insensitive occurrences of `names` (any whitespace between their words), leftmost first and
    at one place the earlier name, none overlapping: what one alternation of them would find, but each name's first
    word is looked for with str.find, where a case-insensitive alternation tries every position of the text.
    `lowered`: the text's lower_case form, when the caller has it."""
    lowered = lowered or lower_case(text)[0]
    n = len(text)
    hits: list[tuple[int, int, int]] = []
    # a single word is a full name's first word (_spread_names), found in the scan for that name's first word, taken
    # where capitalised and whole
    singles = {name: rank for rank, name in enumerate(names) if " " not in name}
    for rank, name in enumerate(names):
        if name in singles:
            continue
        first = name.split(None, 1)[0]
        single = singles.get(first)
        i = lowered.find(first)
        while i >= 0:
            if not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
                # the name as it is written in the list (one space between its words), whole: what its pattern would
                # match there, without running it; other spacing and boundaries are left to the pattern
                end = i + len(name)
                if lowered.startswith(name, i) and (end == n or not (text[end].isalnum() or text[end] == "_")):
                    hits.append((i, rank, end))
                elif m := _name_regex(name).match(text, i):
                    hits.append((i, rank, m.end()))
                elif single is not None and text[i].isupper() and (
                        (end := i + len(first)) == n or not (text[end].isalnum() or text[end] == "_")) and (
                        not text[i:end].isupper()):  # (in capitals a product's: "IRIS Readiris")
                    hits.append((i, single, end))
            i = lowered.find(first, i + 1)
    found: list[Finding] = []
    done = 0
    keys: dict[str, str] = {}  # (a name recurs in a text)
    for start, _, end in sorted(hits):
        if start >= done:
            value = text[start:end]
            key = keys.get(value)
            if key is None:
                key = keys[value] = normalise_name(value)
            found.append(Finding(start, end, E.PERSON, key))
            done = end
    return found


@lru_cache(maxsize=4096)
def _name_regex(name: str) -> re.Pattern[str]:  # the same people recur across records
    return re.compile(r"\s+".join(re.escape(part) for part in name.split()) + r"(?!\w)", re.IGNORECASE)
