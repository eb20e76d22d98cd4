"""Secrets only as references, and no cleartext credentials on the wire: literal secrets, passwords in URLs and plain
http:// to another machine are refused with the line and the fix; a lab's `allow_insecure_http` is warned on every
run; proxies from the environment are used; credentials never go to a host other than the source's; TLS is verified,
against a private CA when SSL_CERT_FILE names it."""

from __future__ import annotations

import http.client
import http.server
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from udc.cli import app
from udc.config import BasicAuth
from udc.http.client import HttpClient, OtherOrigin
from udc.simulators.servicenow import ServiceNowSim

SRC = Path(__file__).resolve().parents[2] / "src"
START = datetime(2025, 1, 1, tzinfo=UTC)
SNOW = """\
connectors:
  snow:
    type: servicenow
    instance_url: https://acme.service-now.com
    auth: {type: basic, username: svc_udc, password: env:SNOW_PASSWORD}
pipelines:
  p:
    connector: snow
    tables: [incident]
"""


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SNOW_PASSWORD", "not-the-literal")
    monkeypatch.chdir(tmp_path)


def validate(text: str, *commands: list[str]) -> list[str]:
    """The output of `udc config validate` (and of other commands) on a config; each must refuse it with exit 2
    and write nothing."""
    Path("udc.yaml").write_text(text)
    outputs = []
    for args in (["config", "validate"], *commands):
        result = CliRunner().invoke(app, [*args, "--config", "udc.yaml"])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        outputs.append(" ".join(result.output.split()))
    assert sorted(p.name for p in Path().iterdir()) == ["udc.yaml"]
    return outputs


@pytest.mark.parametrize(("key", "old", "new", "line"), [
    ("connectors.snow.auth.password", "env:SNOW_PASSWORD", "hunter2-literal", 5),
    ("connectors.snow.auth.token", "{type: basic, username: svc_udc, password: env:SNOW_PASSWORD}",
     "{type: bearer, token: tok-literal-123}", 5),
    ("connectors.snow.auth.client_secret", "{type: basic, username: svc_udc, password: env:SNOW_PASSWORD}",
     "{type: oauth_password, client_id: env:SNOW_PASSWORD, client_secret: csec-literal-9, username: u, "
     "password: env:SNOW_PASSWORD}", 5),
    ("pipelines.p.redaction.key", "    tables: [incident]\n",
     "    tables: [incident]\n    redaction:\n      enabled: true\n      key: 0123456789abcdef-literal\n", 12),
])
def test_a_literal_secret_in_the_file_is_refused_naming_the_key_and_line(key: str, old: str, new: str,
                                                                        line: int) -> None:
    literal = new.split(": ")[-1].rstrip("}\n").split(",")[0] if "literal" in new else new
    for output in validate(SNOW.replace(old, new), ["sync", "--pipeline", "p"], ["check", "--connector", "snow"]):
        assert f"udc.yaml:{line}: {key}: a secret is written in the file" in output
        assert "env:NAME" in output and "file:/path" in output
        assert "literal" not in output.replace(f"{key.rsplit('.', 1)[-1]}: a secret", ""), literal  # never echoed


def test_a_password_in_a_url_is_refused_and_never_printed() -> None:
    text = SNOW.replace("https://acme.service-now.com", "https://svc_udc:pw-in-url-77@acme.service-now.com")
    for output in validate(text, ["check", "--connector", "snow"]):
        assert "udc.yaml:4: connectors.snow.instance_url: the URL holds a user name or password" in output
        assert "pw-in-url-77" not in output


