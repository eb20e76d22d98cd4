"""Stream 1 free-text scanner: linear-time candidates, then validators, then context words.

Order matters: context-only identifiers are read from the raw text (a date of birth looks like any date), then the
look-alikes are blanked and the context-free detectors (e-mail, IP, IBAN, cards, SSNs, phones) run on what is left.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import date
from operator import itemgetter
from typing import NamedTuple

import phonenumbers

from udc.config import entities as E
from udc.redact import national as N
from udc.redact import patterns as P
from udc.redact import validators as V
from udc.redact.context import SSN_LIST_REACH, WINDOW, ContextIndex
from udc.redact.lookalikes import ID_LABEL_BEFORE, SERVER_BEFORE, VERSION_BEFORE, lookalike_spans

# phonenumbers compiles its metadata's patterns through re's cache (512 entries), which validating numbers of many
# regions overflows, so patterns would be compiled again and again; its own cache (recent releases) keeps them
if hasattr(phonenumbers, "enable_pattern_cache"):
    phonenumbers.enable_pattern_cache()

_HAS_DIGIT = re.compile(r"[0-9]")
_SPAN = re.Match.span  # (mapped over a pattern's matches: no Python call per match)
_PHONE_CACHE = 50_000  # distinct phone candidates remembered per scanner before the cache starts over
_NEAR = 16  # "Phone: ", "call me at ", "messages to ": a value this close to its context word needs no validator
_HEX = frozenset("0123456789abcdefABCDEF")
_CORRECTION = re.compile(
    r"(?i:\b(?:correct(?:ed|ion)?|should (?:be|read)|changed to|amended to|actual(?:ly)?|instead|not)\b)")
_EMPTY: frozenset[str] = frozenset()
# types whose value is read whole, not as its digits: their candidates (most of them words) skip taking the digits out
_NOT_BY_DIGITS = frozenset({E.DATE_OF_BIRTH, E.US_PASSPORT, E.MRN, E.US_DRIVER_LICENSE, E.CARD_EXPIRY,
                            E.HEALTH_PLAN_ID, E.NATIONAL_ID})


class Finding(NamedTuple):  # a tuple: built several times per sensitive value, so cheap to make
    start: int
    end: int
    entity: str
    key: str  # the normalised value a token is computed from, so formatting does not change the token


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Non-overlapping findings, earliest first; of two that overlap the longer one wins."""
    kept: list[Finding] = []
    last_start = last_end = -1
    # earliest first, the longest of those first: two stable sorts on C-level keys (a Python key function would be
    # called for every finding)
    ordered = sorted(findings, key=_END, reverse=True)
    ordered.sort(key=_START)
    for f in ordered:
        start, end = f[0], f[1]
        if start < last_end:
            if end - start > last_end - last_start:
                kept[-1] = f
                last_start, last_end = start, end
            continue
        kept.append(f)
        last_start, last_end = start, end
    return kept


_START, _END = itemgetter(0), itemgetter(1)


