"""The simulators' HTTP server: a client that hangs up is no error worth a traceback on stderr (the CLI under test
shares that stderr, and a traceback there broke a test's JSON output); a real fault in a handler still is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from udc.simulators.base import _Server


@pytest.fixture()
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), object)  # (no request is served: only handle_error is called)
    yield srv
    srv.server_close()


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset by peer")])
def test_a_client_that_hung_up_prints_nothing(server: _Server, error: Exception,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise error
    except OSError:
        server.handle_error(None, ("127.0.0.1", 5555))
    assert capsys.readouterr().err == ""


def test_a_fault_in_a_handler_is_still_printed(server: _Server, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise ValueError("a bug in a simulator's handler")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 5555))
    assert "a bug in a simulator's handler" in capsys.readouterr().err
