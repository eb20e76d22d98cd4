"""A tiny source for HTTP-layer tests: one JSON endpoint behind basic, bearer or OAuth, and a token endpoint that
checks exactly what it was sent. Built on the simulators' SimServer, so requests cross a real socket."""

from __future__ import annotations

import base64
import secrets
import threading
from collections import deque
from typing import Any

from stores import Backend
from udc.simulators.base import Request, Response, SimServer

# Every character class the product doc warns about: backtick, ampersand, percent, plus, both quotes, spaces,
# and non-ASCII (accented Latin, CJK, emoji), plus `=` and `#` which break naive form and URL encoding.
NASTY = "p`w&d%41+x 'q\"u=v#é漢🙂 !$"
NASTY_ID = "id+`&%20 ü=\"'"

UNAUTHORIZED = {"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
                "status": "failure"}


def header(request: Request, name: str) -> str:
    """A header as the client sent it: http.server decodes bytes as latin-1; undo that and decode UTF-8."""
    return request.headers.get(name, "").encode("latin-1").decode("utf-8")


class TinySim(SimServer):
    name = "tiny"

    def __init__(self) -> None:
        super().__init__()
        self.scheme = "basic"  # basic, bearer, oauth
        self.username, self.password, self.token = "svc", NASTY, NASTY
        self.client_id, self.client_secret = NASTY_ID, NASTY
        self.grant = "client_credentials"  # or password
        self.expires_in: int | None = 1799
        self.give_refresh = True
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.token_script: deque[Response] = deque()
        self.script: deque[Response] = deque()
        self.rows = [{"sys_id": f"{i:032x}", "n": i} for i in range(3)]
        self.lock = threading.Lock()

    # -- helpers for tests ------------------------------------------------------------------------------------
    def revoke(self) -> None:
        with self.lock:
            self.access.clear()

    def of(self, method: str | None = None, path: str | None = None) -> list[Request]:
        return [r for r in list(self.requests) if (method is None or r.method == method)
                and (path is None or r.path == path)]

    # -- routes -----------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path in ("/oauth_token.do", "/oauth/token"):
            return self._token(request)
        if request.method != "GET":
            return Response.json({"error": {"message": "method not allowed"}}, 405)
        if self.script:
            return self.script.popleft()
        if not self._authorized(request):
            return Response.json(UNAUTHORIZED, 401)
        return Response.json({"result": self.rows})

    def _authorized(self, request: Request) -> bool:
        value = header(request, "authorization")
        if self.scheme == "basic":
            if not value.startswith("Basic "):
                return False
            return base64.b64decode(value[6:]).decode("utf-8") == f"{self.username}:{self.password}"
        if self.scheme == "bearer":
            return value == f"Bearer {self.token}"
        with self.lock:
            return value.startswith("Bearer ") and value[7:] in self.access

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.json({"error": "invalid_request"}, 405)
        if self.token_script:
            return self.token_script.popleft()
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
            return Response.json({"error": "invalid_request", "error_description": "form-encoded body expected"}, 400)
        form = request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Response.json({"error": "invalid_client", "error_description": "invalid client credentials"}, 401)
        grant = form.get("grant_type")
        with self.lock:
            if grant == "refresh_token":
                if form.get("refresh_token") not in self.refresh:
                    return Response.json({"error": "invalid_grant", "error_description": "refresh token expired"}, 401)
            elif grant != self.grant:
                return Response.json({"error": "unsupported_grant_type"}, 400)
            elif grant == "password" and (form.get("username"), form.get("password")) != (self.username,
                                                                                            self.password):
                return Response.json({"error": "invalid_grant", "error_description": "access_denied"}, 401)
            access = secrets.token_urlsafe(24)
            self.access.add(access)
            body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "scope": "useraccount"}
            if self.expires_in is not None:
                body["expires_in"] = self.expires_in
            if self.give_refresh:
                refresh = secrets.token_urlsafe(24)
                self.refresh.add(refresh)
                body["refresh_token"] = refresh
        return Response.json(body)


# -- ServiceNow simulator configs ---------------------------------------------------------------------------------

SNOW_USER, SNOW_CLIENT_ID = "svc_udc", NASTY_ID


def snow_yaml(url: str, db: str, *, auth: str = "basic", tables: str = "[incident, problem]",
              **pipeline: object) -> str:
    """A udc.yaml for one ServiceNow connector `snow` and one pipeline `p`; secrets come from the environment
    (SNOW_PASSWORD, SNOW_CLIENT_ID, SNOW_CLIENT_SECRET) as they would in production."""
    if auth == "basic":
        auth_yaml = f"{{type: basic, username: {SNOW_USER}, password: 'env:SNOW_PASSWORD'}}"
    else:
        auth_yaml = (f"{{type: oauth_password, username: {SNOW_USER}, password: 'env:SNOW_PASSWORD', "
                     "client_id: 'env:SNOW_CLIENT_ID', client_secret: 'env:SNOW_CLIENT_SECRET'}")
    options = "".join(f"    {k}: {v}\n" for k, v in pipeline.items())
    return (f"store: {Backend.store_url(db)}\n"
            f"connectors:\n  snow:\n    type: servicenow\n    instance_url: {url}\n    auth: {auth_yaml}\n"
            f"pipelines:\n  p:\n    connector: snow\n    mode: historical\n    tables: {tables}\n{options}")