class Scanner:
    """Finds PII spans in one string. Stateless after construction, so one instance serves every thread."""

    def __init__(self, phone_regions: list[str], allow_list: list[str]) -> None:
        self.phone_regions = [r.upper() for r in phone_regions]
        self._dial_plans = {r: _DialPlan(r) for r in self.phone_regions}
        self._phone_cache: dict[str, str | None] = {}  # candidate text → E.164 key (memory only, bounded)
        self._allow = {_fold(a) for a in allow_list} | {_compact(a) for a in allow_list}
        self._allow.discard("")

    # --- public -------------------------------------------------------------------------------------------------

    def scan(self, text: str, entities: frozenset[str], field_types: frozenset[str] = _EMPTY) -> list[Finding]:
        """Findings in `text` for the enabled `entities`; `field_types` are types the field's name gives context for."""
        has_digit = _HAS_DIGIT.search(text) is not None
        has_at = "@" in text
        if not (has_digit or has_at):
            return []
        found: list[Finding] = []
        if has_digit:
            ctx = ContextIndex(text)
            if ctx or field_types:
                found.extend(self._contextual(text, ctx, entities, field_types))
        if has_at and E.EMAIL in entities:
            found.extend(self._emails(text))
        if has_digit:
            if E.NATIONAL_ID in entities:  # (before the digit runs, which must not read a CPF as a phone number)
                found.extend(Finding(start, end, E.NATIONAL_ID, key) for start, end, key in N.anywhere(text))
            addresses = self._ips(text, entities, found)
            if E.IBAN in entities and len(text) >= 15:  # the shortest IBAN (Norway) has 15 characters
                found.extend(self._ibans(text))
            runs = [span for span in map(_SPAN, P.LONG_DIGIT_RUN.finditer(text)) if span[1] - span[0] >= 7]
            if runs:  # nothing context-free is shorter than a 7-digit phone number
                taken = [(f.start, f.end) for f in found] + addresses + list(lookalike_spans(text))
                found.extend(self._digit_runs(text, runs, sorted(taken), entities))
        if E.CARD_EXPIRY in entities:
            found += self._expiry_after_cards(text, found)
        if E.CVV in entities:
            found += self._codes_after_cards(text, found)
        return resolve_overlaps(self._kept(text, found, entities))

    def field_values(self, text: str, entities: frozenset[str], field_types: frozenset[str]) -> list[Finding]:
        """Only the values of `field_types`, the types a field's name gives context for, anywhere in `text` (a pasted
        payload's field: the rest of its text is scanned with the text it is in)."""
        return self._kept(text, self._field_values(text, entities, field_types), entities)

    def _kept(self, text: str, found: list[Finding], entities: frozenset[str]) -> list[Finding]:
        """Findings but those the allow list names and phone-shaped references ("PIN", "claim CLM …")."""
        if self._allow:
            found = [f for f in found if not self._allowed(text[f.start:f.end], f.key)]
        if E.PHONE in entities and found:
            found = [f for f in found if f.entity != E.PHONE or not _no_phone(text, f.start, f.end)]
        return found

    @staticmethod
    def _expiry_after_cards(text: str, found: list[Finding]) -> list[Finding]:
        """"4111 1111 1111 1111 06/27", "card ... exp: 06/2027": a month/year just after a card number."""
        out = []
        for f in found:
            if f.entity == E.CREDIT_CARD and (m := P.EXPIRY_VALUE.search(text, f.end, f.end + 24)):
                out.append(Finding(m.start(), m.end(), E.CARD_EXPIRY, m.group().replace(" ", "")))
        return out

    @staticmethod
    def _codes_after_cards(text: str, found: list[Finding]) -> list[Finding]:
        """A card's code read out after it with a plain word (_CODE_AFTER_CARD)."""
        out = []
        for f in found:
            if f.entity != E.CREDIT_CARD or not (m := _CODE_AFTER_CARD.search(text, f.end, f.end + 80)):
                continue
            if m.group(1).lower() != "code" or not _OTHER_CODE_BEFORE.search(text, max(0, m.start() - 24), m.start()):
                out.append(Finding(m.start(2), m.end(2), E.CVV, m.group(2).replace(" ", "")))
        return out

    def phone_key(self, text: str) -> str | None:
        """E.164 form of `text` if it is a valid number for a configured region (or in international form)."""
        # the same numbers recur (a caller's phone in every ticket they open, a CSV column): parse each once
        cache = self._phone_cache
        if text in cache:
            return cache[text]
        key = self._parse_phone(text)
        if len(cache) >= _PHONE_CACHE:
            cache.clear()
        cache[text] = key
        return key

    def _parse_phone(self, text: str) -> str | None:
        regions: list[str | None]
        if P.TOLL_FREE.fullmatch(text.strip()):
            return None
        if text.lstrip().startswith("+"):
            regions = [None]
        else:
            digits = P.NON_DIGITS.sub("", P.EXTENSION.sub("", text))
            # cheap first: only regions where a number of this length, with this trunk or exit prefix, can exist
            regions = [r for r, plan in self._dial_plans.items() if plan.admits(digits)]
            if not regions:
                return None
        for region in regions:
            try:
                number = phonenumbers.parse(text, region)
            except phonenumbers.NumberParseException:
                continue
            # written in international form, a number its country's plan allows the length of is one, even in a
            # block not (yet) assigned: "+44 7700 900123"
            # valid for the region it was read in (one check) or, less often, for another sharing its country code
            # ("(416) 555-..." read as US is Canadian)
            if (region is not None and phonenumbers.is_valid_number_for_region(number, region)) or (
                    phonenumbers.is_valid_number(number)) or (
                    region is None and phonenumbers.is_possible_number(number)
                    and len(str(number.national_number)) >= 7):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return None

    def _dialable(self, digits: str) -> bool:
        return any(plan.admits(digits) for plan in self._dial_plans.values())

    # --- context-only identifiers (raw text) --------------------------------------------------------------------

    def _contextual(self, text: str, ctx: ContextIndex, entities: frozenset[str],
                    field_types: frozenset[str]) -> list[Finding]:
        found = self._field_values(text, entities, field_types)
        # first, so that of two words ending alike the national id's wins ("social insurance number": a health plan's
        # "insurance number" inside it)
        if ctx.national and E.NATIONAL_ID in entities and E.NATIONAL_ID not in field_types:
            found.extend(_national_after_words(text, ctx))
        for etype, ends in ctx.by_type.items():
            if etype not in entities or etype in field_types or etype == E.NATIONAL_ID:
                continue
            reach = SSN_LIST_REACH if etype == E.US_SSN else WINDOW
            for end in ends:
                listed = 0  # where the last value found ends: more SSNs of a list must be grouped ones, another
                # date of birth must follow a correction ("shows 07/12/1990, correct value is 12/07/1990")
                for m in _NEAR_CANDIDATES[etype].finditer(text, end, min(len(text), end + reach + 40)):
                    if m.start() - end > reach:
                        break
                    if listed and etype == E.DATE_OF_BIRTH and not _CORRECTION.search(text, listed, m.start()):
                        break
                    if f := self._context_value(etype, text, m, reach if listed else m.start() - end):
                        found.append(f)
                        if etype not in (E.US_SSN, E.DATE_OF_BIRTH):
                            break
                        listed = m.end()
        return found

    def _field_values(self, text: str, entities: frozenset[str], field_types: frozenset[str]) -> list[Finding]:
        # the field name is the context: look through the whole value
        return [f for etype in field_types & entities for m in _CANDIDATES[etype].finditer(text)
                if (f := self._context_value(etype, text, m, 0))]

    def _context_value(self, etype: str, text: str, m: re.Match[str], distance: int) -> Finding | None:
        start, end = m.span()
        if etype in (E.PHONE, E.CREDIT_CARD):
            start = _with_prefix(text, start)
        value = text[start:end]
        digits = "" if etype in _NOT_BY_DIGITS else P.NON_DIGITS.sub("", value)
        key: str | None = None
        if etype == E.US_SSN:  # farther than its word's window: only in groups ("536 22 8190", "287.64.1095")
            shape = P.SSN_ANY.fullmatch(value)
            key = digits if shape and V.us_ssn(digits) and (distance <= WINDOW or shape.group(1)) else None
        elif etype == E.CREDIT_CARD:  # context admits 12-13 digit cards and any layout
            key = digits if V.credit_card(digits) or V.credit_card_in_context(digits) else None
        elif etype == E.PHONE and 7 <= len(digits) <= 15 and not (
                P.DOTTED_QUAD.fullmatch(value) or P.TOLL_FREE.fullmatch(value)):  # "dial tcp 10.244.3.17"
            # right after "Phone:" / "call me at", any number-shaped value is one, valid in a configured region or not
            if distance <= _NEAR and not _inside(start, end, lookalike_spans(text)):
                key = self.phone_key(value) or ("+" if value.startswith("+") else "") + digits
            elif value.isdigit():  # farther away: a bare digit string that is valid (formatted ones need no context)
                key = self.phone_key(value)
        elif etype == E.UK_NHS:
            key = digits if P.NHS_SHAPE.fullmatch(value) and V.uk_nhs(digits) else None
        elif etype == E.ABA_ROUTING:
            key = digits if V.aba_routing(digits) else None
        elif etype == E.US_NPI:  # (a group practice's or facility's NPI is an organisation's: kept)
            key = digits if V.us_npi(digits) and not _GROUP_NPI_BEFORE.search(text, max(0, start - 40), start) else None
        elif etype == E.CVV:
            key = digits
        elif etype == E.DATE_OF_BIRTH:
            key = _birth_date(m)
        elif etype == E.US_PASSPORT:
            key = value.upper() if P.PASSPORT_VALUE.fullmatch(value) else None
        elif etype == E.MRN:
            key = value.upper() if P.MRN_VALUE.fullmatch(value) else None
        elif etype == E.US_DRIVER_LICENSE:  # ("492 817 365": New York's in groups)
            key = value.upper() if P.LICENSE_VALUE.fullmatch(value.replace(" ", "")) else None
        elif etype == E.BANK_ACCOUNT:  # a domestic account number: 6-17 digits, not one repeated digit, no sort code
            # (or the last four after "ending": "acct ending 7731"; a phone's "(470) 555-…" is none)
            key = digits if (6 <= len(digits) <= 17 or (len(digits) == 4 and _ENDING_BEFORE.search(
                text, max(0, start - 12), start))) and len(set(digits)) > 1 and value[0] != "+" and not (
                _SORT_CODE.fullmatch(value)) and ")" not in value and text[start - 1:start] != "(" else None
        elif etype == E.CARD_EXPIRY:  # MMYY without a separator only right after its word ("exp 0927")
            key = value.replace(" ", "") if not value.isdigit() or distance <= _NEAR else None
        elif etype == E.NATIONAL_ID:  # (the field's name says which number: every scheme is tried)
            if national := N.key(value, N.ALL):
                return Finding(start + national[0], start + national[1], etype, national[2])
        elif etype == E.HEALTH_PLAN_ID:
            key = value.upper() if P.HEALTH_PLAN_VALUE.fullmatch(value.replace(" ", "")) and not _CLAIM_BEFORE.search(
                text, max(0, start - 16), start) else None
        return Finding(start, end, etype, key) if key else None

    # --- context-free detectors (look-alikes blanked) -----------------------------------------------------------

    @staticmethod
    def _emails(work: str) -> list[Finding]:
        found = []
        done = 0  # addresses do not overlap: the next one starts after the last one's end
        at = work.find("@")
        while at >= 0:
            start = at
            while start > done and at - start <= 64 and (work[start - 1].isalnum()
                                                          or work[start - 1] in P.EMAIL_LOCAL_PUNCTUATION):
                start -= 1
            local_ok = 0 < at - start <= 64 and not (start and (work[start - 1].isalnum()
                                                                or work[start - 1] in P.EMAIL_LOCAL_PUNCTUATION))
            if local_ok and (m := P.EMAIL_DOMAIN.match(work, at)):
                if work[start:at].lower() not in P.EMAIL_MACHINE_LOCAL:
                    found.append(Finding(start, m.end(), E.EMAIL, work[start:m.end()].lower()))
                done = m.end()
            at = work.find("@", at + 1)
        return found

    def _ips(self, work: str, entities: frozenset[str], found: list[Finding]) -> list[tuple[int, int]]:
        """Report public addresses; return every address's span, so no octet is read as part of a phone number."""
        spans: list[tuple[int, int]] = []
        candidates = P.ipv4_spans(work) if work.count(".") >= 3 else []
        if "::" in work or work.count(":") >= 7:
            for m in P.IPV6_TAIL.finditer(work):
                start = m.start()
                while start > 0 and m.start() - start < 4 and work[start - 1] in _HEX:
                    start -= 1
                if start == 0 or not (work[start - 1].isalnum() or work[start - 1] in "_:."):
                    candidates.append((start, m.end()))
        for start, end in candidates:
            value = work[start:end]
            kind = V.ip_kind(value)
            if kind is None:
                continue
            spans.append((start, end))
            if kind is False and _client_hint(work[max(0, start - 24):start]) and _CLIENT_BEFORE.search(
                    work, max(0, start - 24), start):
                kind = True  # a private address a person's device was given
            if (E.IP_ADDRESS in entities and kind
                    and not VERSION_BEFORE.search(work, max(0, start - 16), start)
                    and not _OWN_ADDRESS_BEFORE.search(work, max(0, start - 32), start)
                    and not _SERVICE_AFTER.match(work, end)
                    and not (work[start - 1:start] == "[" and SERVER_BEFORE.search(work, max(0, start - 80), start))):
                found.append(Finding(start, end, E.IP_ADDRESS, value.lower()))
        return spans

    def _ibans(self, work: str) -> list[Finding]:
        found = []
        for m in P.IBAN_CHECK_DIGITS.finditer(work):
            start = m.start() - 2
            length = V.IBAN_LENGTHS.get(work[start:start + 2].upper())
            if length is None:
                continue
            end, compact = _collect_alnum(work, start, length)
            if compact and V.iban(compact):
                found.append(Finding(start, end, E.IBAN, compact.upper()))
        return found

    def _digit_runs(self, text: str, runs: list[tuple[int, int]], taken: list[tuple[int, int]],
                    entities: frozenset[str]) -> list[Finding]:
        """SSNs, cards and phone numbers in the digit runs, minus look-alikes and what was already found."""
        found: list[Finding] = []
        for run_start, run_end in runs:
            # most runs are dates, times and versions: a look-alike just before or at the run's start covers it all
            at = bisect_left(taken, (run_start, run_start))
            if (at and taken[at - 1][1] >= run_end) or (
                    at < len(taken) and taken[at][0] == run_start and taken[at][1] >= run_end):
                continue  # (what _segments would find: nothing)
            for start, end in _segments(text, run_start, run_end, taken):
                if _labelled(text, start):  # "trace_id=123 ...": not that one
                    first = P.DIGITS.search(text, start, end)
                    start = first.end() if first else end
                    while start < end and not text[start].isdigit():
                        start += 1
                if end - start < 7:
                    continue
                start = _with_prefix(text, start)
                run = text[start:end]
                if E.US_SSN in entities and P.SSN_DASHED.fullmatch(run):
                    digits = run.replace("-", "")
                    if V.us_ssn(digits):
                        found.append(Finding(start, end, E.US_SSN, digits))
                        continue
                # no card has fewer than 14 digits without its context word (a phone number's extension counts too)
                cards = self._cards(run, start) if E.CREDIT_CARD in entities and _digit_count(run) >= 14 else []
                found.extend(cards)
                if E.PHONE in entities:
                    if not cards:
                        found.extend(self._phones(run, start))
                        continue
                    for gap_start, gap_end in _gaps(start, end, [(f.start, f.end) for f in cards]):
                        found.extend(self._phones(text[gap_start:gap_end], gap_start))
        return found

    def _cards(self, run: str, offset: int) -> list[Finding]:
        """Card numbers in a digit run: the longest stretch of whole groups in a card layout, 14-19 digits."""
        groups = [(g.start(), g.end()) for g in P.DIGITS.finditer(run)]
        found: list[Finding] = []
        i = 1 if run.startswith("+") else 0  # "+44 20 ..." is a phone number, never a card
        while i < len(groups):
            if groups[i][1] - groups[i][0] not in _CARD_FIRST_GROUP:
                i += 1
                continue
            for j in range(min(len(groups), i + 5), i, -1):  # no card layout has more than five groups
                digits = "".join(run[s:e] for s, e in groups[i:j])
                if 14 <= len(digits) <= 19 and _card_layout(run, groups[i:j]) and V.credit_card(digits):
                    found.append(Finding(offset + groups[i][0], offset + groups[j - 1][1], E.CREDIT_CARD, digits))
                    i = j - 1
                    break
            i += 1
        return found

    def _phones(self, segment: str, offset: int) -> list[Finding]:
        """Formatted phone numbers (separators, parentheses or a leading +) valid for a configured region."""
        text = segment.strip()
        lead = offset + len(segment) - len(segment.lstrip())
        digits = P.NON_DIGITS.sub("", text)
        if len(digits) < 7 or text.isdigit():
            return []  # a bare digit string is a phone number only after a context word
        if len(digits) <= 15 and (key := self.phone_key(text)):
            return [Finding(lead, lead + len(text), E.PHONE, key)]
        if len(digits) < 14:
            return []
        groups = [(g.start(), g.end()) for g in P.DIGITS.finditer(text)]
        found: list[Finding] = []  # several numbers in one run ("+44 20 7946 0958 020 7946 0959")
        i = 0
        while i < len(groups):
            for j in range(min(len(groups), i + 6), i + 1, -1):
                if any(e - s < 2 for s, e in groups[i + 1:j]):  # only a country or trunk code is a single digit
                    continue
                start, end = groups[i][0], groups[j - 1][1]
                while start > 0 and text[start - 1] in "+(":  # keep a leading "+" or "(" with its number
                    start -= 1
                digits = "".join(text[s:e] for s, e in groups[i:j])
                if not 7 <= len(digits) <= 15 or not (text[start] == "+" or self._dialable(digits)):
                    continue
                if key := self.phone_key(text[start:end]):
                    found.append(Finding(lead + start, lead + end, E.PHONE, key))
                    i = j - 1
                    break
            i += 1
        return found

    def _allowed(self, value: str, key: str) -> bool:
        return _fold(value) in self._allow or _compact(value) in self._allow or key.lower() in self._allow


