"""`udc serve`: the dashboard, JSON API and /metrics over the store, until Ctrl-C."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from udc.cli.common import ConfigOpt, err
from udc.config import DEFAULT_CONFIG, load_config
from udc.serve.settings import DEFAULT_HOST, DEFAULT_PORT, TOKEN_ENV

if TYPE_CHECKING:
    from udc.serve.server import Dashboard

HostOpt = Annotated[str, typer.Option("--host", help="Address to listen on; anything but loopback needs "
                                      f"{TOKEN_ENV}.")]
PortOpt = Annotated[int, typer.Option("--port", help="Port to listen on.")]


def serve(config: ConfigOpt = Path(DEFAULT_CONFIG), host: HostOpt = DEFAULT_HOST, port: PortOpt = DEFAULT_PORT) -> None:
    """Serve the monitoring dashboard, a JSON API (/docs) and Prometheus metrics (/metrics), read-only."""
    dashboard = open_dashboard(config, host, port)
    dashboard.run()


def open_dashboard(config: Path, host: str, port: int) -> Dashboard:
    """Checked and listening (exit 2 when the binding or the store is refused; a store nothing has been synced to
    yet is waited for); prints where it is."""
    from udc.serve.server import Dashboard  # the web stack loads only here: about a second other commands skip

    cfg = load_config(config, secrets_for=())
    dashboard = Dashboard(cfg, host, port, os.environ.get(TOKEN_ENV) or None)
    err.print(f"udc dashboard on {dashboard.url} (API docs {dashboard.url}docs, metrics {dashboard.url}metrics)"
              + (f"; sign in with {TOKEN_ENV}" if os.environ.get(TOKEN_ENV) else ""), highlight=False)
    if dashboard.waiting:  # served as soon as a sync makes it; until then every request answers 503 with this
        err.print(f"[yellow]waiting:[/] {escape(dashboard.waiting.message)}\n  fix: {escape(dashboard.waiting.hint)}",
                  highlight=False)
    return dashboard


__all__ = ["open_dashboard", "serve"]
