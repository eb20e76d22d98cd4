"""Epics and sub-tasks through the CLI against the simulator: `udc related` shows an epic's issues, a sub-task's
parent and an issue's sub-tasks, both ways, on Cloud (`fields.parent`) and Data Center (a sub-task's `parent`, an
epic's issues by the "Epic Link" custom field, found by name); moving an issue to another epic moves its edge; the
new fields are what the official v3 spec says a linked issue and an issue type look like."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from jira_helpers import SimFactory, official_openapi, source_for
from test_jira_deletes import age_state, sync, udc, write_config

import udc.simulators.jira as jira_sim
from udc.simulators.jira import JiraSim


def configured(sim: JiraSim, tmp_path: Path) -> Path:
    """Pipelines `hist` and `inc` syncing issues and projects."""
    path = write_config(sim, tmp_path)
    data = yaml.safe_load(path.read_text())
    for pipeline in data["pipelines"].values():
        pipeline["tables"] = ["issues", "projects"]
    path.write_text(yaml.safe_dump(data))
    return path


def related(cfg: Path, key: str, *extra: str) -> tuple[set[str], set[tuple[str, str, str]]]:
    """The keys of `key`'s neighbours and the links among them, as (src key, rel, dst key)."""
    code, text = udc(cfg, "related", key, "--json", *extra)
    assert code == 0, text
    data = json.loads(text)
    return {n["key"] for n in data["nodes"]}, {(x["src"], x["rel"], x["dst"]) for x in data["links"]}


def planted(sim: JiraSim) -> dict[str, str]:
    """An epic with two stories, a sub-task of one of them, and a second, empty epic (in NET)."""
    at = datetime.now(UTC) - timedelta(hours=2)
    epic = sim.create_issue("OPS", "Retire the old VPN", at, issuetype="Epic")
    story = sim.create_issue("OPS", "Move users to the new VPN", at, issuetype="Story", parent=epic.key)
    task = sim.create_issue("OPS", "Announce the cut-over", at, issuetype="Task", parent=epic.key)
    sub = sim.create_issue("OPS", "Export the user list", at, issuetype="Sub-task", parent=story.key)
    other = sim.create_issue("NET", "Firewall clean-up", at, issuetype="Epic")
    return {"epic": epic.key, "story": story.key, "task": task.key, "sub": sub.key, "other": other.key}


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_related_shows_epics_their_issues_and_sub_tasks_both_ways(make_sim: SimFactory, tmp_path: Path,
                                                                  deployment: str) -> None:
    sim = make_sim(deployment, issues=40)
    keys = planted(sim)
    cfg = configured(sim, tmp_path)
    sync(cfg, "hist")
    epic, story, task, sub = keys["epic"], keys["story"], keys["task"], keys["sub"]

    nodes, links = related(cfg, epic)
    assert {story, task} <= nodes and sub not in nodes
    assert {(story, "parent", epic), (task, "parent", epic)} <= links
    nodes, links = related(cfg, sub)  # a sub-task's parent
    assert (sub, "parent", story) in links and epic not in nodes
    nodes, links = related(cfg, story)  # its epic above, its sub-task below
    assert {(story, "parent", epic), (sub, "parent", story)} <= links
    nodes, _ = related(cfg, sub, "--depth", "2")
    assert {story, epic} <= nodes

    search = next(r for r in sim.requests if r.path.endswith(("/search", "/search/jql")) and "summary" in
                  r.query.get("fields", [""])[0])
    fields = search.query["fields"][0].split(",")
    assert "parent" in fields
    # Data Center names the epic in its Epic Link field, found in /field by name; Cloud has no such field
    assert ("customfield_10100" in fields) == (deployment == "data_center")


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_moving_an_issue_to_another_epic_moves_its_edge(make_sim: SimFactory, tmp_path: Path, deployment: str
                                                        ) -> None:
    sim = make_sim(deployment, issues=40)  # real time: the CLI reads the clock
    keys = planted(sim)
    cfg = configured(sim, tmp_path)
    sync(cfg, "hist")
    sync(cfg, "inc")
    age_state(tmp_path, 1)
    sim.set_parent(keys["task"], keys["other"], at=datetime.now(UTC) - timedelta(minutes=10))
    sync(cfg, "inc")
    nodes, _ = related(cfg, keys["epic"])
    assert keys["task"] not in nodes and keys["story"] in nodes
    nodes, links = related(cfg, keys["other"])
    assert nodes == {keys["task"], "NET"} and (keys["task"], "parent", keys["other"]) in links

    age_state(tmp_path, 1)
    sim.set_parent(keys["task"], None, at=datetime.now(UTC) - timedelta(minutes=10))  # out of any epic
    sync(cfg, "inc")
    nodes, _ = related(cfg, keys["other"])
    assert keys["task"] not in nodes


