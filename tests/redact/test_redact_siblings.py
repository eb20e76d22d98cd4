"""A value's siblings: a text that gives one record number, member id or passport by its word names others of the
same shape and letters without repeating the word, and one that gives an NHS number names others its check digit
holds for. The look-alikes below share a shape but not the letters, or have no letters, or fail the check.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.redact import Redactor

KEY = SecretStr("sibling-classes-key-0123456789abcdef")


def found(text: str, entity: str) -> list[str]:
    redactor = Redactor(RedactionConfig(enabled=True, key=KEY), "servicenow")
    return [text[f.start:f.end] for f in redactor.find(text, "incident", "work_notes") if f.entity == entity]


@pytest.mark.parametrize(("text", "entity", "values"), [
    ("Duplicate charts: MRN HX-220913 was merged into HX-220914 by the overnight job.", "MRN",
     ["HX-220913", "HX-220914"]),
    ("Member ID ZGP8841207 on file, but the new card reads ZGP8841270.", "HEALTH_PLAN_ID",
     ["ZGP8841207", "ZGP8841270"]),
    ("Passport no. C03005988 expired; the renewal (C03117420) arrived Monday.", "US_PASSPORT",
     ["C03005988", "C03117420"]),
    ("PAS merge: NHS number 943 476 5919 into 4010232137, letters reprinted.", "UK_NHS",
     ["943 476 5919", "4010232137"]),
])
def test_a_value_found_by_its_word_finds_its_siblings(text: str, entity: str, values: list[str]) -> None:
    assert found(text, entity) == values


@pytest.mark.parametrize(("text", "entity", "values"), [
    # the same shape with other letters: a change and an incident beside an MRN
    ("Patient MRN MRN3232875 chart locked; see CHG7578163 and INC4885422.", "MRN", ["MRN3232875"]),
    # digits alone: an order number beside a record number
    ("MRN 4471023 printed on order 5522901.", "MRN", ["4471023"]),
    # a ten-digit number the NHS check digit fails, and a valid one in a text that gives no NHS number
    ("NHS number 943 476 5919; batch 4010232138 reprinted.", "UK_NHS", ["943 476 5919"]),
    ("Export 4010232137 finished at 02:00.", "UK_NHS", []),
])
def test_look_alikes_of_a_sibling_stay(text: str, entity: str, values: list[str]) -> None:
    assert found(text, entity) == values
