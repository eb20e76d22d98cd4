"""A value's siblings: where a text gives one record number, member id or passport number by its context word, other
values of the very same shape and letters in that text are the same kind of value ("correct MRN MR-0448126, wrong
one MR-0448127"), and where it gives an NHS number, so is any other ten-digit number its check digit holds for.

Only shapes with letters and digits count (an MRN of digits alone has the shape of every order number), and the
letters must be the same ("MRN3232875" makes no sibling of "CHG7578163", a change number of that shape).
"""

from __future__ import annotations

import re
from functools import lru_cache

from udc.config import entities as E
from udc.redact import patterns as P
from udc.redact import validators as V
from udc.redact.scanner import Finding

_BY_SHAPE = frozenset({E.MRN, E.HEALTH_PLAN_ID, E.US_PASSPORT})
_NHS_NUMBER = re.compile(rf"(?<![\w\-]){P.NHS_SHAPE.pattern}(?![\w\-])")
_DIGIT, _LETTER, _NINES = re.compile(r"[0-9]"), re.compile(r"[A-Za-z]"), re.compile(r"9+")


def _shape(value: str) -> str:
    """The value with its digits as 9s: "MR-0448126" → "MR-9999999"."""
    return _DIGIT.sub("9", value.upper())


@lru_cache(maxsize=1024)
def _shape_pattern(shape: str) -> re.Pattern[str]:
    """The values of a shape, whole: "MR-9999999" → MR-[0-9]{7}, in any case."""
    body = _NINES.sub(lambda m: f"[0-9]{{{len(m.group())}}}", re.escape(shape))
    return re.compile(rf"(?<![\w\-]){body}(?![\w\-])", re.IGNORECASE)


def siblings(text: str, found: list[Finding]) -> list[Finding]:
    """Values of the shape of one found by its word (MRN, member id, passport) or NHS numbers, not found yet."""
    shapes: dict[str, str] = {}
    nhs = False
    for f in found:
        if f.entity in _BY_SHAPE:
            shape = _shape(text[f.start:f.end])
            if "9" in shape and _LETTER.search(shape):
                shapes[shape] = f.entity
        nhs = nhs or f.entity == E.UK_NHS
    if not (shapes or nhs):
        return []
    taken = {f.start for f in found}
    out = []
    for shape, entity in shapes.items():
        for m in _shape_pattern(shape).finditer(text):
            if m.start() not in taken:
                out.append(Finding(m.start(), m.end(), entity, m.group().upper()))
    if nhs:
        for m in _NHS_NUMBER.finditer(text):
            digits = P.NON_DIGITS.sub("", m.group())
            if m.start() not in taken and V.uk_nhs(digits):
                out.append(Finding(m.start(), m.end(), E.UK_NHS, digits))
    return out
