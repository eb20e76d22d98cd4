"""What every `udc` command shares: the consoles, the --config option, loading config and store, turning expected
failures into a message, a fix and an exit code, and stopping cleanly on Ctrl-C.

A command validates all its input before it opens the store: a refused command writes nothing."""

from __future__ import annotations

import functools
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import orjson
import typer
from rich.console import Console

from udc.config import Config
from udc.errors import ConfigError, NoStoreYet, UdcError
from udc.secrets import scrub
from udc.store import Store, open_store, parse_store_url, store_exists
from udc.sync.pump import Stop
from udc.timeutil import parse_time

PIPED_WIDTH = 1000
# soft wrap: a long line (`file:line: key.path: problem`, a suggested command) is never split, piped or not; and
# the terminal's width limits tables only on a terminal (piped, rich would assume 80 columns and cut names short)
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else PIPED_WIDTH)
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)
STOPPED = 130  # the exit code of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT): resumable, not a success
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Config file.", envvar="UDC_CONFIG")]
T = TypeVar("T")


def guarded(fn: Callable[..., T]) -> Callable[..., T]:
    """Expected failures print their message and fix and exit with their code — never a traceback; with --json, the
    error is also printed as an object on stdout. A second Ctrl-C aborts with exit 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except UdcError as exc:  # a StoreError too: the store's file is full, read-only, damaged...
            message, hint = scrub(exc.message), scrub(exc.hint)
            err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
            if hint:
                err.print(f"  [bold]fix:[/] {hint}", highlight=False)
            if kwargs.get("json_out"):
                error = {"error": message, "fix": hint or None, "exit_code": exc.exit_code}
                out.print(scrub(orjson.dumps(error).decode()), markup=False, highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("aborted: a page being stored is rolled back; the next run resumes after the last stored one")
            raise typer.Exit(STOPPED) from None
        except (typer.Exit, typer.Abort, click.ClickException):  # click's own exits and usage errors
            raise
        except Exception:  # a bug: its traceback still helps a report, with every secret in it masked
            err.print(scrub(traceback.format_exc()), markup=False, highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def print_json(data: Any) -> None:
    """A command's --json document, with any secret that reached it masked."""
    out.print_json(scrub(orjson.dumps(data).decode()))


def existing_store(cfg: Config) -> Store:
    """The store of a command that only reads it: never created by one."""
    if not store_exists(cfg.store, cfg.store_secret()):
        raise NoStoreYet(f"there is no store at {parse_store_url(cfg.store)[1]} yet: nothing has been synced",
                          "run `udc sync --pipeline P` first (a relative `store:` path is relative to the config "
                          "file's folder)")
    return open_store(cfg.store, cfg.store_secret())


@contextmanager
def stoppable() -> Iterator[Stop]:
    """SIGINT/SIGTERM stop the run after the page being stored commits."""
    stop = Stop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: object) -> None:
        if stop:
            raise KeyboardInterrupt
        err.print("stopping after the current page… (press again to abort)")
        stop.event.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def when(text: str, flag: str) -> datetime:
    """A date given on the command line, or a ConfigError naming the flag."""
    try:
        return parse_time(text)
    except ValueError:
        raise ConfigError(f"{flag} '{text}' is not a date",
                          "write it like 2025-03-01 or 2025-03-01T06:00:00Z") from None