@pytest.mark.parametrize(("kind", "key", "block"), [
    ("servicenow", "instance_url", "type: servicenow\n    instance_url: {url}\n    auth: {{type: basic, username: u, "
                                   "password: env:SNOW_PASSWORD}}"),
    ("jira", "base_url", "type: jira\n    base_url: {url}\n    auth: {{type: bearer, token: env:SNOW_PASSWORD}}"),
    ("confluence", "base_url", "type: confluence\n    base_url: {url}\n    auth: {{type: bearer, token: "
                               "env:SNOW_PASSWORD}}"),
    ("salesforce", "instance_url", "type: salesforce\n    instance_url: {url}\n    auth: {{type: "
                                   "oauth_client_credentials, client_id: env:SNOW_PASSWORD, client_secret: "
                                   "env:SNOW_PASSWORD}}"),
    ("servicenow", "auth.token_url", "type: servicenow\n    instance_url: https://acme.service-now.com\n    auth: "
                                     "{{type: oauth_password, client_id: env:SNOW_PASSWORD, client_secret: "
                                     "env:SNOW_PASSWORD, username: u, password: env:SNOW_PASSWORD, token_url: "
                                     "'{url}/oauth_token.do'}}"),
])
def test_plain_http_is_refused_for_every_source_but_to_loopback(kind: str, key: str, block: str) -> None:
    tables = "objects: [Case]" if kind == "salesforce" else "tables: [incident]" if kind == "servicenow" else ""
    text = f"connectors:\n  c:\n    {{}}\npipelines:\n  p:\n    connector: c\n    {tables}\n"
    (output,) = validate(text.format(block.format(url="http://acme.example.com")))
    assert f"connectors.c: {key} must start with https://" in output
    assert "allow_insecure_http: true" in output
    for url in ("http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "https://acme.example.com"):
        Path("udc.yaml").write_text(text.format(block.format(url=url)))
        result = CliRunner().invoke(app, ["config", "validate", "--config", "udc.yaml"])
        assert result.exit_code == 0, (url, result.output)
    Path("udc.yaml").write_text(text.format(block.format(url="http://acme.example.com")
                                            + "\n    allow_insecure_http: true"))
    assert CliRunner().invoke(app, ["config", "validate", "--config", "udc.yaml"]).exit_code == 0


class _ForwardProxy(http.server.ThreadingHTTPServer):
    """A plain-HTTP forward proxy (absolute-form requests) that sends every request to one upstream port."""

    def __init__(self, upstream: int) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                proxy.seen.append(self.path)
                conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
                conn.request("GET", self.path, headers=dict(self.headers))
                answer = conn.getresponse()
                body = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


@pytest.fixture
def proxy_to(tmp_path: Path) -> Iterator[Callable[[int], _ForwardProxy]]:
    servers: list[_ForwardProxy] = []

    def start(upstream: int) -> _ForwardProxy:
        server = _ForwardProxy(upstream)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_lab_source_over_http_syncs_through_the_proxy_and_is_warned_on_every_run(
        tmp_path: Path, snow_sims: Callable[..., ServiceNowSim], proxy_to: Callable[[int], _ForwardProxy],
        monkeypatch: pytest.MonkeyPatch) -> None:
    sim = snow_sims("lab-pw-1234", 3, {"incident": 120}, START, timedelta(days=30), START + timedelta(days=60))
    lab = f"http://snow.lab.invalid:{sim.port}"  # resolvable only by the proxy: a request that bypassed it fails
    sim.public_url = lab
    proxy = proxy_to(sim.port)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("SNOW_PASSWORD", "lab-pw-1234")
    config = {"connectors": {"snow": {"type": "servicenow", "instance_url": lab, "allow_insecure_http": True,
                                      "auth": {"type": "basic", "username": "svc_udc",
                                               "password": "env:SNOW_PASSWORD"}}},
              "pipelines": {"p": {"connector": "snow", "batch_size": 50, "tables": ["incident"]}}}
    Path("udc.yaml").write_text(yaml.safe_dump(config))
    for run in range(2):
        result = CliRunner().invoke(app, ["sync", "--pipeline", "p", "--config", "udc.yaml"])
        assert result.exit_code == 0, result.output
        said = " ".join(result.output.split())
        assert f"snow: instance_url {lab} is plain http:// (allow_insecure_http: true)" in said, run
    assert len(proxy.seen) == len(sim.requests) > 3  # every request went through the proxy
    assert all(seen.startswith(f"{lab}/") for seen in proxy.seen)
    config["connectors"]["snow"]["allow_insecure_http"] = False
    Path("udc.yaml").write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["sync", "--pipeline", "p", "--config", "udc.yaml"])
    assert result.exit_code == 2 and "instance_url must start with https://" in result.output


