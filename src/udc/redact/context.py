"""Context words: the whole words (or field names) that make a context-only identifier count.

A nine-digit number is an SSN only after "SSN", a date only a date of birth after "born" or "DOB", a short
alphanumeric only a passport number after "passport". Words are looked for in a short window before the value.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from udc.redact import entities as E

WINDOW = 48  # characters between the end of a context word and the start of the value

_WORDS: dict[str, list[str]] = {
    E.US_SSN: [r"ssn", r"ss\s?#", r"social\s+security(?:\s+(?:no|num|number))?", r"social\s+sec"],
    E.CREDIT_CARD: [r"card", r"cards", r"cc", r"credit", r"debit", r"visa", r"mastercard", r"master\s+card",
                    r"amex", r"american\s+express", r"maestro", r"discover", r"jcb", r"diners", r"pan"],
    E.PHONE: [r"phone", r"telephone", r"tel", r"mobile", r"cell", r"cellphone", r"fax", r"call", r"ring", r"text",
              r"sms", r"whatsapp", r"contact", r"reach", r"dial", r"ph", r"mob", r"landline", r"extension"],
    E.UK_NHS: [r"nhs(?:\s+(?:no|num|number))?"],
    E.ABA_ROUTING: [r"routing", r"aba", r"rtn", r"transit\s+(?:no|num|number)"],
    E.US_NPI: [r"npi", r"national\s+provider"],
    E.CVV: [r"cvv2?", r"cvc2?", r"csc", r"security\s+code", r"card\s+verification(?:\s+(?:code|value))?"],
    E.DATE_OF_BIRTH: [r"dob", r"d\.o\.b\.?", r"date\s+of\s+birth", r"birth\s*date", r"birthday", r"born",
                      r"geboren", r"né(?:e)?"],
    E.MRN: [r"mrn", r"medical\s+record(?:\s+(?:no|num|number))?", r"patient\s+(?:id|no|num|number)",
            r"chart\s+(?:no|num|number)", r"hospital\s+(?:no|num|number)"],
    E.US_PASSPORT: [r"passport(?:\s+(?:no|num|number))?"],
    E.US_DRIVER_LICENSE: [r"driver'?s?\s+licen[cs]e", r"driving\s+licen[cs]e", r"dl\s?#", r"dl\s+(?:no|num|number)",
                          r"licen[cs]e\s+(?:no|num|number|#)"],
}

_GROUP = {etype: f"g{i}" for i, etype in enumerate(_WORDS)}
_TYPE_OF_GROUP = {g: t for t, g in _GROUP.items()}
_ALTERNATIVES = "|".join(f"(?P<{_GROUP[t]}>" + "|".join(words) + ")" for t, words in _WORDS.items())
CONTEXT_WORDS = re.compile(rf"(?<!\w)(?:{_ALTERNATIVES})(?!\w)", re.IGNORECASE)

# Field names (lower-cased, non-alphanumerics removed) that are context for the whole value.
_FIELD_HINTS: list[tuple[str, str]] = [
    ("ssn", E.US_SSN), ("socialsecurity", E.US_SSN), ("creditcard", E.CREDIT_CARD), ("cardnumber", E.CREDIT_CARD),
    ("ccnumber", E.CREDIT_CARD), ("phone", E.PHONE), ("mobile", E.PHONE), ("fax", E.PHONE), ("telephone", E.PHONE),
    ("nhs", E.UK_NHS), ("routing", E.ABA_ROUTING), ("aba", E.ABA_ROUTING), ("npi", E.US_NPI), ("cvv", E.CVV),
    ("cvc", E.CVV), ("dob", E.DATE_OF_BIRTH), ("birth", E.DATE_OF_BIRTH), ("mrn", E.MRN), ("medicalrecord", E.MRN),
    ("passport", E.US_PASSPORT), ("driverlicense", E.US_DRIVER_LICENSE), ("driverslicense", E.US_DRIVER_LICENSE),
    ("drivinglicence", E.US_DRIVER_LICENSE), ("licensenumber", E.US_DRIVER_LICENSE),
]


def field_context(field: str) -> frozenset[str]:
    """Entity types a field's name alone makes likely (`u_patient_mrn` → MRN)."""
    key = re.sub(r"[^a-z0-9]", "", field.lower())
    return frozenset(etype for hint, etype in _FIELD_HINTS if hint in key)


class ContextIndex:
    """Where context words occur in one text, to ask "is there a word for type T just before offset p?"."""

    __slots__ = ("_ends", "_types")

    def __init__(self, text: str) -> None:
        self._ends: list[int] = []
        self._types: list[str] = []
        for match in CONTEXT_WORDS.finditer(text):
            self._ends.append(match.end())
            self._types.append(_TYPE_OF_GROUP[match.lastgroup or ""])

    def __bool__(self) -> bool:
        return bool(self._ends)

    def before(self, position: int, window: int = WINDOW) -> set[str]:
        """Types with a context word ending within `window` characters before `position`."""
        found: set[str] = set()
        i = bisect_left(self._ends, position - window)
        while i < len(self._ends) and self._ends[i] <= position:
            found.add(self._types[i])
            i += 1
        return found

    def words(self, etype: str) -> list[int]:
        """End offsets of the context words for `etype`."""
        return [end for end, t in zip(self._ends, self._types, strict=True) if t == etype]
