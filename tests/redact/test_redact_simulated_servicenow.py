"""Redaction of realistic ServiceNow pages from the simulator: no person's name, e-mail, phone or login is left,
and the machine identifiers around them (sys_ids, numbers, hosts, private IPs) are untouched."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.redact import Redactor
from udc.simulators.servicenow import ServiceNowSim


def test_simulated_incidents_and_users_leave_no_personal_data() -> None:
    sim = ServiceNowSim(seed=5, counts={"incident": 300}, start=datetime(2025, 1, 1, tzinfo=UTC),
                        span=timedelta(days=60))
    users = sim.records("sys_user")
    incidents = sim.records("incident")
    people = [u for u in users if u.get("user_name") not in ("admin", "system", "guest") and u.get("name")]
    assert people and incidents

    redactor = Redactor(RedactionConfig(enabled=True, key=SecretStr("sim-key-0123456789abcdef")), "servicenow")
    redactor.learn_names(u["name"] for u in people)  # the engine feeds user-table names before other tables
    stored_users, stored_incidents = copy.deepcopy(users), copy.deepcopy(incidents)
    user_counts = redactor.redact_records("sys_user", stored_users)
    incident_counts = redactor.redact_records("incident", stored_incidents)
    assert user_counts["PERSON"] >= len(people) and user_counts["EMAIL"] >= len(people)

    dump = json.dumps([stored_users, stored_incidents]).casefold()
    for person in people:
        for field in ("name", "email", "user_name", "phone", "mobile_phone"):
            value = person.get(field)
            if value:
                assert value.casefold() not in dump, f"{field} of a user survived redaction"

    for before, after in zip(incidents, stored_incidents, strict=True):  # join keys and machine text kept
        for key in ("sys_id", "number", "caller_id", "assigned_to", "cmdb_ci", "opened_at", "state", "category"):
            assert after.get(key) == before.get(key)
    assert sum(incident_counts.values()) > 0
