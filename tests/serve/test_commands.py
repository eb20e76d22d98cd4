"""`udc run --serve`: the scheduler and the dashboard in one process, the dashboard seeing the cycles the scheduler
runs; SIGTERM stops both (exit 0). `udc demo` says how to see its store in a browser."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx

from backfill.conftest import START, Harness
from backfill.test_run_cli import read_until
from udc.simulators.servicenow import ServiceNowSim

from .test_auth import _free_port, _wait_for


def test_udc_run_serve_shows_the_cycles_it_runs(tmp_path: Path, snow_sims: Callable[..., ServiceNowSim]) -> None:
    sim = snow_sims("s3cret-backfill", 5, {"incident": 50}, START, timedelta(days=10), START + timedelta(days=20))
    h = Harness(tmp_path, sim, {"live": {"mode": "incremental", "frequency": "1m", "tables": ["incident"]}})
    h.store.close()
    port = _free_port()
    proc = h.udc("run", "--serve", "--port", str(port))
    seen: list[str] = []
    try:
        read_until(proc, f"udc dashboard on http://127.0.0.1:{port}/", seen)
        read_until(proc, "live: cycle succeeded", seen)
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/healthz")
        [live] = httpx.get(f"{base}/api/pipelines").json()
        assert live["health"] == "ok" and live["last_run"]["mode"] == "incremental"
        assert "live" in httpx.get(f"{base}/").text
        proc.send_signal(signal.SIGTERM)
        read_until(proc, "stopped", seen)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    time.sleep(0.2)
    try:
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        raise AssertionError("the dashboard outlived `udc run`")
    except httpx.TransportError:
        pass


def test_demo_names_the_command_that_serves_its_store(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "udc", "demo", "--workdir", str(tmp_path / "d"), "--records", "200"],
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert f"See it in a browser: udc serve --config {tmp_path / 'd' / 'udc.yaml'}" in done.stdout.decode()
