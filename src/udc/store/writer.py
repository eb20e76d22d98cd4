"""Store writes in a child process.

Storing a page (SQLite's per-row work and the WAL commit) costs about as much CPU as fetching and parsing it. In a
thread of the syncing process it fights the reading threads for the GIL, which SQLite releases and retakes for every
row; in a child process it runs on another core, while the syncing thread reads the next page. The child
(udc.store.sqlite_writer) runs the same `SqliteStore.write`, one transaction per page, in the order pages are
submitted, and answers each with its counts, which resolve the page's future: the page and its state are committed
when it resolves. Run and ledger updates go through it too, so there is one writer and nothing waits on another's
lock. The child has no secrets (its environment is a short allow-list, INHERITED) and writes nothing but the
store. It leaves when its input closes (the syncing process ended, even by kill -9, after the page in hand is
committed or rolled back); terminal and supervisor signals go to the syncing process, which stops once the pages it
handed over are committed. This side imports no database driver:
the child sends its errors as the StoreError to raise.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any, overload

from udc.errors import StoreError
from udc.store.types import PageWrite, Statement, UpsertCounts

Message = tuple[PageWrite, int] | tuple[Statement, ...]  # a page and its run, or statements for one transaction
# the child's answer: (True, counts or rowid), or (False, (message, hint)) of the StoreError to raise here
Reply = tuple[bool, Any]

HEADER = 8  # bytes of message length before each pickled message
# what the child may inherit: finding Python and udc, locale, where SQLite puts temporary files — never the
# parent's `env:` secrets or redaction key (anyone who can read /proc/PID/environ of the child would have them)
INHERITED = ("PATH", "PYTHONHOME", "PYTHONPATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "SQLITE_TMPDIR")


def child_environment() -> dict[str, str]:
    """The writer child's whole environment: INHERITED, with this udc first on its path."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    package_root = str(Path(__file__).resolve().parents[2])  # the child imports this same udc
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    return env


def send(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(data).to_bytes(HEADER, "little"))
    stream.write(data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    head = stream.read(HEADER)
    size = int.from_bytes(head, "little") if len(head) == HEADER else -1
    data = stream.read(size) if size >= 0 else b""
    if size < 0 or len(data) != size:
        raise EOFError
    return pickle.loads(data)


class WriterProcess:
    """The syncing side: one child per store, shared by every thread that stores pages. Pages are stored in the order
    they are submitted; each submission's future resolves once its page is committed."""

    def __init__(self, path: Path, key: str | None = None) -> None:
        """`key`: an encrypted store's key, sent as the first message (never on the command line or in the
        environment)."""
        child = "from udc.store.sqlite_writer import main; main()"
        self._proc = subprocess.Popen([sys.executable, "-c", child, str(path)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=child_environment(),
                                      start_new_session=True)
        assert self._proc.stdin and self._proc.stdout
        self._requests, self._answers = self._proc.stdin, self._proc.stdout
        with contextlib.suppress(OSError):  # the child is gone: the reply reader fails every page
            send(self._requests, key)
        for pipe in (self._requests, self._answers):  # a page (~1.5 MB) in a few large writes, not 64 KB ones
            with contextlib.suppress(OSError):
                fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, 1 << 20)
        self._lock = threading.Lock()
        self._pending: deque[tuple[Future[Any], str]] = deque()
        self.closed = False
        self._replies = threading.Thread(target=self._read_replies, name="udc-store-replies", daemon=True)
        self._replies.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    @overload
    def submit(self, message: tuple[PageWrite, int]) -> Future[UpsertCounts] | None: ...
    @overload
    def submit(self, message: tuple[Statement, ...]) -> Future[int] | None: ...

    def submit(self, message: Message) -> Future[Any] | None:
        """Hand a page (its counts come back) or statements (the first one's rowid) to the child; None when this
        writer is already closed (write locally then)."""
        future: Future[Any] = Future()
        dataset = getattr(message[0], "dataset", None)  # a PageWrite's
        what = f"a page of {dataset}" if dataset is not None else "a change to the store"
        with self._lock:
            if self.closed:
                return None
            self._pending.append((future, what))
            with contextlib.suppress(OSError):  # the child is gone: the reply reader fails this future
                send(self._requests, message)
        return future

    def _read_replies(self) -> None:
        while True:
            try:
                ok, value = receive(self._answers)
            except (EOFError, OSError):
                break
            future, _ = self._pending.popleft()
            if ok:
                future.set_result(value)
            else:
                future.set_exception(StoreError(*value))
        code = self._proc.wait()
        with self._lock:  # later pages are stored locally
            self.closed = True
            for future, what in self._pending:
                future.set_exception(StoreError(
                    f"the store's writer process exited (code {code}) while storing {what}, which may not be stored",
                    "run the sync again: it resumes from the last stored page"))
            self._pending.clear()

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError):  # OSError: the child is gone already
            self.closed = True
            self._requests.close()  # the child stores what it was sent, then leaves at end of input
        self._replies.join()
        self._answers.close()