# --- helpers -------------------------------------------------------------------------------------------------------

_CANDIDATES: dict[str, re.Pattern[str]] = {
    E.DATE_OF_BIRTH: P.DATE, E.CVV: P.CVV_VALUE, E.MRN: P.ALNUM_ID, E.US_PASSPORT: P.ALNUM_ID,
    E.US_DRIVER_LICENSE: P.LICENSE_ID, E.US_SSN: P.DIGIT_RUN, E.UK_NHS: P.DIGIT_RUN, E.ABA_ROUTING: P.DIGIT_RUN,
    E.US_NPI: P.DIGIT_RUN, E.CREDIT_CARD: P.DIGIT_RUN, E.PHONE: P.DIGIT_RUN, E.BANK_ACCOUNT: P.DIGIT_RUN,
    E.CARD_EXPIRY: P.EXPIRY_VALUE, E.HEALTH_PLAN_ID: P.PLAN_ID, E.NATIONAL_ID: P.NATIONAL_VALUE,
}
# after a context word (not a field's name: a whole field is not "near" its name) an expiry may be MMYY
_NEAR_CANDIDATES = {**_CANDIDATES, E.CARD_EXPIRY: P.EXPIRY_NEAR_VALUE}
# the organisation's own public addresses, by the role they are given: "the office egress 203.0.113.9 works",
# "ZTNA egress 198.51.100.4", "front door 20.50.2.1", "NAT gateway …"
# a private address is infrastructure's, but not where a person's device holds it: "had client IP 10.33.17.208",
# "his router hands him 192.168.1.34", "her laptop's IP is 172.20.4.9"
_CLIENT_BEFORE = re.compile(r"(?i:\b(?:client[ ]ip|client[ ]address|(?:his|her|their|user's|user’s|home|laptop's|"
                            r"laptop|workstation|desktop|phone's|device's)[ ]ip|hands[ ](?:him|her|them)|"
                            r"(?:'s|’s)[ ](?:laptop|workstation|desktop|pc|phone))"
                            r"(?:[ ](?:is|was|of))?[ :=]{1,3})$")
