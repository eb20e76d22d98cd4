"""Exact matching of known people's names in free text, with an Aho-Corasick automaton (linear in the text) that may
also find other lists in the same pass (wordpass.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from udc.redact.lowercase import lower_case
from udc.redact.wordpass import WordLists

# Accounts that are not people, and names too short to be told from ordinary words.
_NOT_PEOPLE = frozenset({"system", "system administrator", "admin", "administrator", "guest", "maint", "service desk",
                         "servicedesk", "jira", "automation for jira", "integration", "api user", "unknown"})
MIN_NAME_CHARS = 5


def normalise_name(name: str) -> str:
    """"Tuter, Abel" and "abel  TUTER" become "abel tuter", so a person gets one token wherever they appear."""
    text = " ".join(name.replace(",", ", ").split())
    if text.count(",") == 1:
        last, first = (part.strip() for part in text.split(","))
        if last and first:
            text = f"{first} {last}"
    return text.casefold()


def variants(name: str) -> set[str]:
    """Lower-cased forms of one person's name worth matching: as given, "Last, First" ↔ "First Last", "Last First"."""
    text = " ".join(name.split())
    if len(text) < MIN_NAME_CHARS or text.casefold() in _NOT_PEOPLE or any(ch.isdigit() for ch in text):
        return set()
    forms = {text.casefold(), normalise_name(text)}
    parts = normalise_name(text).split()
    if len(parts) == 2:  # (also family name first without a comma: badge logs' "BROOKS MARISOL", Asian order)
        forms |= {f"{parts[1]}, {parts[0]}", f"{parts[1]} {parts[0]}"}
    if len(parts) == 3 and len(parts[1].rstrip(".")) == 1:  # "John Q. Public" also appears as "John Public"
        forms.add(f"{parts[0]} {parts[2]}")
    return {f for f in forms if " " in f}  # single words ("Will", "May") are too ambiguous for exact matching


class NameMatcher:
    """People's names learned from synced user tables; thread-safe, the automaton rebuilt lazily after new names
    arrive. `lists`: word lists found in the same pass (a redactor's directory), else the names alone."""

    def __init__(self, lists: WordLists | None = None) -> None:
        self._names: dict[str, str] = {}  # form → its normalised name, the key of each hit (made once per form)
        self._given: set[str] = set()  # names as given to add(): each page repeats most of them, their forms known
        self._lists = lists if lists is not None else WordLists()
        self._which = self._lists.add({})
        self._dirty = False
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._names)

    def add(self, names: Iterable[str]) -> int:
        """Learn names; returns how many new forms were added."""
        fresh = {name for name in names if isinstance(name, str)} - self._given
        # every form of a name keyed by the name itself: one token for "BROOKS MARISOL" and "Marisol Brooks"
        new: dict[str, str] = {}
        for name in fresh:
            new.update(dict.fromkeys(variants(name), normalise_name(name)))
        with self._lock:
            self._given |= fresh
            new = {form: key for form, key in new.items() if form not in self._names}
            if new:
                self._names.update(new)
                self._dirty = True
        return len(new)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, normalised name) for each whole-word occurrence, case-insensitively."""
        if not self._refreshed():
            return []
        lowered = lower_case(text)[0]
        hits = []
        for end_index, (length, key) in self._lists.hits(lowered, self._which):
            end = end_index + 1
            start = end - length
            if (start == 0 or not lowered[start - 1].isalnum()) and (end == len(lowered) or not lowered[end].isalnum()):
                hits.append((start, end, key))
        return hits

    def _refreshed(self) -> bool:
        """The names' list brought up to date; False when there are none."""
        with self._lock:
            if self._dirty:
                self._lists.set(self._which, {name: (len(name), key) for name, key in self._names.items()})
                self._dirty = False
            return bool(self._names)

