"""Encryption at rest (`store: sqlite:///udc.db?key=env:NAME`, SQLCipher): the database and its WAL hold no
plaintext, the writer child gets the key over its pipe (not its environment), a wrong or missing key is a clear
error, and sync, status and export work as on a plain store — the same rows out."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import udc as udc_api
from udc.cli import app
from udc.errors import StoreError
from udc.simulators.servicenow import ServiceNowSim

START = datetime(2025, 1, 1, tzinfo=UTC)
KEY = "store-key-canary-5f1e2d"


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def write(folder: Path, sim: ServiceNowSim, store: str) -> Path:
    folder.mkdir()
    config = folder / "udc.yaml"
    config.write_text(yaml.safe_dump({
        "store": store,
        "connectors": {"snow": {"type": "servicenow", "instance_url": sim.url,
                                "auth": {"type": "basic", "username": "svc_udc", "password": "env:SNOW_PASSWORD"}}},
        "pipelines": {"p": {"connector": "snow", "batch_size": 40, "tables": ["incident", "sys_user"]}}}))
    return config


def udc(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_an_encrypted_store_holds_no_plaintext_and_works_the_same(
        tmp_path: Path, snow_sims: Callable[..., ServiceNowSim], monkeypatch: pytest.MonkeyPatch) -> None:
    sim = snow_sims("enc-pw-1234", 5, {"incident": 200, "sys_user": 30}, START, timedelta(days=30),
                    START + timedelta(days=60))
    monkeypatch.setenv("SNOW_PASSWORD", "enc-pw-1234")
    monkeypatch.setenv("UDC_STORE_KEY", KEY)
    plain = write(tmp_path / "plain", sim, "sqlite:///udc.db")
    secret = write(tmp_path / "secret", sim, "sqlite:///udc.db?key=env:UDC_STORE_KEY")
    db = tmp_path / "secret" / "udc.db"
    mid_sync: dict[str, bytes] = {}

    def look(_request: object) -> None:  # the WAL and the writer child, while pages are being stored
        mid_sync["wal"] = db.with_name("udc.db-wal").read_bytes()
        mid_sync["environ"] = b"".join(Path(f"/proc/{c}/environ").read_bytes() for c in children(os.getpid()))

    for config in (plain, secret):
        if config is secret:
            sim.on_request(sim.table_request_count + 6, look)
        code, said = udc("sync", "--pipeline", "p", "--config", str(config))
        assert code == 0, said
        code, said = udc("export", "--pipeline", "p", "--table", "incident", "--config", str(config),
                         "--out", str(config.parent / "incident.jsonl"))
        assert code == 0, said
    assert (tmp_path / "plain" / "incident.jsonl").read_bytes() == (tmp_path / "secret" / "incident.jsonl").read_bytes()
    code, said = udc("status", "--config", str(secret))
    assert code == 0 and "incident 200 0" in said
    number = sim.records("incident")[7]["number"]
    answers = []
    for config in (plain, secret):  # the read-only reader (udc serve, udc.open) opens the encrypted store too
        with udc_api.open(config) as graph:
            answers.append(sorted(node["key"] for node in graph.related(number)["nodes"]))
    assert answers[0] == answers[1] and len(answers[1]) > 1

    records = sim.records("incident")
    plaintext = [b"SQLite format 3", b"CREATE TABLE", b"snow/incident", *(r["sys_id"].encode() for r in records[:50]),
                 *(r["number"].encode() for r in records[:50])]
    assert any(word in (tmp_path / "plain" / "udc.db").read_bytes() for word in plaintext)  # the probe finds text
    assert len(mid_sync["wal"]) > 10_000
    for where, data in (("database", db.read_bytes()), ("wal", mid_sync["wal"])):
        assert [w for w in plaintext if w in data] == [], where
    assert KEY.encode() not in mid_sync["environ"] and b"PYTHONPATH" in mid_sync["environ"]

    monkeypatch.setenv("UDC_STORE_KEY", "not-the-key-123")
    code, said = udc("status", "--config", str(secret))
    assert code == 1 and f"the store {db} cannot be opened with this key: the key is wrong" in said
    with pytest.raises(StoreError, match="cannot be opened with this key: the key is wrong"):
        udc_api.open(secret)
    monkeypatch.delenv("UDC_STORE_KEY")
    code, said = udc("sync", "--pipeline", "p", "--config", str(secret))
    assert code == 2 and "store: environment variable UDC_STORE_KEY is not set" in said
    secret.write_text(secret.read_text().replace("?key=env:UDC_STORE_KEY", ""))
    code, said = udc("status", "--config", str(secret))
    assert code == 1 and "not a SQLite database" in said and "an encrypted store needs its key" in said
    secret.write_text(secret.read_text().replace("sqlite:///udc.db", "sqlite:///udc.db?key=literal-key-1"))
    code, said = udc("config", "validate", "--config", str(secret))
    assert code == 2 and "store: the store's key is written in the file" in said and "literal-key-1" not in said
