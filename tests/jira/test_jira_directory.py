"""Jira's users as the redactor's directory: Cloud's /users/search (checked against the official spec on teardown)
and Data Center's /user/search?username=. , paged to an empty page; app accounts are no people."""

from __future__ import annotations

import pytest
from jira_helpers import SimFactory, source_for

from udc.simulators.jira import SimUser


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_people_lists_every_user_and_marks_apps(make_sim: SimFactory, deployment: str) -> None:
    sim = make_sim(deployment)
    sim.users.append(SimUser("5b10a2844c20165700edeapp", "automation", "Automation for Jira", "", "app"))
    sim.users += [SimUser(f"5b10a2844c2016570{n:07d}", f"bulk{n}", f"Bulk Person{n}", f"b{n}@example.com")
                  for n in range(1200)]  # more than one page of 1000
    source = source_for(sim)
    try:
        people = list(source.people())
    finally:
        source.close()
    assert len(people) == len(sim.users)
    by_name = {p.name: p for p in people}
    assert not by_name["Ravi Patel"].machine and by_name["Ravi Patel"].email == "user2@example.com"
    assert by_name["Automation for Jira"].machine is (deployment == "cloud")  # DC has no account types
    if deployment == "data_center":
        assert by_name["Ravi Patel"].user_name == "user2"
    searches = [r for r in sim.requests if r.path.endswith(("/users/search", "/user/search"))]
    assert [r.arg("startAt") for r in searches] == ["0", "1000", str(len(sim.users))]  # the empty page ends it
