"""A new user's first hour (issue 21): every bad config and bad command line in the corpus ends in exit 2 with its
message, no traceback, and nothing written — no store, no lock folder, no partial file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from first_hour_corpus import COMMANDS, CONFIGS, ENV, SNOW, Bad, BadCommand
from typer.testing import CliRunner, Result

from udc.cli import app
from udc.store import SqliteStore


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("UDC_REDACTION_KEY", raising=False)
    monkeypatch.delenv("UDC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def refused(result: Result, phrase: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert phrase in result.output, result.output


def write(folder: Path, content: str | bytes) -> Path:
    path = folder / "udc.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def test_the_corpus_is_big_enough() -> None:
    assert len(CONFIGS) >= 100 and len(COMMANDS) >= 30
    assert len({c.id for c in CONFIGS}) == len(CONFIGS) and len({c.id for c in COMMANDS}) == len(COMMANDS)


@pytest.mark.parametrize("base", ["snow", "jira", "sf", "rest"])
def test_the_bases_are_valid_and_validating_writes_nothing(tmp_path: Path, base: str) -> None:
    write(tmp_path, Bad("", "", base=base).content())
    result = CliRunner().invoke(app, ["config", "validate", "--config", "udc.yaml"])
    assert result.exit_code == 0, result.output
    assert listing(tmp_path) == ["udc.yaml"]


@pytest.mark.parametrize("case", CONFIGS, ids=[c.id for c in CONFIGS])
def test_bad_config(tmp_path: Path, case: Bad) -> None:
    write(tmp_path, case.content())
    before = listing(tmp_path)
    runner = CliRunner()
    for args in (["config", "validate"], ["sync", "--pipeline", "p"]):
        refused(runner.invoke(app, [*args, "--config", "udc.yaml"]), case.phrase)
    assert listing(tmp_path) == before


@pytest.mark.parametrize("case", COMMANDS, ids=[c.id for c in COMMANDS])
def test_bad_command_line(tmp_path: Path, case: BadCommand) -> None:
    write(tmp_path, SNOW)
    if case.synced:
        SqliteStore(tmp_path / "udc.db").close()
    before = listing(tmp_path)
    refused(CliRunner().invoke(app, list(case.args)), case.phrase)
    # an open store keeps its WAL files beside it while this process lives: the store's own, not a write
    assert [name for name in listing(tmp_path) if not name.endswith(("-wal", "-shm"))] == before
    if case.synced:
        store = SqliteStore(tmp_path / "udc.db")
        assert store.backfills() == [] and store.runs() == []
        store.close()


def udc(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "udc", *args], cwd=folder, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "COLUMNS": "40"})


@pytest.mark.parametrize("case_id", ["impossible-date-feb-30", "instance-url-not-a-url", "deep-list", "utf16-bom",
                                     "duplicate-key", "batch-size-huge-value"])
def test_bad_config_in_a_real_process(tmp_path: Path, case_id: str) -> None:
    case = next(c for c in CONFIGS if c.id == case_id)
    write(tmp_path, case.content())
    done = udc(tmp_path, "sync", "--pipeline", "p")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert case.phrase in done.stderr
    assert listing(tmp_path) == ["udc.yaml"]


def test_piped_errors_are_not_wrapped(tmp_path: Path) -> None:
    """`file:line: key.path: problem` stays one line however narrow the terminal claims to be."""
    write(tmp_path, SNOW.replace("batch_size: 1000", "batch_size: 0"))
    done = udc(tmp_path, "config", "validate")
    assert done.returncode == 2
    line = next(text for text in done.stderr.splitlines() if "batch_size" in text)
    assert line.endswith("pipelines.p.batch_size: Input should be greater than 0 (got 0)")
    assert line.startswith("udc.yaml:")


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("udc ")
