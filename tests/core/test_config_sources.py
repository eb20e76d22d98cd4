"""Configuration per source type: the registry and the config's per-type models agree, each pipeline validates as
its connector's type, `objects:` is Salesforce's name for `tables:`, and per-type keys keep today's messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from udc.cli import app
from udc.config import (
    MODELS,
    SOURCES,
    JiraPipeline,
    SalesforcePipeline,
    ServiceNowPipeline,
    load_config,
    parse_config,
)
from udc.errors import ConfigError
from udc.sources import PLUGINS

CONNECTORS: dict[str, dict[str, Any]] = {
    "snow": {"type": "servicenow", "instance_url": "https://acme.service-now.com",
             "auth": {"type": "basic", "username": "u", "password": "pw-q7x-snow"}},
    "jira": {"type": "jira", "base_url": "https://acme.atlassian.net",
             "auth": {"type": "basic", "username": "u@acme.com", "password": "tok-q7x-jira"}},
    "sf": {"type": "salesforce", "instance_url": "https://acme.my.salesforce.com",
           "auth": {"type": "oauth_client_credentials", "client_id": "cid-q7x-sf", "client_secret": "csec-q7x-sf"}},
}

YAML = """\
connectors:
  jira:
    type: jira
    base_url: https://acme.atlassian.net
    auth: {type: basic, username: u@acme.com, password: tok-q7x-yaml}
pipelines:
  issues:
    connector: jira
    jql: project = OPS
"""


def config(**pipelines: dict[str, Any]) -> Any:
    return parse_config({"connectors": CONNECTORS, "pipelines": pipelines})


def error(**pipelines: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        config(**pipelines)
    return str(caught.value)


def test_every_plugin_has_the_config_models_of_its_type() -> None:
    assert set(PLUGINS) == set(MODELS) == {source.type for source in SOURCES}
    for kind, plugin in PLUGINS.items():
        assert plugin.type == kind
        assert plugin.connector_model is MODELS[kind].connector
        assert plugin.options_model is MODELS[kind].options
        assert plugin.default_options("c").type == kind  # discover/check without a pipeline use the type's model


def test_each_pipeline_validates_as_its_connectors_type() -> None:
    cfg = config(a={"connector": "snow", "tables": ["incident"]}, b={"connector": "jira", "jql": "project = OPS"},
                 c={"connector": "sf", "objects": ["Case"], "query_limit": 7})
    assert type(cfg.pipelines["a"]) is ServiceNowPipeline
    jira = cfg.pipelines["b"]
    assert isinstance(jira, JiraPipeline) and jira.jql == "project = OPS"
    salesforce = cfg.pipelines["c"]
    assert isinstance(salesforce, SalesforcePipeline) and salesforce.query_limit == 7
    assert [p.type for p in cfg.pipelines.values()] == ["servicenow", "jira", "salesforce"]


def test_objects_is_salesforces_name_for_tables() -> None:
    by_objects = config(p={"connector": "sf", "objects": ["Case", {"name": "Account", "fields": ["Name"]}]})
    by_tables = config(p={"connector": "sf", "tables": ["Case", {"name": "Account", "fields": ["Name"]}]})
    assert by_objects.pipelines["p"].tables == by_tables.pipelines["p"].tables
    assert [t.name for t in by_objects.pipelines["p"].tables] == ["Case", "Account"]


def test_objects_and_tables_together_are_refused() -> None:
    message = error(p={"connector": "sf", "objects": ["Case"], "tables": ["Account"]})
    assert "pipelines.p: `objects:` and `tables:` are two names for the same list; keep one of them" in message


def test_objects_on_another_type_keeps_its_message() -> None:
    message = error(p={"connector": "jira", "objects": ["issues"]})
    assert ("pipeline 'p' sets options of another source type for its jira connector: objects (salesforce); "
            "remove them") in message


def test_a_foreign_option_keeps_its_message() -> None:
    message = error(p={"connector": "snow", "tables": ["incident"], "jql": "project = OPS", "query_limit": 3})
    assert ("pipelines.p: pipeline 'p' sets options of another source type for its servicenow connector: "
            "jql (jira), query_limit (salesforce); remove them") in message


def test_a_pipeline_cannot_claim_another_type() -> None:
    message = error(p={"connector": "snow", "type": "jira", "tables": ["incident"]})
    assert "pipeline 'p' sets type 'jira', but its connector 'snow' is servicenow" in message


def test_a_typo_in_a_per_type_key_gets_did_you_mean_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "udc.yaml"
    path.write_text(YAML.replace("jql:", "jqll:"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:9: unknown key 'pipelines.issues.jqll'\n  fix: did you mean 'jql'?" in str(caught.value)


def test_a_connector_named_like_a_type_keeps_its_path(tmp_path: Path) -> None:
    path = tmp_path / "udc.yaml"
    path.write_text(YAML.replace("    base_url: https://acme.atlassian.net\n", ""))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}: 'connectors.jira.base_url' is required" in str(caught.value)  # not connectors.base_url


def test_a_pipeline_of_an_unknown_type_reports_only_the_connector() -> None:
    connectors = {"snow": {**CONNECTORS["snow"], "type": "servicenoww"}}
    with pytest.raises(ConfigError) as caught:
        parse_config({"connectors": connectors, "pipelines": {"p": {"connector": "snow"}}})
    assert "connectors.snow: Input tag 'servicenoww'" in str(caught.value) and "pipelines" not in str(caught.value)


def test_schema_lists_every_types_options() -> None:
    result = CliRunner().invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    for key in ("jql", "expand_changelog", "query_limit", "max_api_share", "base_url", "instance_url"):
        assert f'"{key}"' in result.output
    pipeline = json.loads(result.output)["properties"]["pipelines"]["additionalProperties"]
    assert "discriminator" not in pipeline and len(pipeline["anyOf"]) == len(SOURCES)  # no `type:` to write