# a public address a bracket names as a machine or a service's: "20.71.44.9 (Azure LB)", "196.25.1.1 (Telkom
# gateway)", "185.220.101.47 (known bulletproof host)" — no person's home connection is described so
_SERVICE_AFTER = re.compile(r"[ ]?\((?i:[^()\n]{0,30}\b(?:lb|load[ ]balancer|gateway|gw|host|hosting|server|proxy|"
                            r"firewall|router|cdn|relay|resolver|dns|c2|vpn[ ]concentrator|scanner|exit[ ]node))\)")
_OWN_ADDRESS_BEFORE = re.compile(r"(?i:\b(?:egress|ingress|nat|snat|front[ ]door|load[ ]balancer|vip|nat[ ]gateway|"
                                 r"reverse[ ]proxy|anycast|front[ ]end|frontend|c2|hosting|ioc)"
                                 r"(?:[ ](?:ip|address|is)|[ ]?[=:])?[ ]{1,2})$")  # ("C2 / hosting: 185.…")
_ENDING_BEFORE = re.compile(r"\bending(?:[ ]in)?[ :]{1,2}$")
_SORT_CODE = re.compile(r"[0-9]{2}-[0-9]{2}-[0-9]{2}")  # a UK bank's sort code, beside an account, is not one
# a claim's number after "claim" is no member id: "Member … called about a denied claim CLM-88210455"
_CLAIM_BEFORE = re.compile(r"(?i:\bclaims?(?:[ ](?:no\.?|number|id|#))?[ :#]{1,3})$")
# A card's code read out after it, its word plain: "4923 … exp 04/27 code 226", "…, security 581", "CVC 3 0 2", "the
# four digit code on the front is 0938"; not another code ("error code 2051", "auth code 123456")
_CODE_AFTER_CARD = re.compile(r"(?i:\b(code|cvc2?|cvv2?|csc|cid|security))\b[^0-9\n]{0,24}?(?<![\w\-/])"
                              r"([0-9](?:[ ]?[0-9]){2,3})(?![\w/\-]|[ ][0-9])")
