"""How sources plug into `udc check`: their `check` is found through the registry, findings of another shape are
normalised, duplicates across pipelines are shown once, and a type without checks says so."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from stores import Backend
from udc import sources
from udc.check import Finding, Report, normalize, run_check
from udc.config import parse_config


@dataclass
class OtherShape:  # what a connector written before udc.check existed may return
    check: str
    status: str
    message: str
    fix: str = ""


def config(tmp_path: Path) -> object:
    return parse_config({
        "store": Backend.store_url(tmp_path / "udc.db"),
        "connectors": {"snow": {"type": "servicenow", "instance_url": "http://127.0.0.1:9",
                                "auth": {"type": "basic", "username": "u", "password": "p4ssword"}}},
        "pipelines": {"a": {"connector": "snow", "tables": ["incident"]},
                      "b": {"connector": "snow", "mode": "incremental", "tables": ["incident"]}},
    })


def test_findings_of_other_shapes_are_normalised() -> None:
    assert normalize(OtherShape("api scope", "fail", "no valid scopes defined", "add the api scope")) == Finding(
        "fail", "api scope", "no valid scopes defined", "add the api scope")
    assert normalize({"check": "quota", "status": "warn", "message": "80% used"}).level == "warn"
    assert normalize(Finding("error", "x", "y")).level == "fail"
    assert normalize(Finding("weird", "x", "y")).level == "warn"


def test_source_check_is_found_through_the_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def check(name: str, connector: object, pipeline: object) -> list[object]:
        calls.append(getattr(pipeline, "mode", ""))
        return [OtherShape("credentials", "ok", "signed in"), Finding("fail", "table incident", "zero records",
                                                                      "grant read")]

    monkeypatch.setitem(sources.PLUGINS, "servicenow", replace(sources.plugin("servicenow"), check=check))
    report = run_check(config(tmp_path), "snow")  # type: ignore[arg-type]
    assert calls == ["historical", "incremental"]  # once per pipeline of the connector
    assert [f.title for f in report.findings] == ["credentials", "table incident"]  # shown once
    assert not report.healthy and report.to_json()["healthy"] is False


def test_a_finding_of_some_pipelines_names_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def check(name: str, connector: object, pipeline: object) -> list[Finding]:
        own = [Finding("warn", "table incident", "no recent updates")] if getattr(pipeline, "mode", "") == \
            "incremental" else []
        return [Finding("ok", "credentials", "signed in"), *own]

    monkeypatch.setitem(sources.PLUGINS, "servicenow", replace(sources.plugin("servicenow"), check=check))
    report = run_check(config(tmp_path), "snow")  # type: ignore[arg-type]
    assert [f.title for f in report.findings] == ["credentials", "b: table incident"]


def test_a_type_without_checks_is_skipped_not_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sources.PLUGINS, "servicenow", replace(sources.plugin("servicenow"), check=None))
    report = run_check(config(tmp_path), "snow")  # type: ignore[arg-type]
    assert [f.level for f in report.findings] == ["skip"] and report.healthy


def test_report_is_healthy_only_without_failures() -> None:
    assert Report("c", "t", "u", [Finding("ok", "a", "b"), Finding("warn", "c", "d")]).healthy
    assert not Report("c", "t", "u", [Finding("fail", "a", "b")]).healthy
