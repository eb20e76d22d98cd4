"""Entity types the redactor knows, and the names a config may use for them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from udc.errors import ConfigError

EMAIL = "EMAIL"
PHONE = "PHONE"
CREDIT_CARD = "CREDIT_CARD"
CVV = "CVV"
US_SSN = "US_SSN"
IBAN = "IBAN"
ABA_ROUTING = "ABA_ROUTING"
US_NPI = "US_NPI"
UK_NHS = "UK_NHS"
IP_ADDRESS = "IP_ADDRESS"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
MRN = "MRN"
US_PASSPORT = "US_PASSPORT"
US_DRIVER_LICENSE = "US_DRIVER_LICENSE"
PERSON = "PERSON"
USERNAME = "USERNAME"  # a person's login: from the source's directory, or after "user:", "login:", "logged in as"
BANK_ACCOUNT = "BANK_ACCOUNT"  # a domestic account number near "account", "acct", "a/c", "bank"
CARD_EXPIRY = "CARD_EXPIRY"  # MM/YY next to a card number or after "exp", "expiry", "valid thru"
HEALTH_PLAN_ID = "HEALTH_PLAN_ID"  # health-plan member / subscriber / policy ids near their words
DIAGNOSIS = "DIAGNOSIS"  # ICD-10 codes and condition names near "diagnosis", "dx", "diagnosed with"
STREET_ADDRESS = "STREET_ADDRESS"  # "1600 Elm Street, Springfield" in free text
LOCATION = "LOCATION"  # postal addresses from known fields; places from the context stream
NATIONAL_ID = "NATIONAL_ID"  # other countries' national identity numbers (CPF, BSN, NINO, Aadhaar...): python-stdnum
PII = "PII"  # label for a field a policy marks `whole` without naming an entity

ALL: frozenset[str] = frozenset({
    EMAIL, PHONE, CREDIT_CARD, CVV, US_SSN, IBAN, ABA_ROUTING, US_NPI, UK_NHS, IP_ADDRESS, DATE_OF_BIRTH, MRN,
    US_PASSPORT, US_DRIVER_LICENSE, PERSON, USERNAME, BANK_ACCOUNT, CARD_EXPIRY, HEALTH_PLAN_ID, DIAGNOSIS,
    STREET_ADDRESS, LOCATION, NATIONAL_ID, PII,
})

# Presidio's names and common spellings, so a policy written for Presidio reads the same here.
ALIASES = {
    "EMAIL_ADDRESS": EMAIL, "PHONE_NUMBER": PHONE, "IBAN_CODE": IBAN, "US_BANK_ROUTING": ABA_ROUTING,
    "ABA": ABA_ROUTING, "NPI": US_NPI, "NHS": UK_NHS, "UK_NHS_NUMBER": UK_NHS, "SSN": US_SSN, "IP": IP_ADDRESS,
    "DOB": DATE_OF_BIRTH, "MEDICAL_RECORD_NUMBER": MRN, "PASSPORT": US_PASSPORT, "DRIVER_LICENSE": US_DRIVER_LICENSE,
    "CARD": CREDIT_CARD, "NAME": PERSON, "ADDRESS": STREET_ADDRESS, "US_BANK_NUMBER": BANK_ACCOUNT,
    "LOGIN": USERNAME, "USER_NAME": USERNAME, "MEMBER_ID": HEALTH_PLAN_ID, "ICD10": DIAGNOSIS, "EXPIRY": CARD_EXPIRY,
    **dict.fromkeys(("NATIONAL_ID_NUMBER", "NATIONAL_IDENTITY_NUMBER", "NATIONAL_INSURANCE_NUMBER", "NINO", "UK_NINO",
                     "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "SG_NRIC_FIN", "IN_AADHAAR", "PL_PESEL", "KR_RRN",
                     "FI_PERSONAL_IDENTITY_CODE"), NATIONAL_ID),
}


def canonical(name: str) -> str:
    """The canonical entity name for `name` (case-insensitive, aliases allowed); ConfigError if unknown."""
    upper = name.strip().upper().replace("-", "_").replace(" ", "_")
    upper = ALIASES.get(upper, upper)
    if upper not in ALL:
        guess = difflib.get_close_matches(upper, [*ALL, *ALIASES], n=1)
        hint = f"did you mean {guess[0]}?" if guess else "use one of: " + ", ".join(sorted(ALL))
        raise ConfigError(f"redaction: unknown entity type '{name}'", hint)
    return upper


def entity_set(names: Iterable[str] | None, default: frozenset[str] = ALL) -> frozenset[str]:
    """A policy's `entities:` list as a set of canonical names; None means `default`."""
    return default if names is None else frozenset(canonical(n) for n in names)
