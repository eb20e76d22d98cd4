"""The store at rest: its database, WAL and shared-memory files (and exports) are created 0600 and its lock folder
0700, whatever the umask lets other tools create; `udc status` warns about store files others can read, with the
fix."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from udc.cli import app
from udc.simulators.servicenow import ServiceNowSim

START = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022): files anyone may read unless udc says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_files_and_lock_folder_are_private_while_a_sync_writes(
        tmp_path: Path, snow_sims: Callable[..., ServiceNowSim], open_umask: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sim = snow_sims("rest-pw-1234", 3, {"incident": 200}, START, timedelta(days=30), START + timedelta(days=60))
    monkeypatch.setenv("SNOW_PASSWORD", "rest-pw-1234")
    config = tmp_path / "udc.yaml"
    config.write_text(yaml.safe_dump({
        "connectors": {"snow": {"type": "servicenow", "instance_url": sim.url,
                                "auth": {"type": "basic", "username": "svc_udc", "password": "env:SNOW_PASSWORD"}}},
        "pipelines": {"p": {"connector": "snow", "batch_size": 20, "tables": ["incident"]}}}))
    db = tmp_path / "udc.db"
    seen: dict[str, int] = {}

    def look(_request: object) -> None:  # mid-sync: the WAL and shared memory exist
        for path in [db, db.with_name("udc.db-wal"), db.with_name("udc.db-shm"), tmp_path / "udc.db.locks",
                     *(tmp_path / "udc.db.locks").glob("*.lock")]:
            seen[path.name] = mode(path)

    sim.on_request(6, look)
    result = CliRunner().invoke(app, ["sync", "--pipeline", "p", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert seen == {"udc.db": 0o600, "udc.db-wal": 0o600, "udc.db-shm": 0o600, "udc.db.locks": 0o700,
                    "pipeline-p.lock": 0o600}
    assert mode(config) == 0o644  # the umask really was open: the modes above are udc's doing
    export = CliRunner().invoke(app, ["export", "--pipeline", "p", "--table", "incident", "--config", str(config),
                                      "--out", str(tmp_path / "incidents.jsonl")])
    assert export.exit_code == 0 and mode(tmp_path / "incidents.jsonl") == 0o600  # the store's data, as private

    status = CliRunner().invoke(app, ["status", "--config", str(config)])
    assert status.exit_code == 0 and "readable or writable by other users" not in status.output
    db.chmod(0o644)
    (tmp_path / "udc.db.locks").chmod(0o755)
    status = CliRunner().invoke(app, ["status", "--config", str(config), "--json"])
    said = " ".join(status.output.split())
    assert status.exit_code == 0
    assert f"warning: {db} is readable or writable by other users (mode 0644)" in said
    assert f"fix: chmod 600 {db}" in said and f"fix: chmod 700 {tmp_path / 'udc.db.locks'}" in said
