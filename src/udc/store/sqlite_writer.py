"""The SQLite store's writer process (see udc.store.writer): it stores each page or change the syncing process
sends, in order, and answers with its counts, rowid or error. Started with `python -c`, so it imports only the store,
never the sources or the config."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import IO

from udc.errors import StoreError
from udc.store import cipher
from udc.store.sqlite import SqliteStore
from udc.store.types import PageWrite
from udc.store.writer import Reply, receive, send

# bytes of records committed between checkpoints: bounds the WAL, and what is left to copy back when the writer is done
# (the next commit after it, say the run's own end, would copy it: at 16 MB a backfill's last 70 ms went to that)
CHECKPOINT_EVERY = 4 << 20


class Checkpointer:
    """Copies the WAL back into the database from a thread of its own, once enough has been committed. Done by the
    commit that crosses the threshold, as SQLite does by default, the checkpoint's two fsyncs held up that commit and
    every page queued behind it: a quarter of the writer's wall time on a 100-page write."""

    def __init__(self, path: str, key: str | None, every: int = CHECKPOINT_EVERY) -> None:
        self._path, self._key, self._every, self._since = path, key, every, 0
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
        conn = cipher.driver(self._key).connect(self._path, timeout=60, isolation_level=None, check_same_thread=False)
        cipher.unlock(conn, self._key)
        try:
            while self._due.wait() and not self._closing:
                self._due.clear()
                # PASSIVE: copies what is committed without waiting for, or blocking, the writer and readers
                with contextlib.suppress(*cipher.errors()):  # a failing disk fails the next commit, with its error
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()

    def close(self) -> None:
        self._closing = True
        self._due.set()
        self._thread.join()


def serve(path: str, requests: IO[bytes], replies: IO[bytes]) -> None:
    """The child: store each page or change sent, answer with its counts, rowid or error; leave at end of input."""
    try:
        key = receive(requests)  # an encrypted store's key comes first, over the pipe
    except EOFError:
        return
    store = SqliteStore(path, key=key, write_process=False, autocheckpoint=False)
    checkpoints = Checkpointer(path, key)
    failed: set[int] = set()  # passes with a failed page: a later page of theirs would leave a gap behind it
    try:
        while True:
            try:
                message = receive(requests)
            except EOFError:
                return
            page, run_id = message if isinstance(message[0], PageWrite) else (None, 0)
            reply: Reply
            if page is not None and page.pass_id in failed:
                reply = (False, (f"a page of {page.dataset} not stored: the page before it failed", ""))
            else:
                try:
                    reply = (True, store.write(page, run_id) if page is not None else store.run_statements(message))
                    if page is not None:
                        checkpoints.committed(sum(len(record[2]) for record in page.encoded or ()))
                except Exception as exc:  # sent back, raised in the syncing process
                    reply = (False, (exc.message, exc.hint) if isinstance(exc, StoreError)
                             else (f"{type(exc).__name__}: {exc}", ""))
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
