"""Config loading: the documented shape is accepted; every kind of bad input gets one clear message and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from udc.cli import app
from udc.config import load_config
from udc.errors import ConfigError

GOOD = """\
store: sqlite:///udc.db
connectors:
  snow:
    type: servicenow
    instance_url: https://acme.service-now.com
    auth: {type: basic, username: svc_udc, password: env:SNOW_PASSWORD}
pipelines:
  snow-itsm:
    connector: snow
    mode: historical
    start_date: 2025-01-01
    end_date: 2025-06-30
    frequency: 2m
    batch_size: 1000
    max_calls_per_minute: 120
    request_timeout: 60
    tables:
      - name: incident
        fields: [number, short_description, assigned_to.email, sys_updated_on]
        filter: active=true
      - name: cmdb_ci_server
"""


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOW_PASSWORD", "s3cr`et&pa%ss")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "udc.yaml"
    path.write_text(text)
    return path


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_documented_shape_is_accepted(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    pipeline = cfg.pipelines["snow-itsm"]
    assert [t.name for t in pipeline.tables] == ["incident", "cmdb_ci_server"]
    assert pipeline.tables[0].fields == ["number", "short_description", "assigned_to.email", "sys_updated_on"]
    assert pipeline.frequency.total_seconds() == 120
    auth = cfg.connectors["snow"].auth
    assert auth.password.get_secret_value() == "s3cr`et&pa%ss"  # type: ignore[union-attr]
    assert "s3cr`et" not in repr(cfg) and "s3cr`et" not in str(cfg.model_dump())


def test_defaults_follow_the_product_doc(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD.replace("    frequency: 2m\n", "").replace("    request_timeout: 60\n", "")))
    pipeline = cfg.pipelines["snow-itsm"]
    assert pipeline.frequency.total_seconds() == 120 and pipeline.request_timeout == 60


def test_secret_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    cfg = load_config(write(tmp_path, GOOD.replace("env:SNOW_PASSWORD", f"file:{secret}")))
    assert cfg.connectors["snow"].auth.password.get_secret_value() == "from-file"  # type: ignore[union-attr]


@pytest.mark.parametrize(("change", "expected"), [
    (("batch_size: 1000", "batch_sise: 1000"),
     "unknown key 'pipelines.snow-itsm.batch_sise'\n  fix: did you mean 'batch_size'?"),
    (("batch_size: 1000", "batch_size: 0"), "pipelines.snow-itsm.batch_size: Input should be greater than 0"),
    (("batch_size: 1000", "batch_size: lots"), "pipelines.snow-itsm.batch_size"),
    (("frequency: 2m", "frequency: 30s"), "frequency must be between 1m and 24h"),
    (("frequency: 2m", "frequency: 25h"), "frequency must be between 1m and 24h"),
    (("end_date: 2025-06-30", "end_date: 2024-06-30"), "end_date must be after start_date"),
    (("mode: historical", "mode: incremental"), "end_date is for historical mode only"),
    (("env:SNOW_PASSWORD", "env:NOPE_NOT_SET"), "environment variable NOPE_NOT_SET is not set"),
    (("env:SNOW_PASSWORD", "file:/nonexistent/pw"), "cannot read secret file /nonexistent/pw"),
    (("connector: snow", "connector: snwo"), "uses connector 'snwo', which is not defined (known: snow)"),
    (("type: servicenow", "type: servicenoww"), "connectors.snow"),
    (("    request_timeout: 60", "    request_timeout: 60\n    jql: project = OPS"),
     "sets options of another source type for its servicenow connector: jql (jira)"),
])
def test_bad_input_names_file_key_and_fix(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    message = error_for(tmp_path, GOOD.replace(*change))
    assert str(tmp_path / "udc.yaml") in message
    assert expected in message


def test_error_points_at_the_line(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("batch_size: 1000", "batch_size: -5"))
    assert f"{tmp_path / 'udc.yaml'}:14:" in message


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    message = error_for(tmp_path, GOOD.replace("  snow:\n    type", "  snow:\n   type: [\n    type"))
    assert "invalid YAML" in message and f"{tmp_path / 'udc.yaml'}:" in message


def test_cli_validate_exit_codes_and_nothing_written(tmp_path: Path) -> None:
    runner = CliRunner()
    good = write(tmp_path, GOOD.replace("sqlite:///udc.db", f"sqlite:///{tmp_path}/udc.db"))
    result = runner.invoke(app, ["config", "validate", "--config", str(good)])
    assert result.exit_code == 0, result.output
    bad = write(tmp_path, GOOD.replace("batch_size: 1000", "batch_size: 0"))
    result = runner.invoke(app, ["sync", "--pipeline", "snow-itsm", "--config", str(bad)])
    assert result.exit_code == 2
    assert "batch_size" in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob("*.db*"))


def test_schema_is_json_schema() -> None:
    result = CliRunner().invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    assert '"pipelines"' in result.output and '"connectors"' in result.output
