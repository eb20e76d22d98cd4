"""Store writes in a child process.

Storing a page (the database's per-row work, the graph's description of its records, the commit) costs about as much
CPU as fetching and parsing it. In a thread of the syncing process it fights the reading threads for the GIL; in a
child process it runs on another core, while the syncing thread reads the next page. Each store has its child module
(udc.store.sqlite_writer, udc.store.postgres_writer), whose `main` opens the store from the first message and hands
it to `serve`: it runs the store's `write`, one transaction per page, in the order pages are submitted, and answers
each with its counts, which resolve the page's future: the page and its state are committed when it resolves. Run and
ledger updates go through it too, so there is one writer and nothing waits on another's lock. The child has no
secrets in its environment (a short allow-list, INHERITED) or command line: what it needs to open the store (an
encrypted store's key, a PostgreSQL password) is its first message, over the pipe. It writes nothing but the store. It
leaves when its input closes (the syncing process ended, even by kill -9, after the page in hand is committed or
rolled back); terminal and supervisor signals go to the syncing process, which stops once the pages it handed over
are committed. This side imports no database driver: the child sends its errors as the StoreError to raise.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any, overload

from udc.errors import StoreError, UdcError
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

    def __init__(self, child: str, opening: object) -> None:
        """`child`: the store's child module (its `main` serves); `opening`: what it opens the store with, sent as
        the first message (an encrypted store's key, a password: never on the command line or in the
        environment)."""
        self._proc = subprocess.Popen([sys.executable, "-c", f"from {child} import main; main()"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=child_environment(),
                                      start_new_session=True)
        assert self._proc.stdin and self._proc.stdout
        self._requests, self._answers = self._proc.stdin, self._proc.stdout
        with contextlib.suppress(OSError):  # the child is gone: the reply reader fails every page
            send(self._requests, opening)
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


def child_pipes() -> tuple[IO[bytes], IO[bytes]]:
    """The child's side (in its `main`, first): its requests and replies. Signals are the syncing process's to act
    on; stdout becomes stderr, so a stray print cannot corrupt the replies."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return sys.stdin.buffer, replies


def serve(requests: IO[bytes], replies: IO[bytes], write: Callable[[PageWrite, int, Any], UpsertCounts],
          run_statements: Callable[[Sequence[Statement]], int], prepare: Callable[[PageWrite], Any] | None = None,
          committed: Callable[[PageWrite], None] | None = None) -> None:
    """The child, once its store is open: store each page (`write(page, run_id, prepared)`) or statements sent,
    answer with its counts, rowid or error; leave at end of input. Once a page of a stream's pass fails, the later
    pages of that pass are refused: a stored position never jumps over records that were not stored. `prepare`: work
    on a page before its transaction (its result is `prepared`, else None), done by a thread of its own for the next
    page while `write` waits on the database for this one. `committed`: called after each page is stored."""
    failed: set[int] = set()  # passes with a failed page: a later page of theirs would leave a gap behind it
    for message, prepared in _prepared(requests, prepare) if prepare else _received(requests):
        page, run_id = message if isinstance(message[0], PageWrite) else (None, 0)
        reply: Reply
        if page is not None and page.pass_id in failed:
            reply = (False, (f"a page of {page.dataset} not stored: the page before it failed", ""))
        else:
            try:
                if isinstance(prepared, Exception):
                    raise prepared
                reply = (True, write(page, run_id, prepared) if page is not None else run_statements(message))
                if page is not None and committed is not None:
                    committed(page)
            except Exception as exc:  # sent back, raised in the syncing process
                reply = (False, (exc.message, exc.hint) if isinstance(exc, UdcError)
                         else (f"{type(exc).__name__}: {exc}", ""))
                if page is not None and page.pass_id:
                    failed.add(page.pass_id)
        send(replies, reply)


def _received(requests: IO[bytes]) -> Iterator[tuple[Any, None]]:
    while True:
        try:
            yield receive(requests), None
        except EOFError:
            return


def _prepared(requests: IO[bytes], prepare: Callable[[PageWrite], Any]) -> Iterator[tuple[Any, Any]]:
    """The messages with their pages prepared (or the exception preparing raised), one page ahead of the writing:
    the queue holds one, so the pipe still holds the syncing process back when the writing falls behind."""
    ready: queue.Queue[tuple[Any, Any] | None] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            for message, _ in _received(requests):
                prepared: Any = None
                if isinstance(message[0], PageWrite):
                    try:
                        prepared = prepare(message[0])
                    except Exception as exc:  # the page fails when its turn comes
                        prepared = exc
                ready.put((message, prepared))
        finally:  # at the end of input, or of what could be read: the child leaves, and the pages not answered fail
            ready.put(None)

    threading.Thread(target=run, name="udc-store-prepare", daemon=True).start()
    while (item := ready.get()) is not None:
        yield item