_OTHER_CODE_BEFORE = re.compile(
    r"(?i:\b(?:error|response|reason|auth|authori[sz]ation|approval|decline|declined|result|status|return|promo|"
    r"discount|zip|postal|post|area|country|currency|sort|swift|merchant|mcc|tracking|voucher|access)[ _\-]?)\Z")


def _national_after_words(text: str, ctx: ContextIndex) -> list[Finding]:
    """The first national id of a scheme its word names within the window after each word, unless a phone's word
    stands between them ("ID number on file; call back on 574 688 610") or a reference's label is right before it
    ("the NAS, serial 574688610")."""
    found = []
    phones = ctx.by_type.get(E.PHONE, [])
    for end, schemes in ctx.national.items():
        phone = phones[at] if (at := bisect_right(phones, end)) < len(phones) else len(text)  # the next phone word
        for m in P.NATIONAL_VALUE.finditer(text, end, min(len(text), end + WINDOW + 40)):
            if m.start() - end > WINDOW or phone <= m.start():
                break
            if (national := N.key(m.group(), schemes)) and not N.reference_before(text, m.start() + national[0]):
                found.append(Finding(m.start() + national[0], m.start() + national[1], E.NATIONAL_ID, national[2]))
                break
    return found


def _digit_count(text: str) -> int:
    return len(P.NON_DIGITS.sub("", text))


