"""Fixtures for the scale-out tests: the machine's Redis (skipped, saying so, only when none answers), a Celery queue
of the test's own, and real `udc worker` processes started with this checkout's udc."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from backfill.conftest import make_sim  # noqa: F401  (the fixture: a ServiceNow simulator, as backfills use)
from udc.scale.app import app, configure

SRC = Path(__file__).resolve().parents[2] / "src"
REDIS_URL = os.environ.get("UDC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis answers at {REDIS_URL} ({exc}): start one (.ci/run does) to run the scale-out tests")
    return REDIS_URL


@pytest.fixture(scope="module")
def queue(redis_url: str) -> Iterator[str]:
    """A queue of this module's own, so workers of other tests or sessions never take its tasks."""
    name = f"udc-test-{uuid.uuid4().hex[:10]}"
    configure(redis_url, name)
    yield name
    redis.Redis.from_url(redis_url).delete(name)


def udc_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "160", **extra}


def start_workers(n: int, queue: str, logs: Path, concurrency: int = 1, **env: str) -> list[subprocess.Popen[bytes]]:
    """`udc worker` processes, each in its own session (so stopping one ends its pool processes too)."""
    started = []
    for i in range(n):
        with (logs / f"worker-{i}.log").open("wb") as log:
            started.append(subprocess.Popen(
                [sys.executable, "-m", "udc", "worker", "--concurrency", str(concurrency), "--queue", queue],
                env=udc_env(**{"UDC_BROKER_URL": REDIS_URL, **env}), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))
    return started


def stop_workers(started: list[subprocess.Popen[bytes]]) -> None:
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in started:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def workers(queue: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Four `udc worker --concurrency 1` processes on the module's queue, shared by its tests (starting one costs
    seconds); yields the folder of their logs."""
    logs = tmp_path_factory.mktemp("workers")
    started = start_workers(4, queue, logs)
    try:
        wait_ready(4)
        yield logs
    finally:
        stop_workers(started)


def wait_ready(n: int, timeout: float = 60) -> None:
    """Until `n` workers answer a ping on the broker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=0.5)) >= n:
            return
    raise AssertionError(f"{n} workers did not start within {timeout}s")


def worker_logs(logs: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(logs.glob("worker-*.log")))


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, str, list[subprocess.Popen[bytes]]]]:
    """A Redis server of this test's own (with a password), to stop and restart: (url, password, its processes)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    password = "bUdget-pw-7731"
    started: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        started.append(subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--requirepass", password, "--dir", str(tmp_path)],
                                        stdout=subprocess.DEVNULL))
        client = redis.Redis(port=port, password=password)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    start()
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    yield url, password, started
    for proc in started:
        proc.kill()
        proc.wait()
