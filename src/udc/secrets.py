"""Secret values known to this process, scrubbed from every log line and error message (invariant 8)."""

from __future__ import annotations

import json
import logging
import threading
from urllib.parse import quote, quote_plus

_lock = threading.Lock()
_values: set[str] = set()
MASK = "********"


def register(value: str) -> None:
    """Remember a secret (and its URL-encoded and JSON-escaped forms) so `scrub` can hide it wherever it shows up:
    in a message, a URL, or a JSON document printed with --json."""
    if len(value) < 4:  # too short to scrub without mangling ordinary text; still never logged on purpose
        return
    with _lock:
        _values.update({value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1],
                        json.dumps(value, ensure_ascii=False)[1:-1]})


def scrub(text: str) -> str:
    with _lock:
        values = sorted(_values, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return text


class ScrubFilter(logging.Filter):
    """Rewrites each record's message with secrets masked before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
