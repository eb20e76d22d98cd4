"""The PostgreSQL store's writer process (see udc.store.writer): it stores each page the syncing process sends, in
order, on a connection of its own, and answers with its counts, id or error. A thread describes the next page for the
graph (its records' nodes, links and lexemes) while the connection waits on the server for this one. Started with
`python -c`, so it imports only the store, never the sources or the config."""

from __future__ import annotations

import sys

from udc.store.postgres import PostgresStore
from udc.store.postgres_graph import describe_ahead
from udc.store.writer import child_pipes, receive, serve


def main() -> None:
    """The child: opens the store from its first message (the syncing process's connection parameters and password,
    see PostgresStore._opening) and serves it."""
    requests, replies = child_pipes()
    # the connection's thread takes the GIL back from the describing one within 1 ms (not Python's 5) of each of the
    # server's dozen answers a page: the 100k-incident sync ran 4–23 % faster in three alternating A/B runs
    sys.setswitchinterval(0.001)
    try:
        target, password = receive(requests)
    except EOFError:
        return
    store = PostgresStore(target, password=password, write_process=False)
    try:
        serve(requests, replies, store.write_described, store.run_statements,
              prepare=lambda page: describe_ahead(page.dataset, page.encoded or []))
    finally:
        store.close()
