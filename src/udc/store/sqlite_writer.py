"""The SQLite store's writer process (see udc.store.writer): it stores each page or change the syncing process
sends, in order, and answers with its counts, rowid or error. Started with `python -c`, so it imports only the store,
never the sources or the config."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from udc.store import cipher
from udc.store.sqlite import SqliteStore
from udc.store.writer import child_pipes, receive, serve

# bytes of records committed between checkpoints: bounds the WAL, and what is left to copy back when the writer is done
# (the next commit after it, say the run's own end, would copy it: at 16 MB a backfill's last 70 ms went to that)
CHECKPOINT_EVERY = 4 << 20
# the WAL's size in frames (8 KB pages: 64 MB), as a passive checkpoint reports it, beyond which the writer starts the
# WAL over; what the writer commits while a checkpoint runs comes on top (it peaked at 247-272 MB in a 1,000,000-record
# sync)
RESTART_FRAMES = 8192


class Checkpointer:
    """Copies the WAL back into the database from a thread of its own, once enough has been committed. Done by the
    commit that crosses the threshold, as SQLite does by default, the checkpoint's two fsyncs held up that commit and
    every page queued behind it: a quarter of the writer's wall time on a 100-page write."""

    def __init__(self, path: str, key: str | None, restart: Callable[[], object], every: int = CHECKPOINT_EVERY,
                 restart_frames: int = RESTART_FRAMES) -> None:
        """`restart`: starts the WAL over, on the writer's own connection (called between its commits)."""
        self._path, self._key, self._every, self._since = path, key, every, 0
        self._restart, self._restart_frames, self._restart_due = restart, restart_frames, False
        self._due = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="udc-store-checkpoints", daemon=True)
        self._thread.start()

    def committed(self, size: int) -> None:
        if self._restart_due:
            with contextlib.suppress(*cipher.errors()):
                self._restart()
            self._restart_due = False  # (only now may the thread checkpoint again: a checkpoint makes another busy)
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
                if self._restart_due:
                    continue  # the writer's restart, which copies everything, comes first
                # PASSIVE: copies what is committed without waiting for, or blocking, the writer and readers
                with contextlib.suppress(*cipher.errors()):  # a failing disk fails the next commit, with its error
                    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    # a writer that never pauses has always committed more by the time a passive checkpoint ends,
                    # so SQLite never starts the WAL over and it grows with the store (2 GB at 1,000,000 records);
                    # a RESTART from this thread would wait for a gap between commits that its polling misses: the
                    # writer runs it, between two commits, copying what it committed while this checkpoint ran
                    self._restart_due = frames > self._restart_frames
        finally:
            conn.close()

    def close(self) -> None:
        self._closing = True
        self._due.set()
        self._thread.join()


def main() -> None:
    """The child: opens the store from its first message (path, key) and serves it (udc.store.writer.serve), with a
    thread that checkpoints the WAL."""
    requests, replies = child_pipes()
    try:
        path, key = receive(requests)  # an encrypted store's key comes over the pipe
    except EOFError:
        return
    store = SqliteStore(path, key=key, write_process=False, autocheckpoint=False, mapped=False)
    checkpoints = Checkpointer(path, key, store.restart_wal)
    try:
        serve(requests, replies, store.write_described, store.run_statements,
              committed=lambda page: checkpoints.committed(sum(len(record[2]) for record in page.encoded or ())))
    finally:
        checkpoints.close()
