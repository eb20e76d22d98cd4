"""Every auth scheme sends secrets with backticks, &, %, +, quotes, spaces and non-ASCII exactly; OAuth tokens are
cached, refreshed on expiry and on 401, and a refused token request says what to fix."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from http_helpers import NASTY, NASTY_ID, TinySim, header
from pydantic import SecretStr

from udc.config import BasicAuth, BearerAuth, ClientCredentialsAuth, PasswordGrantAuth
from udc.http.client import HttpClient, HttpError, TokenError
from udc.simulators.base import Response

Factory = Callable[..., HttpClient]


def client_credentials(url: str, **kw: str) -> ClientCredentialsAuth:
    return ClientCredentialsAuth(type="oauth_client_credentials", client_id=SecretStr(NASTY_ID),
                                 client_secret=SecretStr(NASTY), token_url=f"{url}/oauth/token", **kw)


def password_grant(url: str) -> PasswordGrantAuth:
    return PasswordGrantAuth(type="oauth_password", client_id=SecretStr(NASTY_ID), client_secret=SecretStr(NASTY),
                             username="svc ü&", password=SecretStr(NASTY))


def test_basic_auth_sends_the_exact_secret(tiny: TinySim, make_client: Factory) -> None:
    client = make_client(tiny.url, BasicAuth(type="basic", username="svc", password=SecretStr(NASTY)))
    assert client.get_json("/api/now/table/incident")["result"]
    sent = header(tiny.of("GET")[0], "authorization")
    assert base64.b64decode(sent.removeprefix("Basic ")).decode("utf-8") == f"svc:{NASTY}"


def test_bearer_token_is_sent_as_utf8_bytes(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme = "bearer"
    client = make_client(tiny.url, BearerAuth(type="bearer", token=SecretStr(NASTY)))
    assert client.get_json("/api/data")["result"]
    assert header(tiny.of("GET")[0], "authorization") == f"Bearer {NASTY}"


def test_client_credentials_form_decodes_to_the_exact_secrets(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme = "oauth"
    client = make_client(tiny.url, client_credentials(tiny.url, scope="api read"))
    assert client.get_json("/api/data")["result"]
    (post,) = tiny.of("POST", "/oauth/token")
    assert post.headers["content-type"].startswith("application/x-www-form-urlencoded")
    form = {k: v[0] for k, v in parse_qs(post.body.decode("ascii"), strict_parsing=True).items()}
    assert form == {"grant_type": "client_credentials", "client_id": NASTY_ID, "client_secret": NASTY,
                    "scope": "api read"}
    assert b"`" not in post.body and b" " not in post.body  # every reserved character is percent-encoded


def test_servicenow_password_grant_posts_form_to_oauth_token_do(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme, tiny.grant, tiny.username = "oauth", "password", "svc ü&"
    client = make_client(tiny.url, password_grant(tiny.url), token_url=f"{tiny.url}/oauth_token.do")
    assert client.get_json("/api/now/table/incident")["result"]
    (post,) = tiny.of("POST", "/oauth_token.do")
    form = {k: v[0] for k, v in parse_qs(post.body.decode("ascii"), strict_parsing=True).items()}
    assert form == {"grant_type": "password", "client_id": NASTY_ID, "client_secret": NASTY,
                    "username": "svc ü&", "password": NASTY}


def test_token_is_cached_and_shared_by_threads(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme = "oauth"
    client = make_client(tiny.url, client_credentials(tiny.url))
    threads = [threading.Thread(target=lambda: [client.get("/api/data") for _ in range(5)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tiny.of("GET", "/api/data")) == 40
    assert len(tiny.of("POST")) == 1


def test_token_refreshes_on_401_with_the_refresh_token(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme, tiny.grant, tiny.username = "oauth", "password", "svc ü&"
    client = make_client(tiny.url, password_grant(tiny.url), token_url=f"{tiny.url}/oauth_token.do")
    client.get("/api/data")
    tiny.revoke()  # the instance drops the session: the next call gets 401
    assert client.get_json("/api/data")["result"]
    grants = [r.form()["grant_type"] for r in tiny.of("POST")]
    assert grants == ["password", "refresh_token"]
    statuses = [r.path for r in tiny.of("GET")]
    assert len(statuses) == 3  # the call, its 401, the replay with the new token


def test_refused_refresh_token_falls_back_to_the_full_grant(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme, tiny.grant, tiny.username = "oauth", "password", "svc ü&"
    client = make_client(tiny.url, password_grant(tiny.url), token_url=f"{tiny.url}/oauth_token.do")
    client.get("/api/data")
    tiny.revoke()
    tiny.refresh.clear()
    assert client.get_json("/api/data")["result"]
    assert [r.form()["grant_type"] for r in tiny.of("POST")] == ["password", "refresh_token", "password"]


def test_token_refreshes_before_expiry(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme, tiny.expires_in, tiny.give_refresh = "oauth", 1799, False
    client = make_client(tiny.url, client_credentials(tiny.url))
    now = [1000.0]
    client.auth.clock = lambda: now[0]  # type: ignore[union-attr]
    client.get("/api/data")
    now[0] += 1799 - 61  # still fresh: refreshed a minute before expiry
    client.get("/api/data")
    assert len(tiny.of("POST")) == 1
    now[0] += 2
    client.get("/api/data")
    assert len(tiny.of("POST")) == 2
    assert len(tiny.of("GET")) == 3  # no request was sent with the expired token


def test_token_without_expiry_is_kept_until_a_401(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme, tiny.expires_in, tiny.give_refresh = "oauth", None, False  # Salesforce: no expires_in
    client = make_client(tiny.url, client_credentials(tiny.url))
    client.auth.clock = lambda: 1e12  # type: ignore[union-attr]
    for _ in range(3):
        client.get("/api/data")
    tiny.revoke()
    client.get("/api/data")
    assert len(tiny.of("POST")) == 2


def test_wrong_client_secret_is_a_token_error_with_the_fix(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme, tiny.client_secret = "oauth", "something else"
    client = make_client(tiny.url, client_credentials(tiny.url))
    with pytest.raises(TokenError) as caught:
        client.get("/api/data")
    assert caught.value.status == 401 and caught.value.error == "invalid_client"
    assert "client_id" in caught.value.hint and "client_secret" in caught.value.hint
    assert NASTY not in str(caught.value)
    assert len(tiny.of("POST")) == 1  # a refusal is not retried


def test_wrong_token_url_says_so(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme = "oauth"
    auth = client_credentials(tiny.url).model_copy(update={"token_url": f"{tiny.url}/oauth/tokn"})
    client = make_client(tiny.url, auth, token_urls=[f"{tiny.url}/oauth/tokn"])
    with pytest.raises(TokenError) as caught:
        client.get("/api/data")
    assert caught.value.status == 405  # what the tiny server says to a POST on an unknown path
    assert "token URL is wrong" in caught.value.hint


def test_token_endpoint_outage_is_retried(tiny: TinySim, make_client: Factory) -> None:
    tiny.scheme = "oauth"
    tiny.token_script.extend([Response.text("busy", 503), Response.text("<html>hibernating</html>", 200,
                                                                          "text/html")])
    client = make_client(tiny.url, client_credentials(tiny.url))
    assert client.get_json("/api/data")["result"]
    assert len(tiny.of("POST")) == 3 and client.stats.retries == 2


def test_401_with_basic_auth_is_not_retried_and_names_the_fix(tiny: TinySim, make_client: Factory) -> None:
    client = make_client(tiny.url, BasicAuth(type="basic", username="svc", password=SecretStr("wrong pass")))
    with pytest.raises(HttpError) as caught:
        client.get("/api/now/table/incident")
    assert caught.value.status == 401 and "User Not Authenticated" in caught.value.message
    assert "locked" in caught.value.hint
    assert len(tiny.of("GET")) == 1
