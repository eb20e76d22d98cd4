"""Processes udc started: whether one that owns a run or a backfill is still alive."""

from __future__ import annotations

import os
import socket


def pid_alive(pid: int | None) -> bool:
    """Whether a process (a run's or a backfill's owner) still exists."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gone_here(pid: int | None, host: str | None = None) -> bool:
    """Whether a run's or a chunk's process is gone for sure: it ran on this host (None: a store of one host, which
    records none) and no longer exists. Another host's process cannot be looked up from here: it is taken at its
    word (a chunk's lease, not this, settles a dead worker's chunk)."""
    return (host is None or host == socket.gethostname()) and not pid_alive(pid)


def claimant_gone(worker: str | None) -> bool:
    """Whether a backfill chunk's claimant (`host:pid`) is gone for sure: none recorded, or gone_here."""
    if not worker:
        return True
    host, _, pid = worker.rpartition(":")
    return pid.isdigit() and gone_here(int(pid), host)
