"""Candidate patterns for stream 1. Each is anchored by a lookbehind and bounded, so scanning is linear-time.

Candidates are only that: validators (validators.py) and context words (context.py) decide.
"""

from __future__ import annotations

import re

# Every hot pattern starts with an ASCII character class and checks its left boundary with a lookbehind *after*
# that first character: the regex engine can then skip ahead to candidate characters instead of trying every
# position (several times faster than a leading lookbehind). Quantifiers are bounded: scanning stays linear.

# A run of digit groups: "4111 1111 1111 1111", "44 (0)20 7946-0958", "123-45-6789", "0496\n46 46 70".
# Each step consumes a digit or a separator that must be followed by a digit, so there is one way to match.
# A leading "+" or "(" is added back by the caller.
DIGIT_RUN = re.compile(
    r"[0-9](?<![\w\-./][0-9])"
    r"(?:[0-9]|[ \-.\t\u00a0](?=[0-9])|\r?\n(?=[0-9])|\)[ \-.]?(?=[0-9])|[ \-.]?\([0-9]{1,5}\)[ \-.]?(?=[0-9])){0,40}"
    r"(?:[ ]?(?:x|ext\.?|#)[ ]?[0-9]{1,6})?(?![\w])"  # a phone extension: 345-899-3560x4587
)
# The same, only where it can run to 7 characters or more (what the context-free detectors read): the look-ahead
# skips the shorter ones (times, counts) without making a match of each.
LONG_DIGIT_RUN = re.compile(DIGIT_RUN.pattern.replace(
    r"[0-9](?<![\w\-./][0-9])", r"[0-9](?<![\w\-./][0-9])(?=[0-9 \-.\t\u00a0()\r\nxet#]{6})", 1))
EXTENSION = re.compile(r"[ ]?(?:x|ext\.?|#)[ ]?[0-9]{1,6}$")
DIGITS = re.compile(r"[0-9]+")
NON_DIGITS = re.compile(r"[^0-9]+")

# An e-mail address is read from its "@": the domain forward with this pattern, the local part (up to 64 of
# [\w.%+-], from a character that is none) backward by the caller. A pattern that began with the local part would be
# tried at every letter of the text.
EMAIL_DOMAIN = re.compile(r"@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w\-]|\.[A-Za-z0-9])")
EMAIL_LOCAL_PUNCTUATION = "_.%+-"
# Machine mailboxes, not people: SSH remotes (git@host:repo), bounce and no-reply senders.
EMAIL_MACHINE_LOCAL = frozenset({"git", "noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon",
                                 "postmaster"})

# A dotted quad from its first dot: the last three octets with this pattern, the first (1-3 digits, not after a
# word character or a dot) read backward by ipv4_spans. Dots are rarer than digits in ITSM text.
IPV4_TAIL = re.compile(r"\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(?![\w]|\.[0-9])")


def ipv4_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    pos = 0
    while m := IPV4_TAIL.search(text, pos):
        dot = start = m.start()
        while start > 0 and dot - start < 4 and "0" <= text[start - 1] <= "9":
            start -= 1
        if 0 < dot - start <= 3 and not (start and (text[start - 1].isalnum() or text[start - 1] in "_.")):
            spans.append((start, m.end()))
            pos = m.end()
        else:
            pos = dot + 1
    return spans
# From the first colon on (a literal prefix the engine finds fast); the caller extends left over hex digits.
IPV6_TAIL = re.compile(r":(?:[0-9A-Fa-f]{0,4}:){1,6}[0-9A-Fa-f]{0,4}(?![\w:])")
# The third character of an IBAN (first check digit), with its two letters checked behind it.
# Not inside an identifier (pod-be57c643..., file_gb82...): no letter, digit, "-", "_", "." or "/" before it.
IBAN_CHECK_DIGITS = re.compile(r"[0-9](?<=(?<![A-Za-z0-9\-_./])[A-Za-z]{2}[0-9])[0-9](?= ?[A-Za-z0-9])")

SSN_DASHED = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}")
SSN_ANY = re.compile(r"\d{3}([ \-.]?)\d{2}\1\d{4}")
NHS_SHAPE = re.compile(r"\d{3}([ \-]?)\d{3}\1\d{4}")

