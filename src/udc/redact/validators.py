"""Checksums and issuer rules that turn a digit-shaped candidate into a real identifier (or not).

Every function takes the candidate's compact form (separators removed) and returns a bool; none raises.
"""

from __future__ import annotations

import ipaddress

# --- payment cards ----------------------------------------------------------------------------------------------


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# (prefix low, prefix high, allowed lengths). Prefixes compare on the same number of leading digits.
_CARD_RANGES: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("4", "4", frozenset({13, 16, 19})),  # Visa
    ("51", "55", frozenset({16})),  # Mastercard
    ("2221", "2720", frozenset({16})),  # Mastercard 2-series
    ("34", "34", frozenset({15})),  # American Express
    ("37", "37", frozenset({15})),
    ("6011", "6011", frozenset(range(16, 20))),  # Discover
    ("644", "649", frozenset(range(16, 20))),
    ("65", "65", frozenset(range(16, 20))),
    ("622126", "622925", frozenset(range(16, 20))),
    ("3528", "3589", frozenset(range(16, 20))),  # JCB
    ("1800", "1800", frozenset({15})),  # JCB (legacy 15-digit)
    ("2131", "2131", frozenset({15})),
    ("300", "305", frozenset(range(14, 20))),  # Diners Club
    ("3095", "3095", frozenset(range(14, 20))),
    ("36", "36", frozenset(range(14, 20))),
    ("38", "39", frozenset(range(14, 20))),
    ("62", "62", frozenset(range(16, 20))),  # UnionPay
    ("81", "81", frozenset(range(16, 20))),
    ("2200", "2204", frozenset(range(16, 20))),  # Mir
    ("50", "50", frozenset(range(12, 20))),  # Maestro (5018, 5020, 5038, 5893, 6304, 67xx...)
    ("56", "69", frozenset(range(12, 20))),
    ("0604", "0604", frozenset(range(12, 20))),  # Maestro UK (legacy)
)


def card_issuer_ok(digits: str) -> bool:
    """True when the number's prefix and length belong to a known card scheme."""
    n = len(digits)
    return any(n in lengths and low <= digits[: len(low)] <= high for low, high, lengths in _CARD_RANGES)


def credit_card(digits: str) -> bool:
    """A card number anywhere: a known scheme's prefix and length, and the Luhn check."""
    return 12 <= len(digits) <= 19 and len(set(digits)) > 1 and card_issuer_ok(digits) and luhn(digits)


def credit_card_in_context(digits: str) -> bool:
    """After a word like "card" or "credit": any Luhn-valid 12-19 digit number whose first digit is a payment
    industry (2-6), so unassigned or newly issued ranges are not missed."""
    return 12 <= len(digits) <= 19 and digits[0] in "23456" and len(set(digits)) > 1 and luhn(digits)


# --- bank accounts ----------------------------------------------------------------------------------------------

IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def iban(compact: str) -> bool:
    """ISO 13616: registered country, that country's length, two check digits, mod-97 == 1."""
    value = compact.upper()
    if IBAN_LENGTHS.get(value[:2]) != len(value) or not value[2:4].isdigit() or not value.isalnum():
        return False
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def aba_routing(digits: str) -> bool:
    """US ABA routing transit number: valid Federal Reserve prefix and the 3-7-1 checksum."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    prefix = int(digits[:2])
    if not (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80) or digits == "000000000":
        return False
    d = [int(c) for c in digits]
    return (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5] + d[8]) % 10 == 0


# --- national and health identifiers ----------------------------------------------------------------------------

_SSN_NEVER_ISSUED = {"078051120", "219099999"}  # published in advertising, never a person's


def us_ssn(digits: str) -> bool:
    """SSA rules: area 001-899 except 666, group 01-99, serial 0001-9999; not a known advertising number."""
    if len(digits) != 9 or not digits.isdigit() or len(set(digits)) == 1 or digits in _SSN_NEVER_ISSUED:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area < "900" and group != "00" and serial != "0000"


def us_npi(digits: str) -> bool:
    """National Provider Identifier: 10 digits starting 1 or 2, Luhn over the 80840 health-industry prefix."""
    return len(digits) == 10 and digits.isdigit() and digits[0] in "12" and luhn("80840" + digits)


def uk_nhs(digits: str) -> bool:
    """NHS number: 10 digits, mod-11 check digit (weights 10..2); a remainder giving 10 is never issued."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    check = 11 - sum(int(c) * w for c, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    return (0 if check == 11 else check) == int(digits[9]) and check != 10


