"""The Celery app: broker from `UDC_BROKER_URL` (default Redis on localhost; `amqp://` for RabbitMQ), results in
Redis (or back over AMQP with `rpc://`) so a scheduler can wait for a cycle to end before planning the next.

Tasks are acknowledged when they end, not when they start, and a task whose worker process died (kill -9, OOM) is
handed out again: with the ledger's leases this only shortens the wait, it is never needed for correctness.
"""

from __future__ import annotations

import os

from celery import Celery

from udc.errors import ConfigError
from udc.secrets import service_url

ENV = "UDC_BROKER_URL"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "udc"
SCHEMES = ("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://")

app = Celery("udc", include=["udc.scale.tasks"])


_broker: str | None = None


def take_broker_url() -> str:
    """The broker URL from the environment, taken out of it on first use and kept in memory (no child process
    inherits a password)."""
    global _broker
    if _broker is None:
        _broker = os.environ.pop(ENV, "") or DEFAULT_BROKER
    return _broker


def configure(broker: str, queue: str = DEFAULT_QUEUE) -> Celery:
    """Point the app at `broker` (its password registered for scrubbing) with udc's task settings."""
    if not broker.startswith(SCHEMES):
        raise ConfigError(f"{ENV}: unsupported broker URL '{service_url(broker)}'",
                          f"use {DEFAULT_BROKER} (Redis) or amqp://user@host:5672// (RabbitMQ)")
    service_url(broker)
    app.conf.update(
        broker_url=broker,
        result_backend=broker if broker.startswith(("redis://", "rediss://")) else "rpc://",
        result_expires=24 * 3600,
        task_default_queue=queue,
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker takes a task when it has a free process, not before
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 6 * 3600},  # Redis: an unacknowledged task comes back then
    )
    return app


def shown_broker() -> str:
    return service_url(str(app.conf.broker_url or DEFAULT_BROKER))


__all__ = ["DEFAULT_BROKER", "DEFAULT_QUEUE", "ENV", "app", "configure", "shown_broker", "take_broker_url"]
