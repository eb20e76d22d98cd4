"""Secret values known to this process, scrubbed from every log line and error message (invariant 8)."""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote, quote_plus, unquote, urlsplit, urlunsplit

_lock = threading.Lock()
_values: set[str] = set()
MASK = "********"


def register(value: str) -> None:
    """Remember a secret (and its URL-encoded forms) so `scrub` can hide it wherever it shows up."""
    if len(value) < 4:  # too short to scrub without mangling ordinary text; still never logged on purpose
        return
    with _lock:
        _values.update({value, quote(value, safe=""), quote_plus(value)})


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


def service_url(url: str) -> str:
    """A service URL (a broker, Redis) taken in: its password is registered for scrubbing; returns the URL as it may
    be shown, with the password masked (`redis://:********@host:6379/0`)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    register(unquote(parts.password))
    register(parts.password)
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}{port}"))
