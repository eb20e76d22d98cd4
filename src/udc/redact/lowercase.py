"""One text lower-cased once for all of stream 1's passes (context words, cue words, labels, street types, known
names and logins, diagnoses each read it in lower case): the last text's form is kept for the next pass."""

from __future__ import annotations

_last: tuple[str, str, bool] = ("", "", True)  # (text, its lower-case form, lower() kept its length); swapped whole


def lower_case(text: str) -> tuple[str, bool]:
    """`text` lower-cased with its offsets kept, and whether plain lower() keeps them too (a few characters lower-case
    to two, "İ" to "i̇": those are left as they are)."""
    global _last
    last = _last
    if last[0] is text:
        return last[1], last[2]
    low = text.lower()
    exact = len(low) == len(text)
    if not exact:
        low = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    _last = (text, low, exact)
    return low, exact