def test_the_epic_link_field_is_found_by_name(make_sim: SimFactory, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Another Data Center instance numbers its Epic Link field differently: it is found, not assumed."""
    monkeypatch.setattr(jira_sim, "EPIC_LINK", "customfield_12345")
    sim = make_sim("data_center", issues=0)
    keys = planted(sim)
    cfg = configured(sim, tmp_path)
    sync(cfg, "hist")
    nodes, _ = related(cfg, keys["epic"])
    assert {keys["story"], keys["task"]} <= nodes


def linked_issue_problems(value: Any) -> list[str]:
    spec = official_openapi()
    return spec.errors(spec.schema_validator({"$ref": "#/components/schemas/LinkedIssue"}), value)


def test_hierarchy_fields_match_the_official_spec(make_sim: SimFactory) -> None:
    """Cloud: `parent` and each of `subtasks` are linked issues, `issuetype` has its `hierarchyLevel`; the search
    traffic itself is checked against the spec when the simulator stops."""
    sim = make_sim("cloud", issues=60)
    keys = planted(sim)
    source = source_for(sim)
    try:
        issues = {i["key"]: i for i in source.api.search_page(
            'project in (OPS, NET) ORDER BY key ASC', ["issuetype", "parent", "subtasks"], "", None, 100)[0]}
    finally:
        source.close()
    spec = official_openapi()
    types = spec.schema_validator({"$ref": "#/components/schemas/IssueTypeDetails"})
    levels = set()
    for issue in issues.values():
        fields = issue["fields"]
        assert not spec.errors(types, fields["issuetype"])
        levels.add(fields["issuetype"]["hierarchyLevel"])
        for linked in [fields.get("parent"), *fields["subtasks"]]:
            if linked is not None:
                assert not linked_issue_problems(linked), linked
    assert levels == {-1, 0, 1}  # the generated data holds epics and sub-tasks too
    epic, story, sub = issues[keys["epic"]], issues[keys["story"]], issues[keys["sub"]]
    assert "parent" not in epic["fields"] and epic["fields"]["issuetype"]["name"] == "Epic"
    assert story["fields"]["parent"]["key"] == keys["epic"]
    assert story["fields"]["parent"]["fields"]["issuetype"]["hierarchyLevel"] == 1
    assert [s["key"] for s in story["fields"]["subtasks"]] == [keys["sub"]]
    assert sub["fields"]["parent"]["id"] == story["id"] and sub["fields"]["issuetype"]["subtask"] is True


def test_data_center_shows_the_epic_by_key_in_its_epic_link_field(make_sim: SimFactory) -> None:
    sim = make_sim("data_center", issues=0)
    keys = planted(sim)
    fields = {f["name"]: f for f in sim._fields()}
    assert fields["Epic Link"]["custom"] is True and fields["Epic Link"]["id"] == "customfield_10100"
    story = sim.issue_json(sim._issue(keys["story"]), None, "2", False)["fields"]
    assert story["customfield_10100"] == keys["epic"] and "parent" not in story
    assert "hierarchyLevel" not in story["issuetype"]
    sub = sim.issue_json(sim._issue(keys["sub"]), None, "2", False)["fields"]
    assert sub["parent"]["key"] == keys["story"] and sub["customfield_10100"] is None


def test_the_simulator_keeps_jiras_hierarchy_rules(make_sim: SimFactory) -> None:
    sim = make_sim("cloud", issues=0)
    keys = planted(sim)
    with pytest.raises(ValueError, match="not an epic"):
        sim.set_parent(keys["task"], keys["story"])
    with pytest.raises(ValueError, match="needs a parent"):
        sim.create_issue("OPS", "orphan", issuetype="Sub-task")
    with pytest.raises(ValueError, match="cannot be the parent"):
        sim.create_issue("NET", "elsewhere", issuetype="Sub-task", parent=keys["story"])
    assert sim.find_issue("NET-2") is None  # a refused issue is not kept
    sim.delete_issue(keys["story"])  # its sub-task goes with it; the epic's other issue stays
    assert sim.find_issue(keys["sub"]) is None and sim._issue(keys["task"]).parent_id == sim._issue(keys["epic"]).id
    sim.delete_issue(keys["epic"])
    assert sim._issue(keys["task"]).parent_id is None


def test_an_unreadable_field_list_is_said_not_hidden(make_sim: SimFactory) -> None:
    """Without /field the Epic Link field cannot be found: the run says epics are not linked."""
    sim = make_sim("data_center", issues=0)
    sim.faults.paths = ("/rest/api/2/field",)
    sim.faults.script(["500"] * 10)
    source = source_for(sim)
    try:
        issues = next(s for s in source.streams() if s.name == "issues")
    finally:
        source.close()
    assert issues.epic_field is None and "parent" in issues.fields
    assert any("Epic Link field is unknown" in note for note in source.notes)


def test_a_link_to_a_project_not_stored_names_no_issue_that_shares_its_id(make_sim: SimFactory, tmp_path: Path
                                                                          ) -> None:
    """Jira counts ids per kind: project 10000 and issue 10000 are different things. With only issues synced, an
    issue's `in_project` link (to jira/projects 10000) must stay unresolved, not land on the issue with that id."""
    sim = make_sim("cloud", issues=20)
    cfg = write_config(sim, tmp_path)  # issues only
    sync(cfg, "hist")
    project_ids = {p.id for p in sim.projects}
    twins = [i for i in sim.issues.values() if str(i.id) in project_ids and i.project.visible]
    assert twins  # issues whose id is also a project's
    for twin in twins:
        _, links = related(cfg, twin.key)
        assert not [link for link in links if link[1] == "in_project"], links
