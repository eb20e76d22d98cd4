"""Checksums and issuer rules: real identifiers pass, near misses do not."""

from __future__ import annotations

import pytest

from udc.redact import validators as V


@pytest.mark.parametrize("number", [
    "4111111111111111", "4012888888881881", "5555555555554444", "2223003122003222", "378282246310005",
    "371449635398431", "6011111111111117", "3530111333300000", "30569309025904", "6759649826438453",
    "4222222222222",  # Visa, 13 digits
])
def test_known_test_cards_are_cards(number: str) -> None:
    assert V.credit_card(number)


@pytest.mark.parametrize("number", [
    "4111111111111112",  # Luhn fails
    "9111111111111119",  # Luhn passes, no scheme starts with 9
    "1234567812345670",  # Luhn passes, no scheme starts with 1 at 16 digits
    "3782822463100050",  # Amex prefix with 16 digits
    "0000000000000000",  # one repeated digit
    "41111111111",  # too short
])
def test_card_look_alikes_are_not_cards(number: str) -> None:
    assert not V.credit_card(number)


def test_context_admits_luhn_numbers_in_unassigned_ranges_but_not_other_industries() -> None:
    assert V.credit_card_in_context("3598899323053410")  # 35xx outside JCB's 3528-3589, Luhn-valid
    assert not V.credit_card_in_context("9598899323053418")
    assert not V.credit_card_in_context("3598899323053411")


@pytest.mark.parametrize("iban", ["GB82WEST12345698765432", "DE89370400440532013000", "FR1420041010050500013M02606",
                                  "NL91ABNA0417164300", "gb82west12345698765432"])
def test_valid_ibans(iban: str) -> None:
    assert V.iban(iban)


@pytest.mark.parametrize("iban", ["GB82WEST12345698765433", "GB82WEST1234569876543", "XX82WEST12345698765432",
                                  "DE8937040044053201300"])
def test_invalid_ibans(iban: str) -> None:
    assert not V.iban(iban)


@pytest.mark.parametrize("ssn,valid", [
    ("123456789", True), ("001010001", True), ("899991234", True),
    ("000123456", False), ("666123456", False), ("900123456", False), ("999123456", False),
    ("123004567", False), ("123450000", False), ("078051120", False), ("111111111", False), ("12345678", False),
])
def test_ssn_area_group_serial_rules(ssn: str, valid: bool) -> None:
    assert V.us_ssn(ssn) is valid


@pytest.mark.parametrize("routing,valid", [("011000015", True), ("021000021", True), ("122105155", True),
                                           ("123456789", False), ("021000022", False), ("991000021", False)])
def test_aba_routing_checksum_and_prefix(routing: str, valid: bool) -> None:
    assert V.aba_routing(routing) is valid


@pytest.mark.parametrize("npi,valid", [("1234567893", True), ("1234567890", False), ("3234567893", False),
                                       ("123456789", False)])
def test_npi_luhn_with_80840_prefix(npi: str, valid: bool) -> None:
    assert V.us_npi(npi) is valid


@pytest.mark.parametrize("nhs,valid", [("9434765919", True), ("9434765918", False), ("1111111111", False),
                                       ("943476591", False)])
def test_nhs_mod_11(nhs: str, valid: bool) -> None:
    assert V.uk_nhs(nhs) is valid


@pytest.mark.parametrize("address,public", [
    ("81.2.69.142", True), ("41.173.96.26", True), ("2a02:8108:1a40:3b00::17", True),
    ("8.8.8.8", False), ("2001:4860:4860::8888", False),
    ("10.1.2.3", False), ("172.16.0.9", False), ("192.168.1.1", False), ("127.0.0.1", False),
    ("192.0.2.10", False), ("169.254.1.1", False), ("::1", False), ("fe80::1", False), ("224.0.0.1", False),
    ("999.1.1.1", False),
])
def test_only_public_addresses_are_personal(address: str, public: bool) -> None:
    assert V.public_ip(address) is public
