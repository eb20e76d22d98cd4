"""A small, real HTTP server that simulators build on: routing hook, a request log for tests, and fault injection.

Simulators are black boxes to the connectors: they speak HTTP on localhost exactly like the vendor APIs
(see docs/source-apis.md), so the connector code under test is the code users run.
"""

from __future__ import annotations

import base64
import random
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

FAULT_KINDS = ("429", "500", "502", "503", "slow", "reset", "truncated", "html200")


def decode_basic(credentials: str) -> tuple[str, str]:
    """(user, secret) of a Basic authorization's credentials; empty when they are not base64 of UTF-8 text."""
    try:
        user, _, secret = base64.b64decode(credentials).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return "", ""
    return user, secret


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    at: float = field(default_factory=time.time)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, orjson.dumps(payload), {"Content-Type": "application/json;charset=UTF-8", **(headers or {})})

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Response:
        return cls(status, text.encode(), {"Content-Type": f"{content_type};charset=UTF-8"})


HIBERNATING_HTML = (
    "<html><head><title>Instance Hibernating page</title></head><body><h1>Your instance is hibernating</h1>"
    "<p>Sign in to wake it up.</p></body></html>"
)


class Faults:
    """Scripted and random faults. Scripted ones fire first, in order; then each request faults with `rate`.

    Only requests whose path starts with one of `paths` fault (default: every path), so a test can keep the token
    endpoint healthy while the data endpoint misbehaves.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: deque[str] = deque()
        self.rate = 0.0
        self.kinds: tuple[str, ...] = FAULT_KINDS
        self.paths: tuple[str, ...] = ("/",)
        self.retry_after = 1
        self.slow_seconds = 5.0
        self.latency = 0.0  # added to every request (benchmarks)
        self._rng = random.Random(0)
        self.fired: list[str] = []

    def script(self, kinds: Iterable[str]) -> None:
        with self._lock:
            self._script.extend(kinds)

    def randomly(self, rate: float, kinds: Iterable[str] = FAULT_KINDS, seed: int = 0) -> None:
        with self._lock:
            self.rate, self.kinds, self._rng = rate, tuple(kinds), random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self._script.clear()
            self.rate = 0.0

    def next_for(self, path: str) -> str | None:
        if not path.startswith(self.paths):
            return None
        with self._lock:
            kind = self._script.popleft() if self._script else None
            if kind is None and self.rate and self._rng.random() < self.rate:
                kind = self._rng.choice(self.kinds)
            if kind:
                self.fired.append(kind)
            return kind


class SimServer:
    """Subclasses implement `handle`. `start()` serves on a free localhost port in a daemon thread."""

    name = "simulator"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.faults = Faults()
        self.requests: list[Request] = []
        self._log_lock = threading.Lock()
        self._httpd = _Server((host, port), _handler_for(self))
        self.host, self.port = str(self._httpd.server_address[0]), int(self._httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-sim", daemon=True)  # quick stop() in tests
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._thread = threading.current_thread()
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve loop: never started, it would hang forever
            self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log(self, request: Request) -> None:
        with self._log_lock:
            self.requests.append(request)

    def handle(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def fault_response(self, kind: str, request: Request) -> Response | None:
        """The response a fault produces; None for faults handled at the socket level (reset, slow, truncated)."""
        if kind == "429":
            retry_after = {"Retry-After": str(self.faults.retry_after)}
            return Response.json({"error": {"message": "Too Many Requests"}}, 429, retry_after)
        if kind in ("500", "502", "503"):
            return Response.text(f"<html><body>{kind} Error</body></html>", int(kind), "text/html")
        if kind == "html200":
            return Response.text(HIBERNATING_HTML, 200, "text/html")
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hung up mid-response (a closed keep-alive connection) is no simulator fault: socketserver
        # would print its traceback to stderr, into the output of the CLI under test
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(sim: SimServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes: without this, 40 ms per request

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr access log
            pass

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            sim.log(request)
            if sim.faults.latency:
                time.sleep(sim.faults.latency)
            fault = sim.faults.next_for(request.path)
            if fault == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
                self.connection.close()
                return
            if fault == "slow":
                time.sleep(sim.faults.slow_seconds)
            response = (sim.fault_response(fault, request) if fault else None) or sim.handle(request)
            body = response.body
            if fault == "truncated" and response.status == 200:
                body = body[: max(1, len(body) // 2)]
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    return Handler
