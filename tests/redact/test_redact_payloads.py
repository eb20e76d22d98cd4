"""Payloads pasted into tickets (JSON request bodies, XML messages, key=value log lines): a field's key is context for
its value as a record's field name is, and a card's expiry written as month and year fields is found in both. The
keys here are no context words of free text ("dateOfBirth", "memberId"), so only the payload rule finds them.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.redact import Redactor

KEY = SecretStr("payload-classes-key-0123456789abcdef")


def found(text: str) -> list[tuple[str, str]]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    return sorted((f.entity, text[f.start:f.end]) for f in redactor.find(text, "incident", "work_notes"))


@pytest.mark.parametrize(("text", "expected"), [
    # a payment gateway's request body, logged: the expiry as two JSON fields, strings or numbers
    ('charge failed, body={"number":"4242424242424242","exp_month":"07","exp_year":"2031","currency":"usd"}',
     [("CARD_EXPIRY", "07"), ("CARD_EXPIRY", "2031"), ("CREDIT_CARD", "4242424242424242")]),
    ('{"expiryMonth": 11, "expiryYear": 29, "holderName": "n/a"}', [("CARD_EXPIRY", "11"), ("CARD_EXPIRY", "29")]),
    ("<expirationMonth>4</expirationMonth><expirationYear>2030</expirationYear>",
     [("CARD_EXPIRY", "2030"), ("CARD_EXPIRY", "4")]),
    ("gw: card_exp_mm=09 card_exp_yy=28 result=DECLINED", [("CARD_EXPIRY", "09"), ("CARD_EXPIRY", "28")]),
])
def test_a_card_expiry_written_as_month_and_year_fields(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ('HR sync rejected: {"employeeRef": "E-20931", "dateOfBirth": "1984-07-12", "site": "LDN"}',
     [("DATE_OF_BIRTH", "1984-07-12")]),
    ("<memberId>XEH771230045</memberId> not found at the payer", [("HEALTH_PLAN_ID", "XEH771230045")]),
    ("eligibility call: subscriberId=W21389774 plan=GOLD status=404", [("HEALTH_PLAN_ID", "W21389774")]),
    ('"patientMrn":"00734412","ward":"4B"', [("MRN", "00734412")]),
])
def test_a_payload_field_s_key_is_context_for_its_value(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    # dates, counters and expiries that are no card's
    '{"created": "2024-01-03", "expires": "2026-12-31", "retry_count": 3, "month": 7, "year": 2031}',
    '{"cert_exp_year": 2029, "token_exp_month": 4, "build": "2031.07"}',
    "renewal: license_exp_month=12 exp=1735689600 ttl=3600",
    # a field hint's key whose value has no shape of its type
    '{"memberId": "pending", "dateOfBirth": "unknown", "patientMrn": "n/a"}',
])
def test_payload_look_alikes_stay(text: str) -> None:
    assert found(text) == []
