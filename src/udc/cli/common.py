"""What every `udc` command shares: the consoles, the --config option, loading config and store, turning expected
failures into a message, a fix and an exit code, and stopping cleanly on Ctrl-C."""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from udc.config import Config, load_config
from udc.errors import ConfigError, UdcError
from udc.secrets import scrub
from udc.store import Store, open_store
from udc.sync.pump import Stop
from udc.timeutil import parse_time

out = Console()
err = Console(stderr=True)
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Config file.", envvar="UDC_CONFIG")]
T = TypeVar("T")


def guarded(fn: Callable[..., T]) -> Callable[..., T]:
    """Expected failures print their message and fix and exit with their code — never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except UdcError as exc:  # a StoreError too: the store's file is full, read-only, damaged...
            err.print(f"[bold red]error:[/] {scrub(exc.message)}", highlight=False, markup=True)
            if exc.hint:
                err.print(f"  [bold]fix:[/] {scrub(exc.hint)}", highlight=False)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def load(config: Path) -> tuple[Config, Store]:
    cfg = load_config(config)
    return cfg, open_store(cfg.store)


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