def test_credentials_never_go_to_another_host(snow_sims: Callable[..., ServiceNowSim]) -> None:
    source = snow_sims("pw-origin-1234", 3, {"incident": 10}, START, timedelta(days=30), START + timedelta(days=60))
    elsewhere = snow_sims("pw-origin-1234", 3, {"incident": 10}, START, timedelta(days=30), START + timedelta(days=60))
    auth = BasicAuth(type="basic", username="svc_udc", password="pw-origin-1234")  # type: ignore[arg-type]
    with HttpClient(source.url, auth) as client:
        assert client.get("/api/now/table/incident", {"sysparm_limit": 1}).status_code == 200
        for link in (f"{elsewhere.url}/api/now/table/incident",  # another port
                     f"http://localhost:{source.port}/api/now/table/incident",  # another name for the host
                     f"https://127.0.0.1:{source.port}/api/now/table/incident"):  # another scheme
            with pytest.raises(OtherOrigin, match="credentials go only to http://127.0.0.1"):
                client.get(link)
    assert len(source.requests) == 1 and elsewhere.requests == []


def test_tls_is_verified_by_default_and_a_private_ca_is_trusted_through_ssl_cert_file(tmp_path: Path) -> None:
    """A source whose certificate no public CA signed: refused as untrusted, until SSL_CERT_FILE names its CA."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    sim = ServiceNowSim(seed=3, counts={"incident": 30}, start=START, span=timedelta(days=30),
                        users={"svc_udc": "tls-pw-1234"})
    sim.clock = START + timedelta(days=60)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sim._httpd.socket = context.wrap_socket(sim._httpd.socket, server_side=True)
    sim.start()
    try:
        url = f"https://127.0.0.1:{sim.port}"
        sim.public_url = url
        Path("udc.yaml").write_text(yaml.safe_dump({
            "connectors": {"snow": {"type": "servicenow", "instance_url": url,
                                    "auth": {"type": "basic", "username": "svc_udc", "password": "env:PW"}}},
            "pipelines": {"p": {"connector": "snow", "tables": ["incident"]}}}))
        env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        env["PW"] = "tls-pw-1234"

        def sync(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "udc", "sync", "--pipeline", "p", "--config", "udc.yaml"],
                                  env={**env, **extra}, capture_output=True, text=True, timeout=120)

        refused = sync({})
        assert refused.returncode == 1 and "certificate is not trusted" in refused.stderr, refused.stderr
        assert not any(r.path.startswith("/api/") for r in sim.requests)  # nothing was sent: no credentials
        trusted = sync({"SSL_CERT_FILE": str(cert)})
        assert trusted.returncode == 0, trusted.stderr
        assert sum(r.path == "/api/now/table/incident" for r in sim.requests) >= 1
    finally:
        sim.stop()


@pytest.mark.parametrize(("mode", "warned"), [(0o644, True), (0o640, True), (0o600, False), (0o400, False)])
def test_a_secret_file_readable_by_others_is_warned(tmp_path: Path, mode: int, warned: bool) -> None:
    secret = tmp_path / "snow.pw"
    secret.write_text("s3cret-from-a-file\n")
    secret.chmod(mode)
    Path("udc.yaml").write_text(SNOW.replace("env:SNOW_PASSWORD", f"file:{secret}"))
    result = subprocess.run([sys.executable, "-m", "udc", "config", "validate", "--config", "udc.yaml"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    assert result.returncode == 0, result.stderr
    said = f"secret file {secret} can be read by its group or by others (mode {mode:o}); run: chmod 600 {secret}"
    assert (said in " ".join(result.stderr.split())) is warned, result.stderr
    assert "s3cret-from-a-file" not in result.stdout + result.stderr