_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.?"
# Months in the other languages tickets are written in, by number ("22 de mayo de 1983", "3 maart 1990", "4. Mai
# 1979", "12 Mart 1985", "12 marca 1985"); English ones are read by their first three letters
MONTHS_OF_LANGUAGES: dict[str, int] = {name: number for number, names in enumerate((
    "enero janeiro janvier januar januari gennaio ocak stycznia styczeń",
    "febrero fevereiro février fevrier februar februari febbraio şubat subat lutego luty",
    "marzo março marco mars märz maerz maart mart marca marzec",
    "abril avril april aprile nisan kwietnia kwiecień",
    "mayo maio mai mei maggio mayıs mayis maja maj",
    "junio junho juin juni giugno haziran czerwca czerwiec",
    "julio julho juillet juli luglio temmuz lipca lipiec",
    "agosto août aout august augustus ağustos agustos sierpnia sierpień",
    "septiembre setiembre setembro septembre september settembre eylül eylul września wrzesień",
    "octubre outubro octobre oktober ottobre ekim października październik",
    "noviembre novembro novembre november kasım kasim listopada listopad",
    "diciembre dezembro décembre decembre dezember december dicembre aralık aralik grudnia grudzień",
), start=1) for name in names.split()}
_OTHER_MONTHS = "|".join(sorted(MONTHS_OF_LANGUAGES, key=len, reverse=True))
DATE = re.compile(
    r"(?<![\w/.\-])(?:"
    r"(?P<a>\d{1,2})(?:[/.\-]|[ ]/[ ])(?P<b>\d{1,2})(?:[/.\-]|[ ]/[ ])(?P<y1>\d{4}|\d{2})"  # ("07 / 11 / 1962": OCR)
    r"|(?P<y2>\d{4})[/.\-](?P<m2>\d{1,2})[/.\-](?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?(?:\s(?:of\s)?|-){_MONTHS}(?:,?\s|-)(?P<y3>\d{{4}})"  # ("05-Aug-1990")
    rf"|{_MONTHS}\s(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?,?\s(?P<y4>\d{{4}})"
    rf"|(?P<d5>\d{{1,2}})\.?\s(?:de\s)?(?P<m5>{_OTHER_MONTHS})\s(?:de\s)?(?P<y5>\d{{4}})"
    r"|(?P<y6>\d{4})年(?P<m6>\d{1,2})月(?P<d6>\d{1,2})日"  # (Japanese, Chinese)
    r"|(?P<y7>(?:19|20)\d{2})(?P<m7>[01]\d)(?P<d7>[0-3]\d)"  # (compact, as exports write it: "dob 19520418")
    r")(?![\w/])",
    re.IGNORECASE,
)

# Short identifiers that count only after their context word.
CVV_VALUE = re.compile(r"(?<![\w\-])\d{3,4}(?![\w\-])")
ALNUM_ID = re.compile(r"(?<![\w\-])[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){3,24}(?![\w\-])")
# a driver's licence may be written in groups of digits (New York's "492 817 365")
LICENSE_ID = re.compile(rf"(?<![\w\-])[0-9]{{3}}[ ][0-9]{{3}}[ ][0-9]{{3}}(?![\w\-])|{ALNUM_ID.pattern}")
# a member id with a dependant's suffix ("U62219048 01") or in a card's groups ("XOF 8812 40771"; an Australian
# Medicare card's "2953 14758 1", before its holder's "/2")
PLAN_ID = re.compile(r"(?<![\w\-])(?:[A-Z]{3}[ ][0-9]{4}[ ][0-9]{4,6}(?![\w\-])|"
                     r"[2-6][0-9]{3}[ ][0-9]{5}[ ][0-9](?![\w\-])|"
                     r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){3,24}(?:[ ][0-9]{2}(?![\w\-:]|\.[0-9]))?(?![\w\-]))")
PASSPORT_VALUE = re.compile(r"[A-Za-z]{0,2}\d{6,9}")
MRN_VALUE = re.compile(r"[A-Za-z]{0,4}-?\d{5,12}")
LICENSE_VALUE = re.compile(r"(?=(?:[A-Za-z\-]*\d){4})[A-Za-z0-9\-]{5,20}")
EXPIRY_VALUE = re.compile(r"(?<![\w/.\-])(?:0?[1-9]|1[0-2]) ?[/\-] ?(?:20)?[0-9]{2}(?![\w/]|[.\-][0-9])")
# right after its word, an expiry may be written without a separator: "exp 0927" (MMYY; not a group of a longer
# number: "555 1012")
EXPIRY_NEAR_VALUE = re.compile(
    r"(?<![\w/.\-])(?:(?:0?[1-9]|1[0-2]) ?[/\-] ?(?:20)?[0-9]{2}(?![\w/]|[.\-][0-9])|"
    r"(?<![0-9][ .\-)])(?:0[1-9]|1[0-2])[0-9]{2}(?![\w/]|[ .\-]?[0-9]))")
# toll-free numbers are an organisation's, never a person's: "+1 800 555 0100", "0800 123 4567", "1800 123 456"
TOLL_FREE = re.compile(r"(?:(?:\+?1[ .\-]?)?\(?8(?:00|33|44|55|66|77|88)\)?[ .\-]?[0-9]{3}[ .\-]?[0-9]{4}|"
                       r"(?:\+44[ ]?|0)80[08](?:[ ]?[0-9]){6,7}|(?:\+61[ ]?)?1[38]00(?:[ ]?[0-9]){6})")
DOTTED_QUAD = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
HEALTH_PLAN_VALUE = re.compile(r"(?=(?:[A-Za-z\-]*[0-9]){5})[A-Za-z0-9\-]{6,20}")
# a national id after its word: digit groups with single separators, perhaps a letter group before or after
# ("123.456.789-09", "850101-1234", "AB 12 34 56 C", "131052-308T", "X-1234567-L", "000000000 ZZ4")
NATIONAL_VALUE = re.compile(r"(?<![\w\-./])(?:[A-Za-z]{1,2}[ \-]?)?[0-9](?:[0-9]|[ \-./](?=[0-9])){4,22}"
                            r"(?:[ \-]?[A-Za-z]{1,2}[0-9]?)?(?![\w\-])")
