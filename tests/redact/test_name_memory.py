"""Names learned in one run are found in the next (an incremental cycle reads only changed users), without the store
ever holding a name: only keyed digests."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.redact import Redactor
from udc.redact.memory import ROW_DIGESTS, STATE_OWNER, NameMemory

KEY = SecretStr("memory-test-key-0123456789")


class FakeStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}

    def all_state(self, pipeline: str) -> dict[str, dict[str, Any]]:
        return {k: json.loads(json.dumps(v)) for (p, k), v in self.rows.items() if p == pipeline}

    def set_state(self, pipeline: str, stream: str, value: dict[str, Any]) -> None:
        self.rows[(pipeline, stream)] = json.loads(json.dumps(value))


def redactor(store: FakeStore, key: SecretStr = KEY, **policy: Any) -> Redactor:
    return Redactor(RedactionConfig(enabled=True, key=key, **policy), "servicenow", memory=store)


def test_names_from_an_earlier_run_are_found_in_free_text() -> None:
    store = FakeStore()
    first = redactor(store)
    first.redact_records("sys_user", [{"sys_id": "a" * 32, "name": "Abel Tuter", "first_name": "Abel"},
                                      {"sys_id": "b" * 32, "name": "Mary-Jane O'Neil"},
                                      {"sys_id": "c" * 32, "name": "John Q. Public"}])
    token = first.redact_text("Abel Tuter called", "incident", "description")[0].split()[0]

    later = redactor(store)  # a new run: nothing learned in memory, only the store's digests
    assert later.remembered > 0
    for text in ("Abel Tuter called", "called by abel tuter.", "Tuter, Abel called", "ABEL\nTUTER called"):
        redacted, counts = later.redact_text(text, "incident", "work_notes")
        assert "abel" not in redacted.casefold() and "tuter" not in redacted.casefold(), text
        assert counts == {"PERSON": 1}
    assert later.redact_text("Abel Tuter called", "incident", "description")[0].split()[0] == token
    assert "O'Neil" not in later.redact_text("ask Mary-Jane O'Neil (HR)", "incident", "description")[0]
    assert "Public" not in later.redact_text("John Q. Public and John Public", "incident", "description")[0]
    # whole words only, and never a lone first or last name
    for text in ("Abelard Tuter", "Abel Tuterson", "Abel", "Tuter", "AbelTuter", "Abel_Tuter", "abel-tuter"):
        assert later.redact_text(text, "incident", "description") == (text, {}), text


def test_the_store_holds_digests_only() -> None:
    store = FakeStore()
    redactor(store).learn_names(["Abel Tuter", "Beth Anglin"])
    dump = json.dumps(list(store.rows.items())).casefold()
    assert store.rows and all(owner == STATE_OWNER for owner, _ in store.rows)
    for word in ("abel", "tuter", "beth", "anglin"):
        assert word not in dump


def test_another_key_recalls_nothing() -> None:
    store = FakeStore()
    redactor(store).learn_names(["Abel Tuter"])
    other = redactor(store, key=SecretStr("another-key-0123456789abc"))
    assert other.remembered == 0
    assert other.redact_text("Abel Tuter called", "incident", "description")[1] == {}


def test_without_a_key_nothing_is_remembered(monkeypatch: Any) -> None:
    monkeypatch.delenv("UDC_REDACTION_KEY", raising=False)
    store = FakeStore()
    masking = Redactor(RedactionConfig(enabled=True, mode="mask"), "servicenow", memory=store)
    masking.learn_names(["Abel Tuter"])
    assert store.rows == {}
    assert masking.redact_text("Abel Tuter called", "incident", "description")[0] == "**** ***** called"


def test_rows_stay_bounded() -> None:
    store = FakeStore()
    memory = NameMemory(b"k" * 32, store)
    memory.add(f"Person{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)} Surname" for i in range(3000))
    memory.add(f"Other{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676)} Name" for i in range(3000))
    sizes = [len(v["full"]) for v in store.rows.values()]
    assert max(sizes) <= ROW_DIGESTS + 3 * 3000 and len(sizes) >= 2
    recalled = NameMemory(b"k" * 32, store)
    assert recalled.loaded == len(memory)
    assert recalled.find("ask Personabc Surname now") == [(4, 21, "personabc surname")]
