"""Running the dashboard: checks before anything listens (a token beyond loopback, a free port), then uvicorn in the
foreground (`udc serve`) or in a thread beside a job (`udc run --serve`, `udc demo --serve`)."""

from __future__ import annotations

import errno
import functools
import logging
import signal
import socket
import threading
from collections.abc import Callable

import uvicorn

from udc.config import Config
from udc.errors import ConfigError, NoStoreYet
from udc.secrets import ScrubFilter, register
from udc.serve.app import PAGES_REFRESH, create_app
from udc.serve.auth import Guard, check_binding
from udc.serve.settings import DEFAULT_HOST, DEFAULT_PORT
from udc.serve.views import Views
from udc.store import StoreReader, open_reader


class Dashboard:
    """`Dashboard(config, host, port, token)` checks the binding and opens the store (or, when nothing has been
    synced yet, says so in `waiting` and answers 503 until the store appears); `run()` serves until stopped,
    `start()` serves from a thread until `stop()`."""

    def __init__(self, config: Config, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                 token: str | None = None, refresh: int = PAGES_REFRESH) -> None:
        check_binding(host, token)
        if token:
            register(token)  # never in a log line or an error, whatever prints it
        secret = config.store_secret()
        reopen = functools.partial(open_reader, config.store, secret)
        try:  # a store refused (its login, its version) is said now, exit 2
            reader: StoreReader | Callable[[], StoreReader] = reopen()
            self.waiting: NoStoreYet | None = None
        except NoStoreYet as exc:  # started before the first sync (Compose starts every service at once)
            reader, self.waiting = reopen, exc
        self.socket = _bind(host, port)
        self.host, self.port = host, self.socket.getsockname()[1]
        self.views = Views(config, reader, reopen=reopen)
        self.app = create_app(self.views, Guard(token), refresh)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).addFilter(ScrubFilter())
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", access_log=False,
                                                    server_header=False))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def run(self) -> None:
        """Serve in this thread until Ctrl-C or SIGTERM, then exit 0: the normal end of a service. (uvicorn shuts
        down on either and raises it again to the handler it found: this one, which has nothing left to do.)"""
        previous = {sig: signal.signal(sig, self._stop_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.server.run(sockets=[self.socket])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()

    def _stop_signal(self, signum: int, frame: object) -> None:
        self.server.should_exit = True  # before uvicorn takes the signals over, or raised again after it stopped

    def start(self) -> Dashboard:
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]},
                                        name="udc-serve", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.close()

    def close(self) -> None:
        self.socket.close()
        self.views.close()


def _bind(host: str, port: int) -> socket.socket:
    """Listen before serving, so a port in use is refused with the fix (exit 2) instead of a log line."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is in use by another program",
                              f"stop it, or pick another port: --port {port + 1}") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          "give --host an address of this machine (127.0.0.1, 0.0.0.0 or one of its IPs)") from None
    return sock


__all__ = ["Dashboard"]