# A number shaped like a phone's that is none: a conference bridge's ("bridge +44 20 3481 0000 PIN 771 204#"), a
# reference after its label ("claim CLM 2026-338812", "order no. 2026-441872")
_BRIDGE_BEFORE = re.compile(r"(?i:\b(?:bridge|dial-in|dial in|conference line|audio conference)[ :]{1,3})$")
_BRIDGE_AFTER = re.compile(r"(?i:[ ,;]{1,3}(?:pin|passcode|access code|conference id|meeting id|conf id)\b)")
_REFERENCE_BEFORE = re.compile(
    r"(?i:\b(?:claim|case|ref|reference|order|invoice|po|booking|tracking|confirmation|conf)(?:[ ](?:no\.?|number))?"
    r"[ #:]{1,3})(?:[A-Z]{2,5}[ #\-]?)?$")
_NO_PHONE_HINT = re.compile(r"(?i:claim|case|ref|order|invoice|po|booking|tracking|conf|bridge|dial)")
_GROUP_NPI_BEFORE = re.compile(r"(?i:\b(?:group|organi[sz]ation(?:al)?|practice|facility|billing|type[ ]2)"
                               r"(?:[ ]practice)?[ ]npi[ #:]{0,3})$")


def _client_hint(before: str) -> bool:
    """What each of _CLIENT_BEFORE's cases holds (tested first: most private addresses have none of it)."""
    return "IP" in before or "ip" in before or "hands" in before or "'s " in before or "’s " in before


