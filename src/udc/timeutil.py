"""The one place that parses and formats times. Cursor values are stored as fixed-width UTC ISO strings
(`2025-01-02T03:04:05.000000Z`) so that string order is time order in every store."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DURATION_PATTERN = r"^\s*(\d+)\s*(s|m|h|d)\s*$"
_DURATION = re.compile(DURATION_PATTERN)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_time(value: str | datetime | date) -> datetime:
    """Parse any timestamp a source or a user gives into an aware UTC datetime.

    Accepts ISO 8601 with `Z`, `+hh:mm` or `+hhmm` offsets (Jira, Salesforce), ServiceNow's `YYYY-MM-DD HH:MM:SS`
    (UTC by contract), plain dates (midnight UTC) and epoch milliseconds as digits.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = value.strip()
    if text.isdigit() and len(text) >= 12:
        return EPOCH + timedelta(milliseconds=int(text))
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and ":" not in text[-5:]:
        text = text[:-2] + ":" + text[-2:]  # Jira/Salesforce `-0800` → `-08:00`
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def cursor_str(value: str | datetime | date) -> str:
    """Normalise a source timestamp into the sortable cursor string the store keeps."""
    if isinstance(value, str) and len(value) == 19 and value[10] == " ":  # ServiceNow's UTC format: the hot path
        return f"{value[:10]}T{value[11:]}.000000Z"
    return parse_time(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def snow_time(value: datetime) -> str:
    """ServiceNow raw date-time: `YYYY-MM-DD HH:MM:SS` in UTC (1-second resolution)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_duration(text: str | int) -> timedelta:
    """`30s`, `2m`, `6h`, `1d`, or a number of seconds."""
    if isinstance(text, int):
        return timedelta(seconds=text)
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a duration; write it like 30s, 2m, 6h or 1d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
