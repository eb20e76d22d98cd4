"""NATIONAL_ID: other countries' national identity numbers, each checked by python-stdnum (validators.py where it has
no module: the UK's National Insurance number, Singapore's NRIC/FIN).

A value is taken anywhere only where its shape is distinctive and its check strong: a CPF written 123.456.789-09, a
DNI (8 digits and its letter as one token), an NIE, an NRIC/FIN, a National Insurance number, a codice fiscale, a
CURP, a Swiss AHV number 756.1234.5678.97, a Thai id 1-2345-67890-12-1, a Pakistani CNIC 35202-1234567-1. A bare
digit string (a BSN, a SIN, an Aadhaar, a South African id, whose 13 digits a millisecond timestamp shares, a
PESEL...) counts only after a word for it (context.py), which names the schemes it is checked against.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from stdnum.ar import cuit
from stdnum.at import vnr
from stdnum.au import tfn
from stdnum.be import nn
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.ch import ssn as ahv
from stdnum.cl import rut
from stdnum.cn import ric
from stdnum.cz import rc
from stdnum.de import idnr as de_idnr
from stdnum.dk import cpr
from stdnum.es import dni, nie
from stdnum.fi import hetu
from stdnum.fr import nir
from stdnum.gr import amka
from stdnum.id import nik
from stdnum.ie import pps
from stdnum.il import idnr as il_idnr
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.jp import in_ as jp_in
from stdnum.kr import rrn
from stdnum.mx import curp
from stdnum.nl import bsn
from stdnum.no import fodselsnummer
from stdnum.nz import ird
from stdnum.pk import cnic
from stdnum.pl import pesel
from stdnum.pt import cc
from stdnum.pt import nif as pt_nif
from stdnum.ro import cnp
from stdnum.se import personnummer
from stdnum.th import pin
from stdnum.tr import tckimlik
from stdnum.za import idnr

from udc.redact import validators as V


def _hetu(compact: str) -> bool:
    """A Finnish HETU: its century sign is a "-" for the 1900s, which compacting took out."""
    return hetu.is_valid(compact) or (len(compact) == 10 and hetu.is_valid(f"{compact[:6]}-{compact[6:]}"))


# scheme (a country's code) → the check of a compact value: upper case, separators removed
CHECKS: dict[str, Callable[[str], bool]] = {
    "br": cpf.is_valid, "nl": lambda v: len(v) == 9 and bsn.is_valid(v),  # (stdnum pads a short BSN with zeros)
    "es": lambda v: dni.is_valid(v) or nie.is_valid(v), "sg": V.sg_nric, "za": idnr.is_valid, "ca": sin.is_valid,
    "gb": V.uk_nino, "in": aadhaar.is_valid, "it": codicefiscale.is_valid, "fr": nir.is_valid,
    "se": personnummer.is_valid, "no": fodselsnummer.is_valid, "dk": cpr.is_valid, "fi": _hetu,
    "pl": pesel.is_valid, "be": nn.is_valid, "pt": lambda v: pt_nif.is_valid(v) or cc.is_valid(v),
    "mx": curp.is_valid, "cn": ric.is_valid, "kr": rrn.is_valid, "ie": pps.is_valid, "nz": ird.is_valid,
    "ar": cuit.is_valid, "at": vnr.is_valid, "au": tfn.is_valid, "ch": ahv.is_valid, "cl": rut.is_valid,
    "cz": rc.is_valid, "de": de_idnr.is_valid, "gr": amka.is_valid, "id": nik.is_valid, "il": il_idnr.is_valid,
    "pk": cnic.is_valid, "ro": cnp.is_valid, "th": pin.is_valid, "tr": tckimlik.is_valid, "jp": jp_in.is_valid,
}
ALL = tuple(CHECKS)
# what a word as common as "ID number" may name: eleven characters or more with a birth date or two check digits (a
# nine-digit BSN, SIN or NIF passes one of their checks one time in four; a CNIC's check is its province's digit)
LONG = ("br", "za", "no", "pl", "be", "fr", "fi", "it", "mx", "cn", "kr", "ar", "ch", "cz", "de", "gr", "id", "ro",
        "th", "tr")

_SEPARATORS = re.compile(r"[ \-./]+")
_SSN_SHAPE = re.compile(r"[0-9]{3}([ \-.])[0-9]{2}\1[0-9]{4}")  # a US SSN's groups: US_SSN's, whatever checks pass
# a letter group before or after the digits that may be a word instead: "BSN is 123456782", "CPF 52998224725 do"
_LEAD = re.compile(r"[A-Za-z]{1,2}[ \-]?(?=[0-9])")
_TAIL = re.compile(r"(?<=[0-9])[ \-]?[A-Za-z]{1,2}[0-9]?$")


def key(value: str, schemes: Iterable[str]) -> tuple[int, int, str] | None:
    """(start, end, compact) of the national id of one of `schemes` in `value` (a candidate after its word), with or
    without a letter group at either end; None if no check passes."""
    if _SSN_SHAPE.fullmatch(value):
        return None
    lead = _LEAD.match(value)
    tail = _TAIL.search(value)
    for start in (0, lead.end()) if lead else (0,):
        for end in (len(value), tail.start()) if tail else (len(value),):
            compact = _SEPARATORS.sub("", value[start:end]).upper()
            if valid(compact, schemes):
                return start, end, _normal(compact)
    return None


def valid(compact: str, schemes: Iterable[str]) -> bool:
    """Whether a check of one of `schemes` passes; a placeholder (111.111.111-11, which stdnum's CPF accepts) never."""
    return len(set(compact)) > 2 and any(_passes(CHECKS[s], compact) for s in schemes)


def _passes(check: Callable[[str], bool], compact: str) -> bool:
    try:
        return check(compact)
    except Exception:  # (stdnum's cn.ric raises KeyError for a region its data lists without counties: no match)
        return False


def normal(value: str) -> str:
    """The key a token is computed from: the value upper-cased without separators (as stdnum's `compact` has it),
    so formatting changes nothing."""
    return _normal(_SEPARATORS.sub("", value).upper())


def _normal(compact: str) -> str:
    # a Swedish personnummer written with its century is the same number
    return compact[2:] if len(compact) == 12 and compact.isdigit() and personnummer.is_valid(compact) else compact


# Shapes taken without a word, each from the first digit of a run: the engine skips to digits, the first look behind
# turns away the digits inside a run and each branch's the most of the rest (a run's start after no word character,
# after a capital, after a space or dash); the letters before the digit are checked behind, and the scheme's group
# says how far back the value starts.
_FREE = r"(?<![\w\-./])"  # (the value's own start)
# National Insurance number QQ123456C, QQ 12 34 56 C (the letter rules in the class, the rest in V.uk_nino)
_NINO_PREFIX = "[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
_NINO_REST = r"(?:[0-9]{5}|[0-9] [0-9]{2} [0-9]{2})[ ]?[A-D](?![\w\-])"
ANYWHERE = re.compile(
    r"[0-9](?<![0-9][0-9])(?:"
    r"(?<![\w\-./][0-9])(?:(?P<br>[0-9]{2}\.[0-9]{3}\.[0-9]{3}-[0-9]{2})(?![\w\-]|\.[0-9])"  # CPF 123.456.789-09
    r"|(?P<es>[0-9]{7}-?[A-Z])(?![\w\-])"  # DNI 12345678Z
    r"|(?<=7)(?P<ch>56\.[0-9]{4}\.[0-9]{4}\.[0-9]{2})(?![\w\-]|\.[0-9])"  # AHV 756.1234.5678.97
    r"|(?P<th>-[0-9]{4}-[0-9]{5}-[0-9]{2}-[0-9])(?![\w\-])"  # Thai id 1-2345-67890-12-1
    r"|(?P<pk>[0-9]{4}-[0-9]{7}-[0-9])(?![\w\-]))"  # CNIC 35202-1234567-1
    r"|(?<=[A-Z][0-9])(?:"
    rf"(?<={_FREE}[XYZ][0-9])(?P<es1>[0-9]{{6}}-?[A-Z])(?![\w\-])"  # NIE X1234567L
    rf"|(?<={_FREE}[STFGM][0-9])(?P<sg>[0-9]{{6}}[A-Z])(?![\w\-])"  # NRIC / FIN S1234567D
    rf"|(?<={_FREE}{_NINO_PREFIX}[0-9])(?P<gb>{_NINO_REST})"  # National Insurance number
    # codice fiscale RSSMRA85T10A562S (a digit of the year first: omocodia replaces the last digits first)
    rf"|(?<={_FREE}[A-Z]{{6}}[0-9])(?P<it>[0-9LMNP-V][A-EHLMPRST][0-9LMNP-V]{{2}}[A-Z][0-9LMNP-V]{{3}}[A-Z])(?![\w\-])"
    rf"|(?<={_FREE}[A-Z]{{4}}[0-9])(?P<mx>[0-9]{{5}}[HMX][A-Z]{{5}}[0-9A-Z][0-9])(?![\w\-]))"  # CURP
    r"|(?<=[ \-][0-9])(?:"
    rf"(?<={_FREE}[XYZ]-[0-9])(?P<es2>[0-9]{{6}}-?[A-Z])(?![\w\-])"  # NIE X-1234567-L
    rf"|(?<={_FREE}{_NINO_PREFIX} [0-9])(?P<gb2>{_NINO_REST})))"
)
_BACK = {"br": 0, "es": 0, "ch": 0, "th": 0, "pk": 0, "es1": 1, "es2": 2, "sg": 1, "gb": 2, "gb2": 3, "it": 6, "mx": 4}
# a reference's label before the value: "order AB123456C", "part no. 12345678Z", "serial S1234567D"
_REFERENCE_BEFORE = re.compile(
    r"(?i:\b(?:order|invoice|po|ref|reference|serial|s/n|sn|part|p/n|pn|sku|asset|tag|model|batch|lot|case|claim|"
    r"ticket|booking|tracking)(?:[ ](?:no\.?|number|id|#))?[ #:=.]{1,3})$")


def anywhere(text: str) -> list[tuple[int, int, str]]:
    """(start, end, key) of the national ids in `text` whose shape alone says what they are."""
    found = []
    for m in ANYWHERE.finditer(text):
        scheme = m.lastgroup or ""
        start = m.start() - _BACK[scheme]
        compact = _SEPARATORS.sub("", text[start:m.end()])
        if valid(compact, (scheme[:2],)) and not reference_before(text, start):
            found.append((start, m.end(), compact.upper()))
    return found


def reference_before(text: str, start: int) -> bool:
    return _REFERENCE_BEFORE.search(text, max(0, start - 24), start) is not None