def _no_phone(text: str, start: int, end: int) -> bool:
    after = text[end:end + 3]
    if (" " in after or "," in after or ";" in after) and _BRIDGE_AFTER.match(text, end) is not None:
        return True
    # (the patterns only run where one of their words stands)
    return _NO_PHONE_HINT.search(text, max(0, start - 28), start) is not None and (_BRIDGE_BEFORE.search(
        text, max(0, start - 24), start) is not None or _REFERENCE_BEFORE.search(
        text, max(0, start - 28), start) is not None)


def _labelled(text: str, start: int) -> bool:
    """A label like "trace_id=" just before `start`; its "=", ":" or "#" is tested first (most runs have none)."""
    near = text[max(0, start - 4):start]
    return ("=" in near or ":" in near or "#" in near) and ID_LABEL_BEFORE.search(
        text, max(0, start - 24), start) is not None


def _with_prefix(text: str, start: int) -> int:
    """Move a digit run's start back over a "+" or "(" that belongs to it ("+44 20...", "(415) 555...")."""
    if start > 0 and text[start - 1] in "+(":
        start -= 1
        if start > 0 and text[start - 1] == "+":  # "+(44)..."
            start -= 1
    return start


class _DialPlan:
    """How numbers are dialled in one region, to rule a digit string out before the (slow) full parse."""

    def __init__(self, region: str) -> None:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        known = meta is not None and meta.general_desc is not None and meta.general_desc.possible_length
        self.lengths = frozenset(meta.general_desc.possible_length) if known else frozenset(range(4, 18))  # type: ignore[union-attr]
        self.nanpa = meta is not None and meta.country_code == 1
        self.trunk = (meta.national_prefix or "") if meta else ""
        exit_code = (meta.international_prefix or "") if meta else ""
        self.exit = exit_code if exit_code.isdigit() else ""

    def admits(self, digits: str) -> bool:
        if self.exit and digits.startswith(self.exit):  # "0044 20 ...", "011 44 ..."
            return 8 <= len(digits) - len(self.exit) <= 15
        if self.nanpa:  # "(415) 555-2671", "1-415-555-2671"
            return len(digits) in self.lengths or (len(digits) - 1 in self.lengths and digits.startswith("1"))
        # elsewhere a national number is written with its trunk prefix ("020 7946 0958"); without it, any ten
        # digits would parse as a valid UK number
        return bool(self.trunk) and digits.startswith(self.trunk) and len(digits) - len(self.trunk) in self.lengths


