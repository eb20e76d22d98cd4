"""Names of people synced in earlier runs, remembered without being kept: keyed digests in the store's state table.

An incremental cycle reads only the users that changed, yet an incident's work notes may name anyone synced before.
So every name the redactor learns is also remembered as digests: one of each form ("abel tuter", "tuter abel") and one
of each form's first word. A later run scans free text word by word; a word whose digest is a known first word starts
a candidate, completed by the next one to three words when the digest of the whole form is known.

The digests are keyed (BLAKE2b under a key derived from the redaction key), like the tokens already in the store, so
the store alone gives no name back; without a redaction key nothing is remembered (mask or drop mode with no key set).
Digests are saved before the page that taught them is stored, so a crash can only remember too much.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import uuid
from collections.abc import Iterable
from typing import Any, Protocol

from udc.redact.names import normalise_name, variants

STATE_OWNER = "redaction:names"  # the state table's owner column; no pipeline is named so
ROW_DIGESTS = 4096  # digests per state row: a run rewrites its current row as it fills, then starts the next
MAX_WORDS = 4  # "Juan Carlos de Vega"
_FULL_BYTES, _FIRST_BYTES = 16, 8
_CACHE_WORDS = 200_000

_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_GAP = re.compile(r"[ \t\r\n,.]{1,3}")  # between the words of one name: "Tuter, Abel", "John Q. Public"


class StateStore(Protocol):
    def all_state(self, pipeline: str) -> dict[str, dict[str, Any]]: ...

    def set_state(self, pipeline: str, stream: str, value: dict[str, Any]) -> None: ...


def canonical(form: str) -> str:
    """Words only, case-folded: "Tuter, Abel" → "tuter abel", "John Q. Public" → "john q public"."""
    return " ".join(w.casefold() for w in _WORD.findall(form))


class NameMemory:
    """Thread-safe; `find` is lock-free (set membership only)."""

    def __init__(self, key: bytes, store: StateStore | None = None) -> None:
        self._key = hmac.new(key, b"udc known names", hashlib.sha256).digest()
        fingerprint = hashlib.blake2b(b"fingerprint", key=self._key, digest_size=4).hexdigest()
        self._prefix = f"{fingerprint}:"  # rows written under another key are ignored, not misread
        self._store = store
        self._full: set[bytes] = set()
        self._first: set[bytes] = set()
        self._yes: set[str] = set()  # words known to start a remembered name (in memory only, never stored)
        self._no: set[str] = set()  # words known not to
        self._lock = threading.Lock()
        self._row_id = f"{self._prefix}{uuid.uuid4().hex}"
        self._row_seq = 0
        self._row: dict[str, list[str]] = {"full": [], "first": []}
        self.loaded = self._load()

    def __len__(self) -> int:
        return len(self._full)

    def add(self, names: Iterable[str]) -> int:
        """Remember people's names (saved to the store at once); returns how many new forms were remembered."""
        forms = {canonical(v) for name in names if isinstance(name, str) for v in variants(name)}
        with self._lock:
            full = {f: self._digest(f, _FULL_BYTES, b"full") for f in forms if f.count(" ") < MAX_WORDS}
            new = {f: d for f, d in full.items() if d not in self._full}
            if not new:
                return 0
            first = {self._digest(f.split(" ", 1)[0], _FIRST_BYTES, b"first") for f in new} - self._first
            self._full |= set(new.values())
            self._first |= first
            self._no = set()  # a word may start one of the new names
            if self._store is not None:
                self._save(list(new.values()), list(first))
        return len(new)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, normalised name) of each remembered name in `text`, longest first at each word."""
        if not self._full:
            return []
        starts = self._starting_words({w.casefold() for w in _WORD.findall(text)})
        if not starts:  # the common case, decided with set operations only
            return []
        words = list(_WORD.finditer(text))
        hits: list[tuple[int, int, str]] = []
        i = 0
        while i < len(words):
            matched = self._match_at(text, words, i) if words[i].group().casefold() in starts else 0
            if matched:
                start, end = words[i].start(), words[i + matched - 1].end()
                hits.append((start, end, normalise_name(text[start:end])))
                i += matched
            else:
                i += 1
        return hits

    # --- internals ----------------------------------------------------------------------------------------------

    def _match_at(self, text: str, words: list[re.Match[str]], i: int) -> int:
        """How many words from `i` make a remembered name (0: none)."""
        span = 1
        while span < MAX_WORDS and i + span < len(words) and _GAP.fullmatch(text, words[i + span - 1].end(),
                                                                          words[i + span].start()):
            span += 1
        for n in range(span, 1, -1):
            form = " ".join(m.group().casefold() for m in words[i:i + n])
            if self._digest(form, _FULL_BYTES, b"full") in self._full:
                return n
        return 0

    def _starting_words(self, words: set[str]) -> set[str]:
        """Those of `words` that start a remembered name (digests computed once per word, then cached)."""
        yes, no = self._yes, self._no
        for word in words - yes - no:
            (yes if self._digest(word, _FIRST_BYTES, b"first") in self._first else no).add(word)
        if len(no) > _CACHE_WORDS:
            no.clear()
        return words & yes

    def _digest(self, form: str, size: int, person: bytes) -> bytes:
        return hashlib.blake2b(form.encode(), key=self._key, digest_size=size, person=person).digest()

    def _load(self) -> int:
        if self._store is None:
            return 0
        for key, value in self._store.all_state(STATE_OWNER).items():
            if key.startswith(self._prefix):
                self._full.update(bytes.fromhex(d) for d in value.get("full", []))
                self._first.update(bytes.fromhex(d) for d in value.get("first", []))
        return len(self._full)

    def _save(self, full: list[bytes], first: list[bytes]) -> None:
        assert self._store is not None
        if len(self._row["full"]) + len(full) > ROW_DIGESTS and self._row["full"]:
            self._row_seq += 1
            self._row = {"full": [], "first": []}
        self._row["full"] += [d.hex() for d in full]
        self._row["first"] += [d.hex() for d in first]
        self._store.set_state(STATE_OWNER, f"{self._row_id}:{self._row_seq}", self._row)
