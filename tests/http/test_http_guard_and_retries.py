"""The client refuses anything but GET (POST only to the configured token endpoint), retries what is transient,
honours Retry-After and rate-limit reset headers exactly, and stops when the run's retry budget is spent."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from email.utils import formatdate

import httpx
import pytest
from http_helpers import NASTY, NASTY_ID, TinySim
from pydantic import SecretStr

from udc.config import BasicAuth, ClientCredentialsAuth
from udc.errors import RetryBudgetExceeded
from udc.http.budget import RetryBudget
from udc.http.client import HttpClient, HttpError, ReadOnlyViolation
from udc.simulators.base import Response

Factory = Callable[..., HttpClient]
BASIC = BasicAuth(type="basic", username="svc", password=SecretStr(NASTY))


# -- read-only guard ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_non_get_requests_never_leave_the_process(tiny: TinySim, make_client: Factory, method: str) -> None:
    client = make_client(tiny.url, BASIC)
    with pytest.raises(ReadOnlyViolation, match="read-only"):
        client._http.request(method, f"{tiny.url}/api/now/table/incident", json={"short_description": "x"})
    assert tiny.requests == []


def test_only_the_configured_token_endpoint_may_receive_a_post(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme = "oauth"
    auth = ClientCredentialsAuth(type="oauth_client_credentials", client_id=SecretStr(NASTY_ID),
                                 client_secret=SecretStr(NASTY), token_url=f"{tiny.url}/oauth/token")
    client = make_client(tiny.url, auth)
    client.get("/api/data")  # the token POST is allowed...
    for path in ("/oauth/token2", "/oauth/token/../../api/now/table/incident", "/api/now/table/incident"):
        with pytest.raises(ReadOnlyViolation):
            client._http.post(f"{tiny.url}{path}", data={"x": "y"})
    with pytest.raises(ReadOnlyViolation):  # ...but only as a POST, and only to that exact endpoint
        client._http.delete(f"{tiny.url}/oauth/token")
    assert [(r.method, r.path) for r in tiny.requests] == [("POST", "/oauth/token"), ("GET", "/api/data")]


# -- retries -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["500", "502", "503", "reset", "truncated", "html200"])
def test_transient_faults_are_retried(tiny: TinySim, make_client: Factory, fault: str) -> None:
    tiny.faults.script([fault, fault])
    client = make_client(tiny.url, BASIC)
    assert client.get_json("/api/data")["result"] == tiny.rows
    assert len(tiny.requests) == 3 and client.stats.retries == 2


def test_slow_response_times_out_and_is_retried(tiny: TinySim, make_client: Factory) -> None:
    tiny.faults.slow_seconds = 1.0
    tiny.faults.script(["slow"])
    client = make_client(tiny.url, BASIC, timeout=0.2)
    assert client.get_json("/api/data")["result"] == tiny.rows
    assert client.stats.faults == {"timeout": 1}


def test_client_errors_are_not_retried(tiny: TinySim, make_client: Factory) -> None:
    tiny.script.append(Response.json({"error": {"message": "Invalid table incidnt"}, "status": "failure"}, 400))
    client = make_client(tiny.url, BASIC)
    with pytest.raises(HttpError, match="Invalid table incidnt") as caught:
        client.get("/api/now/table/incidnt")
    assert caught.value.status == 400 and len(tiny.requests) == 1


def test_html_instead_of_json_is_reported_after_retries(tiny: TinySim, make_client: Factory) -> None:
    tiny.faults.script(["html200"] * 3)
    client = make_client(tiny.url, BASIC, max_retries=2)
    with pytest.raises(HttpError, match="HTML page instead of JSON") as caught:
        client.get("/api/data")
    assert caught.value.kind == "html" and "hibernating" in caught.value.hint


def test_retry_budget_spent_stops_with_a_clean_error(tiny: TinySim, make_client: Factory) -> None:
    tiny.faults.script(["500"] * 10)
    client = make_client(tiny.url, BASIC, retries=RetryBudget(3))
    with pytest.raises(RetryBudgetExceeded, match="retry budget of 3") as caught:
        client.get("/api/data")
    assert "progress" in caught.value.hint
    assert len(tiny.requests) == 4


def test_shrinkable_requests_give_up_on_a_gateway_error_at_once(tiny: TinySim, make_client: Factory) -> None:
    tiny.faults.script(["502"] * 4)
    client = make_client(tiny.url, BASIC)
    with pytest.raises(HttpError) as caught:
        client.get("/api/data", shrinkable=True)
    assert caught.value.batch_sensitive and len(tiny.requests) == 1 and client.retries.used == 0
    assert client.get_json("/api/data")["result"]  # an ordinary GET keeps retrying through the rest
    assert len(tiny.requests) == 5


def test_response_over_the_size_cap_is_batch_sensitive(tiny: TinySim, make_client: Factory) -> None:
    tiny.rows = [{"sys_id": f"{i:032x}", "work_notes": "x" * 1000} for i in range(50)]
    client = make_client(tiny.url, BASIC, max_response_bytes=10_000)
    with pytest.raises(HttpError) as caught:
        client.get("/api/data", shrinkable=True)
    assert caught.value.kind == "too_large" and caught.value.batch_sensitive
    assert len(tiny.requests) == 1


def test_backoff_is_full_jitter_and_capped() -> None:
    client = HttpClient("http://127.0.0.1:9", None, backoff_base=0.5, backoff_cap=4.0)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)):
        delays = [client._delay(attempt) for _ in range(200)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) > ceiling / 2  # spread over the whole range, not a fixed step
    client.close()


# -- Retry-After and rate-limit reset, honoured exactly ---------------------------------------------------------

def _gap_after_429(tiny: TinySim) -> float:
    first, second = tiny.requests[0].at, tiny.requests[1].at
    return second - first


@pytest.mark.parametrize("value", ["1", "2"])
def test_retry_after_seconds_are_honoured_exactly(tiny: TinySim, make_client: Factory, value: str) -> None:
    tiny.script.append(Response.json({"error": {"message": "Too Many Requests"}}, 429, {"Retry-After": value}))
    client = make_client(tiny.url, BASIC)
    client.get("/api/data")
    assert float(value) <= _gap_after_429(tiny) < float(value) + 0.4


def test_retry_after_http_date_is_honoured(tiny: TinySim, make_client: Factory) -> None:
    at = time.time() + 2
    tiny.script.append(Response.json({}, 503, {"Retry-After": formatdate(at, usegmt=True)}))
    client = make_client(tiny.url, BASIC)
    client.get("/api/data")
    assert tiny.requests[1].at >= int(at) - 0.01  # HTTP dates have whole seconds


def test_rate_limit_reset_is_honoured_without_retry_after(tiny: TinySim, make_client: Factory) -> None:
    reset = time.time() + 1.5
    tiny.script.append(Response.json({}, 429, {"X-RateLimit-Reset": f"{reset:.3f}", "X-RateLimit-Limit": "100"}))
    client = make_client(tiny.url, BASIC)
    client.get("/api/data")
    assert reset - 0.01 <= tiny.requests[1].at < reset + 0.4


def test_retry_after_holds_every_thread_of_the_connector(tiny: TinySim, make_client: Factory) -> None:
    client = make_client(tiny.url, BASIC)
    tiny.script.append(Response.json({}, 429, {"Retry-After": "1"}))
    client.get("/api/data")  # the 429, then the retry a second later
    released = tiny.requests[-1].at
    tiny.script.append(Response.json({}, 429, {"Retry-After": "1"}))
    got_429 = threading.Event()
    original = client.budget.pause

    def pause(seconds: float) -> None:
        original(seconds)
        got_429.set()

    client.budget.pause = pause  # type: ignore[method-assign]
    worker = threading.Thread(target=client.get, args=("/api/data",))
    worker.start()
    assert got_429.wait(5)
    paused_at = time.time()
    client.get("/api/data")  # another caller: held by the same pause
    worker.join()
    later = [r.at for r in tiny.requests if r.at > released + 0.001][1:]
    assert later and min(later) >= paused_at + 0.9


def test_a_very_long_retry_after_stops_the_run_checkpointed(tiny: TinySim, make_client: Factory) -> None:
    tiny.script.append(Response.json({}, 429, {"Retry-After": "7200"}))
    client = make_client(tiny.url, BASIC, max_wait=600)
    with pytest.raises(RetryBudgetExceeded, match="asked to wait 7,200s"):
        client.get("/api/data")


# -- connection failures are told apart -----------------------------------------------------------------------

def test_dns_failure(make_client: Factory) -> None:
    client = make_client("http://udc-check.invalid", BASIC, max_retries=0)
    with pytest.raises(HttpError) as caught:
        client.get("/api/now/table/incident")
    assert caught.value.kind == "dns" and "DNS" in caught.value.message


def test_refused_connection(make_client: Factory) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", BASIC, max_retries=0)
    with pytest.raises(HttpError) as caught:
        client.get("/api/now/table/incident")
    assert caught.value.kind == "refused" and "allow-list" in caught.value.hint


def test_a_refused_first_request_fails_at_once_without_retrying(make_client: Factory) -> None:
    """A wrong URL or port: said at once with the fix, not after a minute of retries."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", BASIC, max_retries=8, backoff_base=5.0, backoff_cap=30.0)
    with pytest.raises(HttpError) as caught:
        client.get("/api/now/table/incident")
    assert caught.value.kind == "refused"
    assert client.stats.calls == 1 and client.stats.retries == 0  # one attempt: no backoff waited


