"""Word lists found in one Aho-Corasick pass over a lower-cased text instead of one pass per list: stream 1's fixed
lists (context words, cue words, login labels, street types, diagnosis context words: `FIXED`) and, in a redactor's
own `WordLists`, its directory's (people's names, logins, first names), which change as a sync learns them.

Each list is read on its own, with what an automaton of it alone would give, in the same order (by the index of the
last character, at one index the longest word first). The pass is made once per text, for every list, and kept for
the next caller asking about the same text.
"""

from __future__ import annotations

from typing import Any

import ahocorasick


class WordLists:
    """Word lists found together. Thread-safe: a pass's hits are kept with the automaton that found them, swapped in
    whole."""

    def __init__(self) -> None:
        self._lists: list[dict[str, Any]] = []
        self._automaton: ahocorasick.Automaton | None = None  # built on first use, again after a list changed
        self._last: tuple[str, Any, list[list[tuple[int, Any]]]] = ("", None, [])  # (text, automaton, hits by list)

    def add(self, words: dict[str, Any]) -> int:
        """Add a list (lower-case words → the value handed back with each hit); returns its number for `hits`."""
        self._lists.append(dict(words))
        self._automaton = None
        return len(self._lists) - 1

    def set(self, which: int, words: dict[str, Any]) -> None:
        """Replace the words of list `which` (a directory's names and logins, learned as a sync goes)."""
        self._lists[which] = dict(words)
        self._automaton = None

    def hits(self, text: str, which: int) -> list[tuple[int, Any]]:
        """(index of the last character, value) of each occurrence of a word of list `which` in `text`."""
        automaton = self._automaton
        if automaton is None:
            automaton = self._automaton = self._build()
        last = self._last
        if last[0] is not text or last[1] is not automaton:
            last = self._last = (text, automaton, self._all_hits(automaton, text))
        return last[2][which]

    def _all_hits(self, automaton: ahocorasick.Automaton, text: str) -> list[list[tuple[int, Any]]]:
        found: list[list[tuple[int, Any]]] = [[] for _ in self._lists]
        if automaton.kind != ahocorasick.AHOCORASICK:  # (no words yet: an empty automaton cannot be iterated)
            return found
        for last, entries in automaton.iter(text):
            for which, value in entries:  # (a word of several lists: one entry for each)
                found[which].append((last, value))
        return found

    def _build(self) -> ahocorasick.Automaton:
        entries: dict[str, list[tuple[int, Any]]] = {}
        for which, words in enumerate(self._lists):
            for word, value in words.items():
                entries.setdefault(word, []).append((which, value))
        automaton = ahocorasick.Automaton()
        for word, values in entries.items():
            automaton.add_word(word, tuple(values))
        automaton.make_automaton()
        return automaton


FIXED = WordLists()  # the fixed lists of stream 1's modules
