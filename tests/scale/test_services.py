"""The services around the workers, for real: a backfill through RabbitMQ as the broker, and the Redis holding the
shared rate budget going down mid-backfill — the workers stop their calls and say why, and the backfill completes,
exactly, once it is back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import kombu
import pytest
import redis

from backfill.conftest import START, Harness
from udc.scale.tasks import chunk
from udc.simulators.base import Request
from udc.sync.backfill import create_backfill

from .conftest import start_workers, stop_workers, udc_env, wait_ready, worker_logs
from .test_workers import DAYS, check_exact, wait_done

AMQP_URL = os.environ.get("UDC_TEST_AMQP_URL", "amqp://guest:guest@localhost:5672//")


@pytest.fixture
def amqp_queue() -> str:
    """A queue of the test's own on the machine's RabbitMQ (skipped, saying so, only when none answers); deleted
    afterwards."""
    try:
        with kombu.Connection(AMQP_URL, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # kombu raises the transport's own errors
        pytest.skip(f"no RabbitMQ answers at {AMQP_URL} ({exc}): start one (.ci/run does) to run this test")
    name = f"udc-test-{uuid.uuid4().hex[:10]}"
    yield name
    with kombu.Connection(AMQP_URL, connect_timeout=3) as conn:
        conn.default_channel.queue_delete(name)


def test_a_backfill_through_rabbitmq(tmp_path: Path, make_sim, amqp_queue: str) -> None:
    """`udc worker`s and `udc run --executor celery` with UDC_BROKER_URL=amqp://…: the queued backfill runs on the
    workers (results back over AMQP) and the store holds exactly the source's records of its range."""
    sim = make_sim({"incident": 900}, days=DAYS)
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 25, "tables": ["incident"]}})
    queued = h.udc("backfill", "--pipeline", "live", "--start", "2025-01-01", "--end", f"2025-01-{DAYS + 1:02d}",
                   "--parallel", "2", "--queue")
    assert queued.wait(60) == 0
    logs = tmp_path / "logs"
    logs.mkdir()
    workers = start_workers(2, amqp_queue, logs, UDC_BROKER_URL=AMQP_URL)
    run = subprocess.Popen([sys.executable, "-m", "udc", "run", "--executor", "celery", "--queue", amqp_queue,
                            "--lease", "10", "--config", str(h.path)], env=udc_env(UDC_BROKER_URL=AMQP_URL),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(run.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("backfill #1: done" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines) + worker_logs(logs)
            time.sleep(0.2)
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(30)
        reader.join(10)
        stop_workers(workers)
    assert run.returncode == 0, "".join(lines)
    assert f"sending cycles and chunks to the workers of amqp://guest:********@localhost:5672// (queue {amqp_queue})" \
        in "".join(lines)
    chunks = wait_done(h, 1, 1)
    assert {c["worker"].rsplit(":", 1)[1] for c in chunks}.isdisjoint({str(run.pid), str(os.getpid())})
    check_exact(h, sim, chunks)


def test_redis_restarted_mid_backfill_stops_the_calls_then_the_backfill_completes(
        tmp_path: Path, make_sim, queue: str, own_redis: tuple[str, str, list[subprocess.Popen[bytes]]]) -> None:
    """Two workers share the connector's budget through a Redis of the test's own, which is killed at the 30th table
    request: no call goes out while it is down (beyond the one each worker was granted before), each worker says why,
    naming the Redis without its password; restarted (its data gone), the backfill completes with exact counts."""
    url, password, procs = own_redis
    sim = make_sim({"incident": 1600}, days=DAYS)
    sim.faults.latency = 0.02
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 20, "max_calls_per_minute": 100000,
                                         "tables": ["incident"]}})
    bid = create_backfill(h.config, h.store, "live", START, START + timedelta(days=DAYS), parallel=2)
    logs = tmp_path / "logs"
    logs.mkdir()
    workers = start_workers(2, queue, logs, UDC_BUDGET_URL=url)
    down = threading.Event()

    def kill_redis(_request: Request) -> None:
        procs[0].kill()
        procs[0].wait()
        down.set()

    sim.on_request(30, kill_redis)
    try:
        wait_ready(2)
        results = [chunk.delay(str(h.path), bid, 10.0) for _ in range(2)]
        assert down.wait(60), worker_logs(logs)
        deadline = time.monotonic() + 20
        while worker_logs(logs).count("is unreachable") < 2:  # each worker, once: it has a call waiting
            assert time.monotonic() < deadline, worker_logs(logs)
            time.sleep(0.1)
        # a call granted before the kill may still be on its way (a worker reads ahead): wait until none arrives for a
        # second, then nothing more may go out while Redis is down
        stalled, quiet_since = sim.table_request_count, time.monotonic()
        while time.monotonic() - quiet_since < 1:
            assert time.monotonic() < deadline, worker_logs(logs)
            time.sleep(0.1)
            if sim.table_request_count != stalled:
                stalled, quiet_since = sim.table_request_count, time.monotonic()
        time.sleep(2)
        assert sim.table_request_count == stalled <= 31  # nothing went out while Redis was down
        port = url.rsplit(":", 1)[1].split("/")[0]
        procs.append(subprocess.Popen(["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--requirepass", password], stdout=subprocess.DEVNULL))
        assert [r.get(timeout=60) for r in results] == ["done", "done"], worker_logs(logs)
    finally:
        stop_workers(workers)
    said = worker_logs(logs)
    assert "redis://:********@127.0.0.1" in said and "answers again" in said and password not in said
    assert redis.Redis.from_url(url).zcard(f"udc:budget:snow@{sim.url}:calls") > 0  # drawing from it again
    check_exact(h, sim, wait_done(h, bid, 5))
