"""Celery workers as users run them (`udc worker` processes on the machine's Redis) share a backfill through the
ledger's claims: every chunk done once, the store holding exactly the source's records, and a worker process killed
with kill -9 mid-chunk costs nothing — its chunk is taken over and finished, counted once."""

from __future__ import annotations

import base64
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from typer.testing import CliRunner

from backfill.conftest import START, Harness, source_truth
from udc.cli import app
from udc.errors import ConfigError
from udc.scale.app import configure
from udc.scale.tasks import chunk, cycle, run_chunks, run_cycle
from udc.simulators.base import Request
from udc.sync.backfill import backfill_status, create_backfill, state_owner
from udc.sync.engine import Engine
from udc.timeutil import parse_time

from .conftest import REDIS_URL, udc_env, worker_logs

DAYS = 12


def wait_done(h: Harness, bid: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunks = h.store.chunks(bid)
        if all(c["status"] == "done" for c in chunks):
            return chunks
        time.sleep(0.2)
    raise AssertionError(f"backfill #{bid} not done in {timeout}s: {backfill_status(h.store, bid)}")


def check_exact(h: Harness, sim: Any, chunks: list[dict[str, Any]]) -> None:
    expected = source_truth(sim, start="2025-01-01", end=f"2025-01-{DAYS + 1:02d}")
    assert expected and h.stored() == expected
    assert sum(c["rows"]["incident"]["rows"] for c in chunks) == len(expected)  # each record counted once
    assert h.store.execute("SELECT count(*), count(DISTINCT pk) FROM records WHERE dataset = 'snow/incident'")[0] \
        == (len(expected), len(expected))


def test_four_workers_finish_a_backfill_with_exact_counts(tmp_path: Path, make_sim, workers: Path) -> None:
    sim = make_sim({"incident": 1800}, days=DAYS)
    sim.faults.latency = 0.02
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 25, "tables": ["incident"]}})
    bid = create_backfill(h.config, h.store, "live", START, START + timedelta(days=DAYS), parallel=4)
    results = [chunk.delay(str(h.path), bid, 10.0) for _ in range(4)]
    statuses = [r.get(timeout=90) for r in results]
    assert statuses == ["done"] * 4, worker_logs(workers)
    chunks = wait_done(h, bid, 5)
    assert [c["attempts"] for c in chunks] == [1] * DAYS
    ran = {c["worker"] for c in chunks}
    assert len(ran) >= 2 and all(w.rsplit(":", 1)[1] != str(os.getpid()) for w in ran)  # shared, out of process
    check_exact(h, sim, chunks)
    assert h.store.backfills(backfill_id=bid)[0]["status"] == "done"
    assert backfill_status(h.store, bid)["status"] == "done"


def test_a_worker_killed_mid_chunk_loses_nothing(tmp_path: Path, make_sim, workers: Path) -> None:
    """kill -9 the worker process running a chunk between its pages (while one of its requests is held): its lease
    runs out (or Celery hands its task out again) and another worker finishes the chunk from its last stored page."""
    sim = make_sim({"incident": 1800}, days=DAYS)
    sim.faults.latency = 0.02
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 20, "tables": ["incident"]}})
    bid = create_backfill(h.config, h.store, "live", START, START + timedelta(days=DAYS), parallel=3)
    killed: dict[str, Any] = {}
    fired = threading.Event()

    def hook(_request: object) -> None:
        """At a table request after some running chunk has stored pages: kill -9 the process running it."""
        if fired.is_set():
            return
        states = h.store.all_state(state_owner(bid))
        for c in h.store.chunks(bid):
            state = states.get(f"{c['seq']}:incident") or {}
            if c["status"] == "running" and state.get("position") and not state.get("done") and c["worker"]:
                fired.set()
                killed.update(seq=c["seq"], worker=c["worker"], position=state["position"])
                os.kill(int(c["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
                time.sleep(0.05)
                return

    for n in range(12, 400):
        sim.on_request(n, hook)
    results = [chunk.delay(str(h.path), bid, 3.0) for _ in range(3)]
    chunks = wait_done(h, bid, 90)
    deadline = time.monotonic() + 30  # the tasks end too (the killed one handed out again), freeing the workers
    while not all(r.ready() for r in results) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fired.is_set(), "the kill happened"
    taken = next(c for c in chunks if c["seq"] == killed["seq"])
    assert [c["attempts"] for c in chunks if c is not taken] == [1] * (DAYS - 1)
    assert taken["attempts"] == 2 and [e["worker"] for e in taken["errors"]] == [killed["worker"]]  # counted, named
    assert taken["worker"] != killed["worker"]  # another process finished it
    check_exact(h, sim, chunks)


def test_cycles_of_one_pipeline_never_overlap_across_workers(tmp_path: Path, make_sim, workers: Path) -> None:
    """Two cycle tasks of one pipeline on two workers at once: one runs, the other finds the pipeline's lock held
    and skips its turn."""
    sim = make_sim({"incident": 300})
    sim.faults.latency = 0.1
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 10, "tables": ["incident"]}})  # 30+ calls: over 3 s
    first = cycle.delay(str(h.path), "hist")
    while not sim.requests:  # the first has started
        time.sleep(0.02)
    second = cycle.delay(str(h.path), "hist")
    assert (first.get(timeout=60), second.get(timeout=60)) == ("succeeded", "skipped")
    assert [r["status"] for r in h.store.runs("hist")] == ["succeeded"]
    assert h.stored() == source_truth(sim)


