"""Known look-alikes: ITSM identifiers and machine text that resemble PII but are not.

They are blanked out (same length, so offsets hold) before the pattern detectors run, so a ticket number, a
timestamp or a stack-trace line can neither be reported itself nor glue onto a neighbouring number.
Every pattern is anchored by a lookbehind and uses bounded quantifiers only, so a scan is linear in the text.
"""

from __future__ import annotations

import re

BLANK = "\x00"  # neither a word character nor a separator: a hard boundary for every detector

_PATTERNS = [
    # stack traces: Java/JS/.NET "at pkg.Class.method(File.java:42)", Python 'File "x.py", line 3, in f'
    r"(?m:^[ \t]{0,40}at [^\n(]{1,300}\([^\n)]{0,300}\)[^\n]{0,200}$)",
    r"(?m:^[ \t]{0,40}\.\.\. \d{1,6} (?:more|common frames omitted)$)",
    r'(?m:^[ \t]{0,40}File "[^"\n]{1,400}", line \d{1,7}(?:, in [^\n]{1,200})?$)',
    # ServiceNow task numbers, Jira keys
    r"(?<![\w-])(?i:INC|CHG|CTASK|CHGTASK|PRB|PTASK|PRJTASK|PRJ|KB|RITM|REQ|SCTASK|TASK|STRY|DMND|IMS|CS|WO|WOT|DEF"
    r"|ENHC|RFC|SR|IR)\d{4,12}(?![\w-])",
    r"(?<![\w-])[A-Z][A-Z0-9_]{1,9}-\d{1,7}(?![\w-])",
    # GUIDs, sys_ids and hashes, hex literals
    r"(?<![\w-])\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?(?![\w-])",
    r"(?<!\w)(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32}|0[xX][0-9a-fA-F]{1,16})(?!\w)",
    # timestamps and dates (a date of birth is found before this, from its context words)
    r"(?<![\w.-])\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\w-])",
    r"(?<![\w.:])\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?![\w:])",
    r"(?<![\w./-])(?:\d{1,2}[/.]\d{1,2}[/.]\d{4}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}/\d{1,2}/\d{2})(?![\w/]|\.\d)",
    r"(?<!\w)\d{2}/[A-Z][a-z]{2}/\d{4}(?::\d{2}:\d{2}:\d{2})?(?: [+-]\d{4})?",
    # epoch seconds / ms / us / ns (2001-2033): no card scheme or US/UK phone starts that way
    r"(?<![\w.])1\d{9}(?:\d{9}|\d{6}|\d{3})?(?:\.\d{1,9})?(?!\w|\.\d)",
    # version strings: v1.2.3, version 10.2.1.4, pkg-1.2.3, lodash@4.17.21, 1.2.3-beta, 1.8.0_292
    r"(?<![\w.])(?i:v|version[ :]?|ver\.? ?|release[ :]?|build[ :]?|rev\.? ?)\d{1,6}(?:\.\d{1,6}){1,4}"
    r"(?:[-+_][\w.]{1,30})?",
    r"(?<=[A-Za-z][-_@/])\d{1,6}(?:\.\d{1,6}){1,4}(?:[-+_][\w.]{1,30})?(?![\w.])",
    r"(?<![\w.])\d{1,6}(?:\.\d{1,6}){2,3}[-+_][A-Za-z][\w.]{0,30}",
    r"(?<![\w.])\d{1,6}(?:\.\d{1,6}){4,8}(?![\w.])",
    # host names / FQDNs (an e-mail's domain is excluded by the '@' lookbehind)
    r"(?<![\w.@-])(?:[A-Za-z0-9][A-Za-z0-9-]{0,62}\.){2,6}[A-Za-z]{2,24}(?![\w@-]|\.\w)",
]

LOOKALIKE = re.compile("|".join(_PATTERNS))


def blank_lookalikes(text: str) -> str:
    """`text` with every look-alike replaced by BLANK characters of the same length."""
    pieces: list[str] = []
    last = 0
    for match in LOOKALIKE.finditer(text):
        start, end = match.span()
        pieces.append(text[last:start])
        pieces.append(BLANK * (end - start))
        last = end
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the given (sorted, non-overlapping) spans blanked."""
    if not spans:
        return text
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        if start < last:
            continue
        pieces.append(text[last:start])
        pieces.append(BLANK * (end - start))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
