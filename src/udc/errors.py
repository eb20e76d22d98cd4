"""User-facing errors: every expected failure carries what is wrong and how to fix it."""

from __future__ import annotations


class UdcError(Exception):
    """An expected failure. The CLI prints `message` and `hint` and exits with `exit_code`, never a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message


class ConfigError(UdcError):
    """Bad configuration or command-line input (exit code 2)."""

    exit_code = 2


class NoStoreYet(ConfigError):
    """The store a reading command names holds nothing yet (a reader never creates it): sync first. `udc serve`
    waits for it instead, answering 503 with the fix."""


class StoreError(UdcError):
    """The store could not take a page or a change."""


class LockHeld(UdcError):
    """Another live process (or thread) holds a named lock: the pipeline or backfill is already running."""


class SourceError(UdcError):
    """The source refused or failed a request in a way retrying will not fix."""


class RetryBudgetExceeded(SourceError):
    """The run used up its retry budget; progress up to the last committed page is kept."""


class QuotaExhausted(SourceError):
    """The source's API quota (or the configured share of it) is used up; the run stops checkpointed."""
