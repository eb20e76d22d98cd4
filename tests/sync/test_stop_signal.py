"""Ctrl-C or SIGTERM during `udc sync` stops after the page being stored: "stopped", exit 130 — a scheduler must
not read a stopped run as a success — and the next run resumes exactly where it stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import Harness, source_truth, stored_truth


@pytest.mark.both_stores
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stopped_sync_exits_130_and_resumes(tmp_path: Path, make_sim, sig: signal.Signals) -> None:
    sim = make_sim({"incident": 2000})
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 20, "tables": ["incident"]}})
    proc = subprocess.Popen([sys.executable, "-m", "udc", "sync", "--pipeline", "hist", "--config", str(h.path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sim.on_request(sim.table_request_count + 10, lambda _r: threading.Thread(target=proc.send_signal,
                                                                              args=(sig,)).start())
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "stopped" in err and "Traceback" not in err
    state = h.store.get_state("hist", "historical:incident")
    assert state is not None and not state["done"]
    assert 0 < len(stored_truth(h)) < 2000
    done = subprocess.run([sys.executable, "-m", "udc", "sync", "--pipeline", "hist", "--config", str(h.path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stored_truth(h) == source_truth(sim)


def test_ctrl_c_twice_aborts_with_130_and_loses_nothing(tmp_path: Path, make_sim) -> None:
    sim = make_sim({"incident": 2000})
    h = Harness(tmp_path, sim, {"hist": {"batch_size": 20, "tables": ["incident"]}})
    proc = subprocess.Popen([sys.executable, "-m", "udc", "sync", "--pipeline", "hist", "--config", str(h.path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def twice(_request: object) -> None:  # before this request is answered: the sync waits on it while both land,
        proc.send_signal(signal.SIGINT)  # so the first cannot end it gracefully before the second aborts it
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)

    sim.on_request(sim.table_request_count + 10, twice)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "aborted:" in " ".join(err.split())  # the second Ctrl-C aborted; a graceful stop alone says "stopped"
    done = subprocess.run([sys.executable, "-m", "udc", "sync", "--pipeline", "hist", "--config", str(h.path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stored_truth(h) == source_truth(sim)
