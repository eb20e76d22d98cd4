"""The fixes of issue 21 the corpus cannot show by exit code alone: where the store is, whose secrets a command
needs, lock names, `--json` errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from first_hour_corpus import ENV, JIRA, SNOW
from typer.testing import CliRunner

from udc.cli import app
from udc.config import load_config
from udc.errors import ConfigError
from udc.store.locks import lock_file_name


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("UDC_REDACTION_KEY", raising=False)


def two_connectors(folder: Path) -> Path:
    """A ServiceNow pipeline `p` and a Jira pipeline `j`, each with its own connector."""
    connectors, pipelines = SNOW.split("pipelines:\n")
    jira_connector = JIRA.split("pipelines:\n")[0].removeprefix("connectors:\n")
    text = (connectors + jira_connector + "pipelines:\n" + pipelines
            + "  j: {connector: jira, mode: incremental, tables: [issues]}\n")
    path = folder / "udc.yaml"
    path.write_text(text)
    return path


def test_a_relative_store_is_beside_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "udc.yaml").write_text(SNOW)
    monkeypatch.chdir(tmp_path)
    assert load_config("work/udc.yaml").store == f"sqlite:///{tmp_path / 'work' / 'udc.db'}"
    result = CliRunner().invoke(app, ["status", "--config", "work/udc.yaml"])
    assert result.exit_code == 2 and "nothing has been synced" in result.output  # not an empty store made here
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["udc.yaml", "work"]


def test_one_pipeline_needs_only_its_own_connectors_secrets(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = two_connectors(tmp_path)
    monkeypatch.delenv("JIRA_TOKEN")
    only = load_config(path, ["p"])
    assert list(only.pipelines) == ["p"] and list(only.connectors) == ["snow"]
    with pytest.raises(ConfigError, match="JIRA_TOKEN is not set"):
        load_config(path)  # validate and every other command: every secret
    with pytest.raises(ConfigError, match="JIRA_TOKEN is not set"):
        load_config(path, ["j"])


def test_the_rest_of_the_file_is_still_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = two_connectors(tmp_path)
    path.write_text(path.read_text().replace("tables: [issues]", "tables: [issues], batch_size: 0")
                    .replace("env:JIRA_TOKEN", "'env:'"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, ["p"])
    assert "pipelines.j.batch_size" in str(caught.value) and "`env:` needs the name" in str(caught.value)


def test_an_unknown_pipeline_lists_them_all(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(two_connectors(tmp_path), ["nope"])
    assert caught.value.hint == "pick one of: p, j"


def test_redaction_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "udc.yaml"
    path.write_text(SNOW.replace("    batch_size: 1000\n", "    batch_size: 1000\n    redaction: {enabled: true}\n"))
    monkeypatch.setenv("UDC_REDACTION_KEY", "k" * 32)
    assert load_config(path).pipelines["p"].redaction.enabled
    path.write_text(path.read_text().replace("{enabled: true}", "{enabled: true, mode: mask}"))
    monkeypatch.delenv("UDC_REDACTION_KEY")
    assert load_config(path).pipelines["p"].redaction.mode == "mask"  # mask mode needs no key


def test_lock_names_of_non_ascii_pipelines_never_collide() -> None:
    assert lock_file_name("pipeline-管道") != lock_file_name("pipeline-日本")
    assert lock_file_name("pipeline-snow-itsm") == "pipeline-snow-itsm.lock"  # plain names as before


def test_json_errors_are_an_object(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "udc.yaml").write_text(SNOW)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["status", "--json", "--pipeline", "nope"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error == {"error": "no pipeline named 'nope'", "fix": "pick one of: p", "exit_code": 2}
