"""Secret values known to this process, scrubbed from every log line and error message (invariant 8), and the
references (`env:NAME`, `file:/path`) they are read from."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, urlsplit, urlunsplit

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


def reference_name(value: str) -> str:
    """The variable an `env:NAME` reference names ("" for anything else); ValueError for `env:` alone."""
    name = value[4:] if value.startswith("env:") else ""
    if value.startswith("env:") and not name.strip():
        raise ValueError("`env:` needs the name of an environment variable, e.g. env:SNOW_PASSWORD")
    return name


def read_reference(value: str) -> str:
    """An `env:NAME` or `file:/path` reference's value (a file's trailing newline dropped); anything else is
    returned as it is. ValueError, with the fix, when the variable is not set or the file cannot be read."""
    if value.startswith("env:"):
        name = reference_name(value)
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set; export {name}=... before running udc")
        return os.environ[name]
    if value.startswith("file:"):
        path = Path(value[5:]).expanduser()
        try:
            mode = path.stat().st_mode
            if os.name == "posix" and stat.S_ISREG(mode) and mode & 0o077:  # others here can read the credential
                logging.getLogger("udc.secrets").warning(
                    "secret file %s can be read by its group or by others (mode %o); run: chmod 600 %s", path,
                    mode & 0o777, path)
            return path.read_text().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ValueError(f"cannot read secret file {path} ({reason}); check the path and permissions") from exc
    return value
