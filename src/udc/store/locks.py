"""The SQLite store's named locks: exclusive, and they survive crashes: `flock` on a file beside the database.

The kernel releases an `flock` when its holder exits for any reason, kill -9 included, so a lock left by a dead
process is never stale: the next taker simply gets it (and overwrites the dead holder's pid in the file). `flock`
locks belong to an open file description, so two threads of one process exclude each other as well.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

import orjson

from udc.errors import LockHeld
from udc.timeutil import utcnow


def lock_dir(store_path: Path) -> Path:
    return store_path.parent / f"{store_path.name}.locks"


def lock_file_name(name: str) -> str:
    """A file name for a lock: the name, percent-encoded where it is not plain ASCII, so every name has a file of its
    own (`管道` and `日本` never share one). Not a digest: hashlib would load OpenSSL into the store's writer."""
    return quote(name, safe="") + ".lock"


class HeldLock:
    """`with` for a store's lock: takes it or raises LockHeld naming its holder; releases it on the way out."""

    name: str

    def acquire(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def holder(self) -> dict[str, object] | None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        if not self.acquire():
            holder = self.holder() or {}
            raise LockHeld(f"'{self.name}' is already running (process {holder.get('pid', '?')} since "
                           f"{str(holder.get('since', '?'))[:19]})",
                           "wait for it to finish or stop that process; a killed process releases the lock")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


class NamedLock(HeldLock):
    """`with store.lock("pipeline-x"):` — or `acquire()` / `release()`."""

    def __init__(self, store_path: Path, name: str) -> None:
        self.name = name
        self.path = lock_dir(Path(store_path)) / lock_file_name(name)
        self._fd: int | None = None
        self.previous: dict[str, object] | None = None  # the holder recorded in the file before we took it

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when a live holder has it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # holders' pids and hosts: the owner's
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        for attempt in range(3):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == 2:
                    os.close(fd)
                    return False
                time.sleep(0.005)  # `holder()` probes with a shared lock for microseconds: don't mistake it for one
        self.previous = _parse(os.pread(fd, 4096, 0))
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": utcnow().isoformat()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, orjson.dumps(info), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the descriptor drops the flock

    def holder(self) -> dict[str, object] | None:
        """Who holds the lock now (pid, host, since), or None when it is free."""
        if self._fd is not None:
            return {"pid": os.getpid(), "host": socket.gethostname()}
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _parse(os.pread(fd, 4096, 0)) or {"pid": None}
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def __del__(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


def _parse(data: bytes) -> dict[str, object] | None:
    try:
        value = orjson.loads(data) if data.strip() else None
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


__all__ = ["HeldLock", "NamedLock", "lock_dir", "lock_file_name"]
