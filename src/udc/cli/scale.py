"""`udc worker`: a Celery worker that runs the cycles and backfill chunks `udc run --executor celery` sends."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer

from udc.cli.common import err
from udc.console import setup_logging
from udc.errors import ConfigError
from udc.http import redis_budget
from udc.http.client import preload
from udc.scale.app import DEFAULT_QUEUE, configure, shown_broker, take_broker_url
from udc.secrets import service_url


def worker(concurrency: Annotated[int | None, typer.Option(help="Worker processes: cycles or chunks run at once "
                                                            "(default: one per CPU).")] = None,
           queue: Annotated[str, typer.Option(help="Celery queue to take tasks from.")] = DEFAULT_QUEUE,
           verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    """Run cycles and backfill chunks sent through UDC_BROKER_URL (default redis://127.0.0.1:6379/0) until stopped.
    With UDC_BUDGET_URL every connector's rate budget is shared through that Redis by every worker and host."""
    setup_logging(verbose)
    processes = concurrency if concurrency is not None else os.cpu_count() or 1
    if processes < 1 or processes > 256:
        raise ConfigError(f"--concurrency {concurrency} is out of range", "use 1 to 256 (default: one per CPU)")
    app = configure(take_broker_url(), queue)
    budget = redis_budget.budget_url()  # taken out of the environment before any command: forked pool processes
    # keep it in memory, and no child process inherits a password
    err.print(f"udc worker: {processes} process(es) on {shown_broker()} (queue {queue}); rate budgets "
              + (f"shared through {service_url(budget)}" if budget else "per process (set UDC_BUDGET_URL to share "
                                                                          "them across workers)"), highlight=False)
    preload()  # in this process, before the pool forks: no task pays for the HTTP modules and the TLS context
    app.worker_main(["worker", f"--concurrency={processes}", f"--queues={queue}", "--pool=prefork",
                     f"--hostname=udc-{os.getpid()}@{socket.gethostname()}", "--without-gossip", "--without-mingle",
                     f"--loglevel={'DEBUG' if verbose else 'INFO'}"])


__all__ = ["worker"]