def _birth_date(m: re.Match[str]) -> str | None:
    """The date as YYYY-MM-DD when it is a plausible birth date (day-first or month-first both accepted)."""
    g = m.groupdict()
    today = date.today()
    candidates: list[tuple[str | None, str | None, str | None]]
    if g["y1"]:
        candidates = [(g["y1"], g["a"], g["b"]), (g["y1"], g["b"], g["a"])]
    elif g["y2"]:
        candidates = [(g["y2"], g["m2"], g["d2"])]
    elif g["y5"]:
        candidates = [(g["y5"], str(P.MONTHS_OF_LANGUAGES[g["m5"].lower()]), g["d5"])]
    elif g["y6"]:
        candidates = [(g["y6"], g["m6"], g["d6"])]
    elif g["y7"]:
        candidates = [(g["y7"], g["m7"], g["d7"])]
    else:
        month = _month_number(m.group())
        candidates = [(g["y3"] or g["y4"], str(month) if month else None, g["d3"] or g["d4"])]
    for y, mo, d in candidates:
        if not (y and mo and d):
            continue
        year = int(y) + (0 if len(y) == 4 else (1900 if int(y) > today.year % 100 else 2000))
        try:
            born = date(year, int(mo), int(d))
        except ValueError:
            continue
        # 1 January 1900 or 1901 is a system's placeholder ("shows as 01/01/1900, correct value is …"): the next date
        if born.year >= 1900 and born <= today and not (born.month == born.day == 1 and born.year < 1902):
            return born.isoformat()
    return None


# compiled once: re.search with a pattern string looks each one up in re's cache, twelve times per written-out date
_MONTH_NAMES = tuple(re.compile(rf"(?<![a-z]){name}") for name in (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))


def _month_number(text: str) -> int | None:
    lowered = text.lower()
    for i, name in enumerate(_MONTH_NAMES):
        if name.search(lowered):
            return i + 1
    return None


def _collect_alnum(text: str, start: int, length: int) -> tuple[int, str]:
    """From `start`, `length` alphanumerics allowing single spaces between them, ending at a boundary;
    (end, compact) or (0, "")."""
    chars: list[str] = []
    i = start
    n = len(text)
    while i < n and len(chars) < length:
        ch = text[i]
        if ch.isascii() and ch.isalnum():
            chars.append(ch)
        elif not (ch == " " and chars and i + 1 < n and text[i + 1].isascii() and text[i + 1].isalnum()):
            return 0, ""
        i += 1
    if len(chars) < length:
        return 0, ""
    if i < n and (text[i].isalnum() or text[i] in "-_/" or (text[i] == "." and i + 1 < n and text[i + 1].isalnum())):
        return 0, ""
    return i, "".join(chars)


_CARD_FIRST_GROUP = frozenset({4, *range(8, 20)})  # printed 4-4-4-4 / 4-6-5, unbroken, or wrapped mid-number


def _card_layout(run: str, groups: list[tuple[int, int]]) -> bool:
    """Cards are printed 4-4-4-4(-3), 4-6-5 or 4-6-4, or unbroken; text wrapping may also split them at a line break."""
    def ok(lengths: list[int]) -> bool:
        return (len(lengths) == 1 or lengths in ([4, 6, 5], [4, 6, 4])
                or (all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4))

    lengths = [e - s for s, e in groups]
    if ok(lengths):
        return True
    merged = [lengths[0]]
    for (_, prev_end), (start, end) in zip(groups, groups[1:], strict=False):
        if "\n" in run[prev_end:start]:
            merged[-1] += end - start
        else:
            merged.append(end - start)
    return ok(merged)


def _inside(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def _gaps(start: int, end: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [start, end) not covered by the sorted spans in `taken`."""
    gaps = []
    cursor = start
    for s, e in taken[max(0, bisect_left(taken, (start, start)) - 1):]:
        if s >= end:
            break
        if e <= cursor:
            continue
        if s > cursor:
            gaps.append((cursor, s))
        cursor = max(cursor, e)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def _segments(text: str, start: int, end: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The uncovered parts of a digit run, trimmed to begin and end with a digit."""
    parts = []
    for s, e in _gaps(start, end, taken):
        while s < e and not text[s].isdigit():
            s += 1
        while e > s and not text[e - 1].isdigit():
            e -= 1
        if e - s >= 7:
            parts.append((s, e))
    return parts


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _compact(text: str) -> str:
    return re.sub(r"[\s\-().]", "", text).casefold()
