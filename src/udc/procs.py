"""Processes udc started: whether one that owns a run or a backfill is still alive."""

from __future__ import annotations

import os


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
