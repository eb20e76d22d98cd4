"""Text spaced out by OCR or a form's export ("S S N :  5 3 1 - 2 0 - 7 7 8 4", "( 312 ) 555 - 0170"), read as it
was meant: each such line is given back closed up ("SSN: 531-20-7784"), with where each of its characters stands
in the text, so what is found in it is found in the text too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# the cheap test for a text that has any: three digits spaced out
HAS_SPACED = re.compile(r"[0-9] [0-9] [0-9]")
_GAP = re.compile(r"[ \t]{2,}")  # between a form's fields (and between spaced-out words)
_SPACED_OUT = re.compile(r"(?:\S )+\S")  # a field whose every character stands alone
# a space inside a number's punctuation: "( 312 ) 555 - 0170", "268 - 44 - 1950" (not between two numbers)
_AROUND = re.compile(r"(?<=\() (?=[0-9])|(?<=[0-9]) (?=[)\-/])|(?<=[)\-/]) (?=[0-9])")


def closed_up(text: str) -> Iterator[tuple[str, list[int]]]:
    """Each line of `text` with spaced-out fields, closed up: (the line as meant, the index in `text` of each of its
    characters). Fields stay apart by one space; lines with nothing spaced out are not given."""
    start = 0
    for line in text.split("\n"):
        if (closed := _close(line, start)) is not None:
            yield closed
        start += len(line) + 1


def _close(line: str, offset: int) -> tuple[str, list[int]] | None:
    chars: list[str] = []
    where: list[int] = []
    at = 0
    spaced = False
    for field in [*_GAP.finditer(line), None]:
        end = field.start() if field else len(line)
        piece = line[at:end]
        lead = len(piece) - len(piece.lstrip())
        piece, base = piece.strip(), at + lead
        if piece:
            if chars:
                chars.append(" ")
                where.append(offset + base - 1)
            gaps = {m.start() for m in _AROUND.finditer(piece)}
            if len(piece) > 2 and _SPACED_OUT.fullmatch(piece):
                gaps |= set(range(1, len(piece), 2))
            spaced = spaced or bool(gaps)
            for i, ch in enumerate(piece):
                if i not in gaps:
                    chars.append(ch)
                    where.append(offset + base + i)
        at = field.end() if field else len(line)
    return ("".join(chars), where) if spaced else None
