"""Store writes in a child process.

Storing a page (SQLite's per-row work and the WAL commit) costs about as much CPU as fetching and parsing it. In a
thread of the syncing process it fights the reading threads for the GIL, which SQLite releases and retakes for every
row; in a child process it runs on another core, while the syncing thread reads the next page. The child runs the
same `SqliteStore.write`, one transaction per page, in the order pages are submitted, and answers each with its
counts, which resolve the page's future: the page and its state are committed when it resolves. Run and ledger
updates go through it too, so there is one writer and nothing waits on another's lock. The child has no secrets and
writes nothing but the store. It leaves when its input closes (the syncing process ended, even by kill -9, after the
page in hand is committed or rolled back); terminal and supervisor signals go to the syncing process, which stops
once the pages it handed over are committed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, overload

from udc.errors import StoreError

if TYPE_CHECKING:
    from udc.store.sqlite import PageWrite, Statement, UpsertCounts

    Message = tuple[PageWrite, int] | tuple[Statement, ...]  # a page and its run, or statements for one transaction

HEADER = 8  # bytes of message length before each pickled message
# bytes of records committed between checkpoints: bounds the WAL, and what is left to copy back when the writer is done
# (the next commit after it, say the run's own end, would copy it: at 16 MB a backfill's last 70 ms went to that)
CHECKPOINT_EVERY = 4 << 20


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

    def __init__(self, path: Path) -> None:
        package_root = str(Path(__file__).resolve().parents[2])  # the child imports this same udc
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        self._proc = subprocess.Popen([sys.executable, "-c", "from udc.store.writer import main; main()", str(path)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True)
        assert self._proc.stdin and self._proc.stdout
        self._requests, self._answers = self._proc.stdin, self._proc.stdout
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
                kind, message = value  # a sqlite3 error keeps its type (disk full, locked…), others are StoreErrors
                future.set_exception((getattr(sqlite3, kind) if kind else StoreError)(message))
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


class Checkpointer:
    """Copies the WAL back into the database from a thread of its own, once enough has been committed. Done by the
    commit that crosses the threshold, as SQLite does by default, the checkpoint's two fsyncs held up that commit and
    every page queued behind it: a quarter of the writer's wall time on a 100-page write."""

    def __init__(self, path: str, every: int = CHECKPOINT_EVERY) -> None:
        self._path, self._every, self._since = path, every, 0
        self._due = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="udc-store-checkpoints", daemon=True)
        self._thread.start()

    def committed(self, size: int) -> None:
        self._since += size
        if self._since >= self._every:
            self._since = 0
            self._due.set()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            while self._due.wait() and not self._closing:
                self._due.clear()
                # PASSIVE: copies what is committed without waiting for, or blocking, the writer and readers
                with contextlib.suppress(sqlite3.Error):  # a failing disk fails the next commit, with its error
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def close(self) -> None:
        self._closing = True
        self._due.set()
        self._thread.join()


def serve(path: str, requests: IO[bytes], replies: IO[bytes]) -> None:
    """The child: store each page or change sent, answer with its counts, rowid or error; leave at end of input."""
    from udc.store.sqlite import PageWrite, SqliteStore

    store = SqliteStore(path, write_process=False, autocheckpoint=False)
    checkpoints = Checkpointer(path)
    failed: set[int] = set()  # passes with a failed page: a later page of theirs would leave a gap behind it
    try:
        while True:
            try:
                message = receive(requests)
            except EOFError:
                return
            page, run_id = message if isinstance(message[0], PageWrite) else (None, 0)
            reply: tuple[bool, Any]
            if page is not None and page.pass_id in failed:
                reply = (False, ("", f"a page of {page.dataset} not stored: the page before it failed"))
            else:
                try:
                    reply = (True, store.write(page, run_id) if page is not None else store.run_statements(message))
                    if page is not None:
                        checkpoints.committed(sum(len(record[2]) for record in page.encoded or ()))
                except Exception as exc:  # sent back, raised in the syncing process
                    reply = (False, (type(exc).__name__, str(exc)) if isinstance(exc, sqlite3.Error)
                             else ("", f"{type(exc).__name__}: {exc}"))
                    if page is not None and page.pass_id:
                        failed.add(page.pass_id)
            send(replies, reply)
    finally:
        checkpoints.close()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the replies
    serve(sys.argv[1], sys.stdin.buffer, replies)