# UK National Insurance number: no checksum, so its issuing rules are the whole check (HMRC NIM39110). Prefixes never
# issued, or kept for temporary numbers and administration
_NINO_NEVER = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def uk_nino(compact: str) -> bool:
    """Two prefix letters (neither D, F, I, Q, U nor V; the second no O; not a prefix never issued), six digits and
    a suffix A-D."""
    return (len(compact) == 9 and compact[:2].isalpha() and compact[2:8].isdigit() and compact[8] in "ABCD"
            and compact[0] not in "DFIQUV" and compact[1] not in "DFIQUVO" and compact[:2] not in _NINO_NEVER
            and compact.isupper())


# Singapore NRIC / FIN check letters by prefix (python-stdnum has none): S/T citizens and permanent residents, F/G/M
# foreigners; T, G and M add 4, 4 and 3 to the weighted sum
_SG_LETTERS = {"S": (0, "JZIHGFEDCBA"), "T": (4, "JZIHGFEDCBA"), "F": (0, "XWUTRQPNMLK"), "G": (4, "XWUTRQPNMLK"),
               "M": (3, "XWUTRQPNJLK")}


def sg_nric(compact: str) -> bool:
    """NRIC or FIN: a prefix letter, seven digits, a check letter (mod 11 of the digits weighted 2,7,6,5,4,3,2)."""
    rule = _SG_LETTERS.get(compact[:1])
    if rule is None or len(compact) != 9 or not compact[1:8].isdigit():
        return False
    total = rule[0] + sum(int(c) * w for c, w in zip(compact[1:8], (2, 7, 6, 5, 4, 3, 2), strict=True))
    return rule[1][total % 11] == compact[8]


# --- network ------------------------------------------------------------------------------------------------------


# Public resolvers (Google, Cloudflare, Quad9, OpenDNS): infrastructure that tickets name ("DNS 8.8.8.8 timed out"),
# never a person's address
PUBLIC_SERVICE_IPS = frozenset({
    "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112", "208.67.222.222", "208.67.220.220",
    "2001:4860:4860::8888", "2001:4860:4860::8844", "2606:4700:4700::1111", "2606:4700:4700::1001", "2620:fe::fe",
})


def public_ip(text: str) -> bool:
    """A globally routable address. Private, loopback, link-local and documentation ranges are infrastructure."""
    return ip_kind(text) is True


def ip_kind(text: str) -> bool | None:
    """None: no address; True: a public one (globally routable, not a well-known resolver); False: any other."""
    if text in PUBLIC_SERVICE_IPS:
        return False
    octets = text.split(".")
    if len(octets) == 4 and all(o.isascii() and o.isdigit() for o in octets):
        # decided without building an address object where that is cheap: no address (an octet over 255 or with a
        # leading zero, as ipaddress rules: "11.3.7305.2" is a version) or a private range of infrastructure text
        if any(len(o) > 3 or int(o) > 255 or (len(o) > 1 and o[0] == "0") for o in octets):
            return None
        first, second = int(octets[0]), int(octets[1])
        if first in (10, 127) or (first, second) == (192, 168) or (first == 172 and 16 <= second <= 31):
            return False
    elif "." not in text and "%" not in text and "::" not in text and text.count(":") != 7:
        # no address, as ipaddress would say at the cost of an exception: without dots (an IPv4 part), a zone or a
        # "::", an IPv6 address has eight groups ("18:24:11" is a time)
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.is_global and not address.is_multicast
