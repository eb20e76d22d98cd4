"""`udc config schema` accepts every documented form: the README's YAML validates against it (bare table names,
`2m` durations, Salesforce's `objects:`), and its defaults are written as the README writes them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from udc.cli import app

README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLES = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)


def schema() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    return json.loads(result.output)  # type: ignore[no-any-return]


def as_json(text: str) -> Any:
    """YAML as JSON sees it: dates are strings."""
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"readme-{n}" for n in range(len(EXAMPLES))])
def test_readme_example_validates_against_the_schema(example: str) -> None:
    jsonschema.validate(as_json(example), schema())


def test_defaults_are_written_as_in_the_readme() -> None:
    frequency = schema()["$defs"]["ServiceNowPipeline"]["properties"]["frequency"]
    assert frequency["default"] == "2m"


def test_the_schema_refuses_what_the_config_refuses() -> None:
    bad = as_json("connectors: {snow: {type: servicenow, instance_url: https://a, auth: {type: basic, username: u, "
                  "password: p}}}\npipelines: {p: {connector: snow, frequency: 2 minutes, tables: [incident]}}\n")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema())


@pytest.mark.parametrize("example", [e for e in EXAMPLES if "connectors:" in e and "pipelines:" in e])
def test_readme_example_is_a_valid_config(example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the README shows, `udc config validate` accepts (its secrets set)."""
    for name in re.findall(r"env:(\w+)", example):
        monkeypatch.setenv(name, "a-secret-value-long-enough")
    path = tmp_path / "udc.yaml"
    path.write_text(example)
    result = CliRunner().invoke(app, ["config", "validate", "--config", str(path)])
    assert result.exit_code == 0, result.output