def test_udc_run_with_the_celery_executor_sends_cycles_and_queued_backfills_to_the_workers(
        tmp_path: Path, make_sim, workers: Path, queue: str) -> None:
    sim = make_sim({"incident": 600}, days=DAYS)
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 25, "tables": ["incident"]}})
    queued = h.udc("backfill", "--pipeline", "live", "--start", "2025-01-01", "--end", f"2025-01-{DAYS + 1:02d}",
                   "--parallel", "3", "--queue")
    assert queued.wait(60) == 0
    run = subprocess.Popen([sys.executable, "-m", "udc", "run", "--executor", "celery", "--queue", queue,
                            "--lease", "10", "--config", str(h.path)], env=udc_env(UDC_BROKER_URL=REDIS_URL),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert run.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(run.stderr or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while not (any("backfill #1: done" in line for line in lines)
                   and any("live: cycle succeeded" in line for line in lines)):
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(60)
        reader.join(10)
    assert run.returncode == 0, "".join(lines)
    assert f"sending cycles and chunks to the workers of {REDIS_URL} (queue {queue})\n" in lines
    chunks = wait_done(h, 1, 1)
    check_exact(h, sim, chunks)
    assert {r["pid"] for r in h.store.runs("live", limit=50)}.isdisjoint({run.pid})  # all ran on the workers


def test_udc_run_refuses_an_unknown_executor_and_a_short_lease(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 10})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "tables": ["incident"]}})
    for args, said in ((["--executor", "dask"], "--executor dask: unknown executor"),
                       (["--lease", "1"], "--lease 1 is too short")):
        result = CliRunner().invoke(app, ["run", *args, "--config", str(h.path)])
        assert result.exit_code == 2 and said in result.output
    assert h.store.runs() == [] and h.store.backfills() == []  # refused: nothing recorded


