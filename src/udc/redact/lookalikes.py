"""Known look-alikes: ITSM identifiers and machine text that resemble PII but are not.

Digits inside a look-alike are taken out of the digit runs the pattern detectors read, so a timestamp or a
version can neither be reported itself nor glue onto a neighbouring number.
Every pattern is anchored by a lookbehind and uses bounded quantifiers only, so a scan is linear in the text.
"""

from __future__ import annotations

import re

# Machine-text look-alikes that contain digit groups a detector could read as PII: dates, times, timestamps,
# epoch values, dotted versions. Written digit-first (see patterns.py) so the scan skips straight to digits.
# The other look-alikes need no blanking in stream 1, because every detector demands a boundary that they
# cannot provide: digits glued to letters (INC0012345, KB5034441), to a dash (OPS-123, GUID groups) or inside
# hex (sys_ids, hashes) never start a candidate. LOOKALIKE below lists them all, for the NER stream.
_DIGIT_FIRST = [
    # ISO dates and timestamps: 2024-01-15, 2024-01-15 10:22:33, 2024-01-15T10:22:33.123Z
    r"[0-9]{3}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?(?![\w-])",
    # times 10:22, 10:22:33.5
    r"[0-9]?:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?(?![\w:])",
    # 01/15/2024, 15.01.2024, 2024/01/15, 1/2/24, Apache 15/Jan/2024:10:22:33 +0000
    r"(?:[0-9]?[/.][0-9]{1,2}[/.][0-9]{4}|[0-9]{3}/[0-9]{1,2}/[0-9]{1,2}|[0-9]?/[0-9]{1,2}/[0-9]{2})(?![\w/]|\.[0-9])",
    r"[0-9]/[A-Z][a-z]{2}/[0-9]{4}(?::[0-9]{2}:[0-9]{2}:[0-9]{2})?(?: [+-][0-9]{4})?",
    # epoch seconds / ms / us / ns (2001-2033): no card scheme or US/UK phone number starts that way
    r"(?<=1)[0-9]{9}(?:[0-9]{9}|[0-9]{6}|[0-9]{3})?(?:\.[0-9]{1,9})?(?!\w|\.[0-9])",
    # decimals: 17177.945368 (kernel uptime), 3.14159
    r"[0-9]{0,11}\.[0-9]{1,12}(?![0-9]|\.[0-9])",
    # versions with a suffix (1.2.3-beta, 1.8.0_292, 2024.1.2-hotfix1) or with five or more parts
    r"[0-9]{0,5}(?:\.[0-9]{1,6}){1,3}(?:[-+][A-Za-z]|_[0-9A-Za-z])[\w.]{0,30}",
    r"[0-9]{0,5}(?:\.[0-9]{1,6}){4,8}(?![\w.])",
]
DIGIT_LOOKALIKE = re.compile(r"[0-9](?<![\w.\-:/][0-9])(?:" + "|".join(_DIGIT_FIRST) + ")")

# Numeric ids labelled as such (dd.trace_id=6680481366601616317, "offset":123456789012): checked just before a
# candidate that validated, so the label itself costs nothing on text without candidates.
ID_LABEL_BEFORE = re.compile(
    r"(?i:(?:trace|span|parent|request|correlation|message|event|thread|session|transaction|order|job|build|"
    r"offset|seq|sequence|invoice|po)_?(?:id|no|number|#)?[\"']?\s?[=:#]\s?[\"']?)$"
)
# Words that make a dotted quad a version, not an address ("upgraded to version 4.5.1.2", "firmware 2.1.0.9").
# A mail server's name and its address in brackets, as Postfix and Sendmail log them: "relay=mx.example.net[…]"
# (a name with a dot: "unknown[…]" has none and stays an address that may be a person's)
SERVER_BEFORE = re.compile(r"[A-Za-z0-9\-]+\.[A-Za-z0-9.\-]*[A-Za-z]\[$")
VERSION_BEFORE = re.compile(r"(?i:(?:v|version|ver|release|build|rev|firmware|kernel|agent|patch|update|hotfix|"
                            r"hot fix|fix pack|service pack|driver|rolled back to|roll back to|downgraded to|"
                            r"upgraded to)\.?\s?)$")  # ("driver rolled back to 9.1.0.184")

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
    # versions: v1.2.3, version 10.2.1.4, pkg-1.2.3, lodash@4.17.21
    r"(?<![\w.])(?i:v|version[ :]?|ver\.? ?|release[ :]?|build[ :]?|rev\.? ?)\d{1,6}(?:\.\d{1,6}){1,4}"
    r"(?:[-+_][\w.]{1,30})?",
    r"(?<=[A-Za-z][-_@/])\d{1,6}(?:\.\d{1,6}){1,4}(?:[-+_][\w.]{1,30})?(?![\w.])",
    # host names / FQDNs (an e-mail's domain is excluded by the '@' lookbehind)
    r"(?<![\w.@-])(?:[A-Za-z0-9][A-Za-z0-9-]{0,62}\.){2,6}[A-Za-z]{2,24}(?![\w@-]|\.\w)",
]

# Every look-alike, machine text included: used where names are found (a host or class name is not a person).
LOOKALIKE = re.compile("|".join([DIGIT_LOOKALIKE.pattern, *_PATTERNS]))


_SPAN = re.Match.span  # (mapped over the matches: no Python call per match)
_last: tuple[str, tuple[tuple[int, int], ...]] = ("", ())  # the last text's spans: several detectors ask in turn


def lookalike_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of the digit look-alikes in `text`; detectors ignore digits inside them."""
    global _last
    last = _last
    if last[0] is text:
        return last[1]
    spans = tuple(map(_SPAN, DIGIT_LOOKALIKE.finditer(text)))
    _last = (text, spans)
    return spans
