"""Configs and simulators for `udc check` tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner, Result

from stores import Backend
from udc.cli import app

SECRET = "s3cr`et&pa%ss+w\"rd ü"  # the characters the product doc warns about
PLAIN = "Plainpassword42"
CLIENT_ID, CLIENT_SECRET = "udc-client", "udc-secret"


def write_config(tmp_path: Path, url: str, *, auth: str = "basic", tables: str = "[incident, problem]",
                 connector_extra: str = "", **pipeline: object) -> Path:
    if auth == "basic":
        auth_yaml = "{type: basic, username: svc_udc, password: 'env:SNOW_PASSWORD'}"
    else:
        auth_yaml = ("{type: oauth_password, username: svc_udc, password: 'env:SNOW_PASSWORD', "
                     "client_id: 'env:SNOW_CLIENT_ID', client_secret: 'env:SNOW_CLIENT_SECRET'"
                     + (f", token_url: '{pipeline.pop('token_url')}'" if "token_url" in pipeline else "") + "}")
    options = "".join(f"    {k}: {v}\n" for k, v in pipeline.items())
    path = tmp_path / "udc.yaml"
    path.write_text(
        f"store: {Backend.store_url(tmp_path / 'udc.db')}\n"
        f"connectors:\n  snow:\n    type: servicenow\n    instance_url: {url}\n    auth: {auth_yaml}\n"
        f"{connector_extra}"
        f"pipelines:\n  p:\n    connector: snow\n    mode: historical\n    tables: {tables}\n{options}")
    return path


def run_check(config: Path) -> tuple[Result, dict[str, Any]]:
    """`udc check --json`: the CLI result and the parsed report."""
    result = CliRunner().invoke(app, ["check", "--connector", "snow", "-c", str(config), "--json"])
    assert result.exit_code in (0, 1), result.output
    return result, orjson.loads(result.stdout)


def failures(report: dict[str, Any]) -> list[dict[str, str]]:
    return [f for f in report["findings"] if f["level"] == "fail"]


def by_title(report: dict[str, Any], prefix: str) -> dict[str, str]:
    (found,) = [f for f in report["findings"] if f["title"].startswith(prefix)]
    return dict(found)