def test_the_celery_scheduler_and_a_queued_backfill_read_no_connector_secret(tmp_path: Path, make_sim,
                                                                             redis_url: str) -> None:
    """They send and record names only: without the source's password set (the workers read it where they run)
    `udc backfill --queue` records the backfill and `udc run --executor celery` sends its first cycle, and nothing
    sent holds the password."""
    sim = make_sim({"incident": 10})
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "tables": ["incident"]}})
    config = yaml.safe_load(h.path.read_text())
    config["connectors"]["snow"]["auth"]["password"] = "env:UDC_TEST_WORKERS_ONLY_PW"
    h.path.write_text(yaml.safe_dump(config))
    env = udc_env(UDC_BROKER_URL=redis_url)
    env.pop("UDC_TEST_WORKERS_ONLY_PW", None)
    queued = subprocess.run([sys.executable, "-m", "udc", "backfill", "--pipeline", "live", "--start", "2025-01-01",
                             "--end", "2025-01-03", "--queue", "--config", str(h.path)], env=env, capture_output=True,
                            text=True, timeout=120)
    assert queued.returncode == 0 and "queued backfill #1" in queued.stdout, queued.stderr
    queue, broker = f"udc-test-{uuid.uuid4().hex[:10]}", redis.Redis.from_url(redis_url)
    run = subprocess.Popen([sys.executable, "-m", "udc", "run", "--executor", "celery", "--queue", queue,
                            "--no-backfills", "--config", str(h.path)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not broker.llen(queue):  # its cycle, waiting for a worker
            assert run.poll() is None and time.monotonic() < deadline, run.stderr and run.stderr.read()
            time.sleep(0.1)
        [sent] = broker.lrange(queue, 0, -1)
    finally:
        run.send_signal(signal.SIGTERM)
        _, said = run.communicate(timeout=60)
        broker.delete(queue)
    assert run.returncode == 0 and "is not set" not in said, said
    body = base64.b64decode(json.loads(sent)["body"])  # kombu's Redis transport sends it in base64
    assert json.loads(body)[0] == [str(h.path.resolve()), "live"]  # the task's arguments: names only
    assert sim.users["svc_udc"].encode() not in sent + body


def test_udc_worker_refuses_a_bad_concurrency_and_a_broker_it_cannot_use() -> None:
    result = CliRunner().invoke(app, ["worker", "--concurrency", "0"])
    assert result.exit_code == 2 and "--concurrency 0 is out of range" in result.output
    with pytest.raises(ConfigError, match="unsupported broker URL 'kafka://:\\*\\*\\*\\*\\*\\*\\*\\*@k:9092'") as bad:
        configure("kafka://:k-secret-9@k:9092")
    assert "amqp://" in bad.value.hint and "k-secret-9" not in bad.value.message


def test_a_task_given_a_config_it_cannot_read_fails_with_the_fix(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """As a worker runs it: the task's answer is "failed", and the worker's log says what and the fix."""
    missing = tmp_path / "missing.yaml"
    assert run_cycle(str(missing), "live") == "failed" and run_chunks(str(missing), 1) == "failed"
    assert f"cycle of live failed: config file {missing} does not exist (fix: create it" in caplog.text
    assert "backfill #1 failed: config file" in caplog.text


@pytest.mark.both_stores
def test_a_chunk_that_kills_every_worker_running_it_fails_after_its_attempts(tmp_path: Path, make_sim,
                                                                              workers: Path) -> None:
    """A poison chunk: every worker process that claims chunk POISON is killed with kill -9 at its first request
    (as the out-of-memory killer would). Each takeover counts an attempt, so after the backfill's 3 the chunk is
    failed, naming the dead workers and the fix, instead of being handed out forever (its last claimant only
    records that); every other chunk completes, exactly; `udc backfill --resume` then runs it again."""
    poison, days = 5, 8
    sim = make_sim({"incident": 1200}, days=days)
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "batch_size": 25, "tables": ["incident"]}})
    bid = create_backfill(h.config, h.store, "live", START, START + timedelta(days=days), parallel=3, max_attempts=3)
    killed: list[str] = []
    armed = threading.Event()
    armed.set()

    def hook(request: Request) -> None:
        """A request for the poison day comes from the worker holding its chunk: kill it before it is answered."""
        if not (armed.is_set() and f">=2025-01-0{poison} " in (request.arg("sysparm_query") or "")):
            return
        held = next(c for c in h.store.chunks(bid) if c["seq"] == poison)
        if held["status"] == "running" and held["worker"] and held["worker"] not in killed:
            killed.append(held["worker"])
            os.kill(int(held["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
            time.sleep(0.05)

    for n in range(1, 2000):
        sim.on_request(n, hook)
    results = [chunk.delay(str(h.path), bid, 3.0) for _ in range(3)]
    deadline = time.monotonic() + 60
    while not all(r.ready() for r in results):
        assert time.monotonic() < deadline, (backfill_status(h.store, bid), worker_logs(workers))
        time.sleep(0.1)
    armed.clear()
    chunks = h.store.chunks(bid)
    assert [c["status"] for c in chunks] == ["failed" if c["seq"] == poison else "done" for c in chunks]
    bad = chunks[poison - 1]
    assert len(killed) == 3 and bad["attempts"] == 3, (killed, bad)  # three died in it; nobody claimed it again
    assert [(e["attempt"], e["worker"]) for e in bad["errors"]] == list(zip([1, 2, 3], killed, strict=True))
    assert f"abandoned 3 time(s) by workers that died or hung while running it ({', '.join(killed)})" \
        in bad["errors"][-1]["error"] and f"`udc backfill --resume {bid}`" in bad["errors"][-1]["error"]
    assert h.store.backfills(backfill_id=bid)[0]["status"] == "failed"
    shown = CliRunner().invoke(app, ["backfill", "status", str(bid), "--config", str(h.path)])
    assert shown.exit_code == 0 and f"failed chunk {poison} 2025-01-0{poison} after 3 attempts: abandoned 3 time" \
        in " ".join(shown.output.split())
    # nothing lost: every other day's records are stored exactly once; of the poison day, none were served
    day = (f"2025-01-0{poison}", f"2025-01-0{poison + 1}")
    everything = source_truth(sim, start="2025-01-01", end=f"2025-01-{days + 1:02d}")
    outside = {pk: at for pk, at in everything.items() if not day[0] <= at < day[1]}
    assert len(outside) < len(everything) and h.stored() == outside
    assert sum(c["rows"].get("incident", {}).get("rows", 0) for c in chunks) == len(outside)

    resumed = h.udc("backfill", "--resume", str(bid))  # the fix is in (here: nothing kills it any more)
    _, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err.decode()
    chunks = h.store.chunks(bid)
    assert [c["status"] for c in chunks] == ["done"] * days and chunks[poison - 1]["attempts"] == 1
    assert h.stored() == everything and sum(c["rows"]["incident"]["rows"] for c in chunks) == len(everything)


def test_two_schedulers_at_once_never_overlap_a_pipelines_cycles(tmp_path: Path, make_sim, workers: Path,
                                                                 queue: str) -> None:
    """Two `udc run --executor celery` schedulers of one pipeline started together, three times over, while the
    source changes (also mid-cycle): each time one cycle runs and the other is skipped; the runs the workers record
    never overlap and every page request the source saw falls inside exactly one of them; the store ends holding
    exactly the source's records changed since the first cycle, each once."""
    sim = make_sim({"incident": 300})
    sim.faults.latency = 0.02
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "lag": "1s", "batch_size": 10,
                                         "tables": ["incident"]}})
    old = [r["sys_id"] for r in sim.records("incident")]

    def change(n: int, tag: str) -> None:
        """n new records and n updated ones, at the present moment (what the next cycle's window holds)."""
        sim.clock = datetime.now(UTC)
        for i in range(n):
            sim.insert("incident", {"short_description": f"{tag} new {i}"})
            sim.update("incident", old.pop(), {"short_description": f"{tag} changed"})

    engine = Engine(h.config, h.store)
    assert engine.sync("live").status == "succeeded"  # the first cycle records where the pipeline starts
    change(15, "before")
    time.sleep(1.1)  # past the lag
    rounds, said = 3, []
    for k in range(rounds):
        lines: list[list[str]] = [[], []]
        first = sim.table_request_count + 1

        def hold(_request: Request, lines: list[list[str]] = lines, k: int = k) -> None:
            """The first request of the round's cycle waits until the other scheduler's cycle has been skipped."""
            change(15, f"round {k}")  # after the cycle's window ends: for the next one
            deadline = time.monotonic() + 30
            while not any("cycle skipped" in line for got in lines for line in got) and time.monotonic() < deadline:
                time.sleep(0.05)

        sim.on_request(first, hold)
        sim.on_request(first + 3, lambda _request, k=k: change(1, f"mid-cycle {k}"))
        procs = [subprocess.Popen([sys.executable, "-m", "udc", "run", "--executor", "celery", "--queue", queue,
                                   "--pipeline", "live", "--no-backfills", "--config", str(h.path)],
                                  env=udc_env(UDC_BROKER_URL=REDIS_URL), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        readers = [threading.Thread(target=lambda p=p, got=got: got.extend(p.stderr or []), daemon=True)
                   for p, got in zip(procs, lines, strict=True)]
        for reader in readers:
            reader.start()
        try:
            deadline = time.monotonic() + 40
            while not all(any("live: cycle" in line for line in got) for got in lines):
                assert time.monotonic() < deadline, lines
                time.sleep(0.1)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
            for reader in readers:
                reader.join(10)
        said += sorted(next(line.split("cycle ")[1].split(",")[0] for line in got if "live: cycle" in line)
                       for got in lines)
        time.sleep(1.1)  # the changes made during the round are past the lag for the next
    assert said == ["skipped", "succeeded"] * rounds
    assert engine.sync("live").status == "succeeded"  # the last round's changes
    runs = sorted(h.store.runs("live", limit=50), key=lambda r: r["started_at"])
    assert [r["status"] for r in runs] == ["succeeded"] * (rounds + 2)
    spans = [(parse_time(r["started_at"]).timestamp(), parse_time(r["finished_at"]).timestamp()) for r in runs]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # never overlapping
    pages = [r for r in sim.table_requests if r.path == "/api/now/table/incident"]
    outside = [(r.query, r.at) for r in pages if sum(a <= r.at <= b for a, b in spans) != 1]
    assert len(pages) >= rounds * 3 and not outside, (outside, spans)
    expected = source_truth(sim, start="2026")  # every change came after the source's generated history
    assert len(expected) == 15 * 2 * (rounds + 1) + 2 * rounds and h.stored() == expected
    assert h.store.execute("SELECT count(*), count(DISTINCT pk) FROM records WHERE dataset = 'snow/incident'")[0] \
        == (len(expected),) * 2