def test_a_refused_connection_after_the_source_answered_is_retried(make_client: Factory) -> None:
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_once_then_go() -> None:  # the source answers, then goes away mid-run: a blip, retried
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                     b"Connection: close\r\n\r\n{}")
        conn.close()
        listener.close()

    thread = threading.Thread(target=answer_once_then_go)
    thread.start()
    client = make_client(f"http://127.0.0.1:{listener.getsockname()[1]}", BASIC, max_retries=2)
    client.get("/api/now/table/incident")
    thread.join()
    with pytest.raises(HttpError) as caught:
        client.get("/api/now/table/incident")
    assert caught.value.kind == "refused" and client.stats.retries == 2




def test_tls_failure(make_client: Factory, self_signed: str) -> None:
    client = make_client(self_signed, BASIC, max_retries=0)
    with pytest.raises(HttpError) as caught:
        client.get("/api/now/table/incident")
    assert caught.value.kind == "tls" and "certificate" in caught.value.hint


def test_redirect_is_reported_not_followed(tiny: TinySim, make_client: Factory) -> None:
    tiny.script.append(Response(302, b"", {"Location": "https://sso.example.com/login"}))
    client = make_client(tiny.url, BASIC)
    with pytest.raises(HttpError, match="sso.example.com") as caught:
        client.get("/api/data")
    assert caught.value.kind == "redirect" and len(tiny.requests) == 1


def test_httpx_errors_do_not_escape(tiny: TinySim, make_client: Factory) -> None:
    tiny.faults.script(["reset"] * 3)
    client = make_client(tiny.url, BASIC, max_retries=2)
    with pytest.raises(HttpError) as caught:
        client.get("/api/data")
    assert caught.value.kind == "reset"
    assert not isinstance(caught.value, httpx.HTTPError)
