"""Secrets never leave memory (invariant 8): unique canary secrets are planted in every secret-bearing field and
variable — connector passwords, tokens, OAuth client ids and secrets, the redaction key, a wrong password, a proxy
password — then udc validates, syncs (verbose, --json), fails authentication, checks, backfills, reports, exports
and crashes on a bug. No canary may appear, in any encoding, in any file written, in any output, or in the writer
child's environment."""

from __future__ import annotations

import base64
import json
import os
import secrets as stdlib_secrets
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import typer
import yaml
from typer.testing import CliRunner

from udc import secrets
from udc.cli import app
from udc.cli.common import guarded
from udc.simulators.servicenow import ServiceNowSim

START = datetime(2025, 1, 1, tzinfo=UTC)


def canary(kind: str) -> str:
    return f"cnry-{kind}-{stdlib_secrets.token_hex(8)}"


def encodings(value: str, user: str | None = None) -> set[str]:
    """Every form a secret could leak in: as is, URL-encoded, JSON-escaped, and base64 (alone, or as Basic auth)."""
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1],
             base64.b64encode(value.encode()).decode().rstrip("=")}
    if user is not None:
        forms.add(base64.b64encode(f"{user}:{value}".encode()).decode().rstrip("="))
    return forms


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def udc(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "udc", *args], env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_no_canary_reaches_a_file_an_output_or_the_writer_child(tmp_path: Path,
                                                                 snow_sims: Callable[..., ServiceNowSim]) -> None:
    c = {kind: canary(kind) for kind in ("pw", "wrongpw", "jira", "sfid", "sfsecret", "oauthid", "oauthsecret",
                                          "redkey", "udckey", "proxypw")}
    sim = snow_sims(c["pw"], 7, {"incident": 300, "sys_user": 40}, START, timedelta(days=60),
                    START + timedelta(days=90), oauth_clients={c["oauthid"]: c["oauthsecret"]})
    secret_dir = tmp_path / "secrets"  # the one place the secrets are meant to be: outside what udc writes
    secret_dir.mkdir()
    (secret_dir / "sf.secret").write_text(c["sfsecret"] + "\n")
    (secret_dir / "wrong.pw").write_text(c["wrongpw"])
    work = tmp_path / "work"
    work.mkdir()
    config = {
        "store": "sqlite:///udc.db",
        "connectors": {
            "snow": {"type": "servicenow", "instance_url": sim.url,
                     "auth": {"type": "basic", "username": "svc_udc", "password": "env:CANARY_SNOW_PW"}},
            "bad": {"type": "servicenow", "instance_url": sim.url,
                    "auth": {"type": "basic", "username": "svc_udc", "password": f"file:{secret_dir / 'wrong.pw'}"}},
            "oauth": {"type": "servicenow", "instance_url": sim.url,
                      "auth": {"type": "oauth_password", "client_id": "env:CANARY_OAUTH_ID",
                               "client_secret": "env:CANARY_OAUTH_SECRET", "username": "svc_udc",
                               "password": "env:CANARY_SNOW_PW"}},
            "jira": {"type": "jira", "base_url": "https://acme.atlassian.net",
                     "auth": {"type": "bearer", "token": "env:CANARY_JIRA"}},
            "sf": {"type": "salesforce", "instance_url": "https://acme.my.salesforce.com",
                   "auth": {"type": "oauth_client_credentials", "client_id": "env:CANARY_SF_ID",
                            "client_secret": f"file:{secret_dir / 'sf.secret'}"}},
        },
        "pipelines": {
            "hist": {"connector": "snow", "batch_size": 50, "tables": ["sys_user", "incident"],
                     "redaction": {"enabled": True, "key": "env:CANARY_REDACTION_KEY"}},
            "incr": {"connector": "snow", "mode": "incremental", "batch_size": 100, "tables": ["incident"],
                     "redaction": {"enabled": True}},
            "denied": {"connector": "bad", "tables": ["incident"]},
            "oauth": {"connector": "oauth", "tables": ["incident"]},
            "issues": {"connector": "jira", "jql": "project = OPS"},
            "cases": {"connector": "sf", "objects": ["Case"]},
        },
    }
    cfg = work / "udc.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    env = {**os.environ, "COLUMNS": "200", "CANARY_SNOW_PW": c["pw"], "CANARY_JIRA": c["jira"],
           "CANARY_SF_ID": c["sfid"], "CANARY_OAUTH_ID": c["oauthid"], "CANARY_OAUTH_SECRET": c["oauthsecret"],
           "CANARY_REDACTION_KEY": c["redkey"], "UDC_REDACTION_KEY": c["udckey"],
           # a proxy that must not be used for loopback (NO_PROXY), whose password must not leak either
           "HTTPS_PROXY": f"http://proxyuser:{c['proxypw']}@proxy.invalid:3128", "NO_PROXY": "127.0.0.1,localhost"}
    outputs: list[str] = []
    environs: list[bytes] = []

    def run(*args: str, code: int | None = 0, hold: int | None = None, child: bool = False) -> None:
        proc = udc(*args, "--config", str(cfg), env=env) if child else None
        if hold is not None:  # while a table request is in flight the writer child is alive: read its environment
            def look(_request: object, pid: int = proc.pid if proc else os.getpid()) -> None:
                for writer in children(pid):
                    environs.append(Path(f"/proc/{writer}/environ").read_bytes())
            sim.on_request(sim.table_request_count + hold, look)
        if proc is None:  # in this process (faster), its environment holding every canary meanwhile
            result = CliRunner().invoke(app, [*args, "--config", str(cfg)], env=env)
            outputs.append(result.output)
            assert code is None or result.exit_code == code, f"{args}: exit {result.exit_code}\n{result.output}"
            return
        out, err = proc.communicate(timeout=120)
        outputs.extend([out, err])
        if code is not None:
            assert proc.returncode == code, f"{args}: exit {proc.returncode}\n{out}\n{err}"

    run("config", "validate")
    run("sync", "--pipeline", "hist", "--json", "--verbose", hold=4, child=True)
    run("sync", "--pipeline", "incr", "--json", hold=2)
    run("sync", "--pipeline", "oauth", "--json")
    run("sync", "--pipeline", "denied", "--json", "--verbose", code=1, child=True)  # authentication fails
    run("check", "--connector", "snow", "--json")
    run("check", "--connector", "bad", "--json", code=1)
    run("check", "--connector", "oauth")
    run("backfill", "--pipeline", "incr", "--start", "2025-01-01", "--end", "2025-02-15", code=None)
    run("backfill", "status", "--json")
    run("status", "--json")
    run("export", "--pipeline", "hist", "--table", "incident", "--format", "jsonl", "--out", str(work / "e.jsonl"))
    run("export", "--pipeline", "hist", "--table", "sys_user", "--format", "csv", "--out", str(work / "u.csv"))
    run("sync", "--pipeline", "cases", "--json", code=None)  # an unreachable Salesforce: an error naming the host

    assert len(environs) == 2 and all(b"PYTHONPATH" in e for e in environs)
    written = [p for p in work.rglob("*") if p.is_file()]
    assert {"udc.db", "e.jsonl", "u.csv"} <= {p.name for p in written}
    assert json.loads(outputs[1])["status"] == "succeeded"  # the sync really ran: the outputs hold a summary
    places = {str(p): p.read_bytes() for p in written}
    places.update({f"output {i}": text.encode() for i, text in enumerate(outputs)})
    places.update({f"writer environ {i}": e for i, e in enumerate(environs)})
    leaks = [(kind, where) for kind, value in c.items()
             for form in encodings(value, "svc_udc" if "pw" in kind else None)
             for where, data in places.items() if form.encode() in data]
    assert leaks == []


def test_a_bugs_traceback_is_printed_with_its_secrets_masked() -> None:
    value = canary("trace")
    secrets.register(value)
    app = typer.Typer()

    @app.command()
    @guarded
    def boom() -> None:
        raise RuntimeError(f"connection to https://svc:{value}@acme.example failed")

    result = CliRunner().invoke(app, [])
    assert result.exit_code == 1
    assert "Traceback" in result.output and "RuntimeError" in result.output
    assert value not in result.output and "********" in result.output


@pytest.mark.parametrize("value", ['quo"te\\back-slash', "uni-ç-ø-secret", "tab\tnewline\nsecret"])
def test_a_secret_is_masked_in_json_whatever_its_characters(value: str) -> None:
    secrets.register(value)
    document = json.dumps({"error": f"refused {value}"})
    assert "********" in secrets.scrub(document) and json.loads(secrets.scrub(document))
