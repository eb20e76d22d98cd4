"""A faithful local ServiceNow Table API (`GET /api/now/table/{table}`) with the traps connectors must survive
(see docs/source-apis.md, ServiceNow section):

- Encoded queries (`^`, `^OR`, `^NQ`, ORDERBY/ORDERBYDESC); an unknown field in a query term is silently dropped, so a
  typo in a filter returns the whole table. Dates compare as raw UTC strings; `gs.dateGenerate()` is the user's zone.
- Dot-walking in `sysparm_fields`, display values (`true`/`all`), reference links, `Link` and `X-Total-Count` headers.
- Table hierarchy (`task`, `cmdb_ci` and their children) in `sys_db_object`/`sys_dictionary`; parent tables are
  queryable and return their children's rows.
- ACLs: tables without read access return 200 with zero rows; a row ACL filters rows *after* limit/offset so pages
  come back short or empty mid-stream; querying an unreadable field is 403.
- Ties: ~30% of records share their `sys_updated_on` second with 1-9 others, plus one mass update.
- Deletes write `sys_audit` (fieldname=DELETED) and `sys_audit_delete`; basic auth and OAuth (password and refresh
  grants); rate-limit headers and 429; oversized pages (502 or "Transaction cancelled"); a hibernating instance.

Records are tuples in their class's column order. Every table (and every parent table) keeps, per date field, a
sorted list of keys `<YYYY-MM-DD HH:MM:SS><sys_id>`, so a keyset query on (sys_updated_on, sys_id) is answered by
bisection. Serialized pages are cached by user and query string and dropped on any mutation.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import gc
import math
import random
import re
import secrets
import threading
import time
from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import repeat
from typing import Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo

import orjson

from udc.simulators.base import HIBERNATING_HTML, Request, Response, SimServer

SN_TIME = "%Y-%m-%d %H:%M:%S"
DATE_LEN = 19  # len("YYYY-MM-DD HH:MM:SS"): the prefix of every index key
DEFAULT_LIMIT = 10000
DEFAULT_USER_TZ = "America/Los_Angeles"
INDEXED_FIELDS = ("sys_updated_on", "sys_created_on")
KEY_AFTER = "~"  # sorts after every hex digit: `<date>~` is past every key of that second

AUTH_REQUIRED = {
    "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
    "status": "failure",
}
QUERY_FORBIDDEN = {
    "error": {
        "message": "Insufficient rights to query records",
        "detail": "Field(s) present in the query do not have permission to be read",
    },
    "status": "failure",
}
TRANSACTION_CANCELLED = {
    "error": {
        "message": "Transaction cancelled: maximum execution time exceeded",
        "detail": "Transaction cancelled: maximum execution time exceeded",
    },
    "status": "failure",
}
OAUTH_DENIED = {"error_description": "access_denied", "error": "server_error"}
BAD_GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    "<hr><center>ServiceNow</center></body></html>"
)
RATE_RULE_ID = "4f0e8a1d1b2330102c5a8b9e034bcb7e"


def sn_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(SN_TIME)


def parse_sn_time(value: str) -> datetime:
    return datetime.strptime(value, SN_TIME).replace(tzinfo=UTC)


def _fmt_epoch(epoch: int) -> str:
    return time.strftime(SN_TIME, time.gmtime(epoch))


def error_envelope(message: str, detail: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


_DT_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\Z")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_SYS_ID_RE = re.compile(r"[0-9a-f]{32}\Z")


# ---------------------------------------------------------------------------------------------------------------
# Schema


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str = "string"  # the sys_dictionary internal_type
    ref: str | None = None  # reference (and glide_list) target table
    choices: Mapping[str, str] | None = None
    max_length: int = 40
    label: str = ""

    @property
    def column_label(self) -> str:
        return self.label or self.name.removeprefix("u_").replace("_", " ").capitalize()


@dataclass
class TableDef:
    name: str
    label: str
    parent: str | None
    own: tuple[FieldDef, ...]
    display: str = "name"
    number_field: str = ""
    number_prefix: str = ""
    choice_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # per-class choice lists
    # Derived by _link_schema:
    fields: dict[str, FieldDef] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    pos: dict[str, int] = field(default_factory=dict)
    ancestors: tuple[str, ...] = ()  # self first, root last
    indexes: tuple[str, ...] = ()
    refs: tuple[tuple[str, int, str], ...] = ()  # (field, position, target table)


def _s(name: str, max_length: int = 40, label: str = "") -> FieldDef:
    return FieldDef(name, "string", max_length=max_length, label=label)


def _ref(name: str, table: str, label: str = "") -> FieldDef:
    return FieldDef(name, "reference", ref=table, max_length=32, label=label)


def _dt(name: str, label: str = "") -> FieldDef:
    return FieldDef(name, "glide_date_time", label=label)


def _int(name: str, choices: Mapping[str, str] | None = None) -> FieldDef:
    return FieldDef(name, "integer", choices=choices)


def _bool(name: str) -> FieldDef:
    return FieldDef(name, "boolean")


def _choice(name: str, choices: Mapping[str, str]) -> FieldDef:
    return FieldDef(name, "string", choices=choices)


SYS_FIELDS = (
    FieldDef("sys_id", "GUID", max_length=32, label="Sys ID"),
    _dt("sys_created_on", "Created"),
    _s("sys_created_by", label="Created by"),
    _dt("sys_updated_on", "Updated"),
    _s("sys_updated_by", label="Updated by"),
    _int("sys_mod_count"),
)
IMPACT = {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}
PRIORITY = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning"}
TASK_STATE = {"-5": "Pending", "1": "Open", "2": "Work in Progress", "3": "Closed Complete",
              "4": "Closed Incomplete", "7": "Closed Skipped"}
INCIDENT_STATE = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
CHANGE_STATE = {"-5": "New", "-4": "Assess", "-3": "Authorize", "-2": "Scheduled", "-1": "Implement",
                "0": "Review", "3": "Closed", "4": "Canceled"}
PROBLEM_STATE = {"101": "New", "102": "Assess", "103": "Root Cause Analysis", "104": "Fix in Progress",
                 "106": "Resolved", "107": "Closed"}
OPERATIONAL_STATUS = {"1": "Operational", "2": "Non-Operational", "3": "Repair in Progress", "6": "Retired"}
INSTALL_STATUS = {"1": "Installed", "3": "In Maintenance", "6": "In Stock", "7": "Retired"}


def build_schema() -> dict[str, TableDef]:
    """Every table the simulator serves, parents before children."""
    tables = [
        TableDef("sys_user", "User", None, (
            *SYS_FIELDS, _s("user_name"), _s("first_name"), _s("last_name"), _s("name", 151), _s("email", 100),
            _s("title", 60), _s("department"), _s("phone"), _s("mobile_phone"), _ref("manager", "sys_user"),
            _bool("active"), _bool("locked_out"), _bool("vip"), _s("time_zone"), _s("employee_number"),
            _dt("last_login_time"), _bool("web_service_access_only"),
        )),
        TableDef("sys_user_group", "Group", None, (
            *SYS_FIELDS, _s("name", 80), _s("description", 1000), _ref("manager", "sys_user"), _s("email", 100),
            _bool("active"), _s("type"),
        )),
        TableDef("cmdb_ci", "Configuration Item", None, (
            *SYS_FIELDS, _s("name", 255), FieldDef("sys_class_name", "sys_class_name", max_length=80),
            _s("short_description", 1000), _s("serial_number"), _s("asset_tag"), _s("ip_address"),
            _s("manufacturer"), _s("category"), _s("environment"), _int("operational_status", OPERATIONAL_STATUS),
            _int("install_status", INSTALL_STATUS), _ref("assigned_to", "sys_user"), _ref("managed_by", "sys_user"),
            _ref("support_group", "sys_user_group"),
        )),
        TableDef("cmdb_ci_server", "Server", "cmdb_ci", (
            _s("host_name", 100), _s("fqdn", 255), _s("os"), _s("os_version"), _int("cpu_count"), _int("ram"),
            _int("disk_space"), _bool("virtual"),
        )),
        TableDef("cmdb_ci_linux_server", "Linux Server", "cmdb_ci_server", (_s("kernel_release"),)),
        TableDef("task", "Task", None, (
            *SYS_FIELDS, _s("number"), FieldDef("sys_class_name", "sys_class_name", max_length=80),
            _s("short_description", 160), _s("description", 4000), _int("state", TASK_STATE),
            _int("priority", PRIORITY), _int("impact", IMPACT), _int("urgency", IMPACT), _bool("active"),
            _choice("approval", {"not requested": "Not Yet Requested", "requested": "Requested",
                                 "approved": "Approved", "rejected": "Rejected"}),
            _ref("assigned_to", "sys_user"), _ref("assignment_group", "sys_user_group"),
            _ref("opened_by", "sys_user"), _dt("opened_at"), _dt("closed_at"), _ref("closed_by", "sys_user"),
            _ref("cmdb_ci", "cmdb_ci", "Configuration item"),
            _choice("contact_type", {"phone": "Phone", "email": "Email", "self-service": "Self-service",
                                     "monitoring": "Monitoring", "walk-in": "Walk-in"}),
            _dt("due_date"), _int("escalation", {"0": "Normal", "1": "Moderate", "2": "High", "3": "Overdue"}),
            _int("reassignment_count"), _bool("made_sla"), FieldDef("watch_list", "glide_list", ref="sys_user"),
            _s("correlation_id", 100), _ref("parent", "task"), FieldDef("work_notes", "journal_input", max_length=4000),
            _s("close_notes", 4000),
        ), display="number"),
        TableDef("incident", "Incident", "task", (
            _ref("caller_id", "sys_user", "Caller"), _s("category"), _s("subcategory"),
            _int("incident_state", INCIDENT_STATE),
            _int("severity", {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}),
            _choice("close_code", {k: k for k in ("Solved (Work Around)", "Solved (Permanently)",
                                                  "Solved Remotely (Work Around)", "Not Solved (Not Reproducible)",
                                                  "Closed/Resolved by Caller")}),
            _dt("resolved_at"), _ref("resolved_by", "sys_user"), _ref("problem_id", "problem", "Problem"),
            _ref("rfc", "change_request", "Change Request"),
            _int("hold_reason", {"1": "Awaiting Caller", "3": "Awaiting Problem", "4": "Awaiting User Info",
                                 "5": "Awaiting Evidence"}),
            _int("reopen_count"),
        ), display="number", number_field="number", number_prefix="INC",
            choice_overrides={"state": INCIDENT_STATE}),
        TableDef("change_request", "Change Request", "task", (
            _choice("type", {"normal": "Normal", "standard": "Standard", "emergency": "Emergency"}),
            _int("risk", {"2": "High", "3": "Moderate", "4": "Low"}), _s("category"),
            _ref("requested_by", "sys_user"), _dt("start_date"), _dt("end_date"), _s("implementation_plan", 4000),
            _s("backout_plan", 4000), _s("test_plan", 4000), _s("justification", 4000), _bool("cab_required"),
        ), display="number", number_field="number", number_prefix="CHG", choice_overrides={"state": CHANGE_STATE}),
        TableDef("problem", "Problem", "task", (
            _int("problem_state", PROBLEM_STATE), _bool("known_error"), _ref("first_reported_by_task", "task"),
            _s("cause_notes", 4000), _s("fix_notes", 4000), _s("workaround", 4000), _s("resolution_code"),
            _int("related_incidents"),
        ), display="number", number_field="number", number_prefix="PRB", choice_overrides={"state": PROBLEM_STATE}),
        TableDef("kb_knowledge", "Knowledge", None, (
            *SYS_FIELDS, _s("number"), _s("short_description", 160), FieldDef("text", "html", max_length=65000),
            _s("kb_knowledge_base"), _s("kb_category"),
            _choice("workflow_state", {"draft": "Draft", "review": "Review", "published": "Published",
                                       "retired": "Retired"}),
            _ref("author", "sys_user"), _s("article_type"), FieldDef("published", "glide_date"),
            FieldDef("valid_to", "glide_date"), _int("view_count"), _bool("active"),
        ), display="number", number_field="number", number_prefix="KB"),
        TableDef("u_vendor_ticket", "Vendor Ticket", None, (
            *SYS_FIELDS, _s("u_number"), _s("u_vendor", 80), _s("u_vendor_case_id"),
            _ref("u_incident", "incident", "Incident"), _s("u_summary", 255),
            _choice("u_status", {"open": "Open", "awaiting_vendor": "Awaiting Vendor",
                                 "awaiting_customer": "Awaiting Customer", "resolved": "Resolved", "closed": "Closed"}),
            _int("u_severity", {"1": "Sev 1", "2": "Sev 2", "3": "Sev 3", "4": "Sev 4"}), _s("u_contact_email", 100),
            _bool("u_escalated"), _s("u_notes", 4000),
        ), display="u_number", number_field="u_number", number_prefix="VND"),
        # the CMDB's relationships (typed parent → child) and the many-to-many tables tying tasks to CIs and articles
        TableDef("cmdb_rel_type", "CI Relationship Type", None, (
            *SYS_FIELDS, _s("name", 100), _s("parent_descriptor", 100), _s("child_descriptor", 100),
        ), display="name"),
        TableDef("cmdb_rel_ci", "CI Relationship", None, (
            *SYS_FIELDS, _ref("parent", "cmdb_ci"), _ref("child", "cmdb_ci"), _ref("type", "cmdb_rel_type"),
            _s("port"), _int("connection_strength", {"0": "Always", "1": "Usually", "2": "Occasionally"}),
        )),
        TableDef("task_ci", "CIs Affected", None, (
            *SYS_FIELDS, _ref("task", "task", "Task"), _ref("ci_item", "cmdb_ci", "Configuration Item"),
            _bool("manual_proposed_change"),
        )),
        TableDef("m2m_kb_task", "Knowledge Task", None, (
            *SYS_FIELDS, _ref("kb_knowledge", "kb_knowledge", "Knowledge"), _ref("task", "task", "Task"),
        )),
        TableDef("sys_db_object", "Table", None, (
            *SYS_FIELDS, _s("name", 80), _s("label", 80), _ref("super_class", "sys_db_object", "Extends table"),
            _bool("is_extendable"), _s("number_ref"),
        )),
        TableDef("sys_dictionary", "Dictionary Entry", None, (
            *SYS_FIELDS, _s("name", 80, "Table"), _s("element", 80, "Column name"), _s("column_label", 80),
            _s("internal_type", 40, "Type"), _s("reference", 80), _int("max_length"), _bool("mandatory"),
            _bool("active"), _bool("read_only"), _bool("display"),
        ), display="element"),
        TableDef("sys_audit", "Sys Audit", None, (
            FieldDef("sys_id", "GUID", max_length=32, label="Sys ID"), _dt("sys_created_on", "Created"),
            _s("sys_created_by", label="Created by"), _s("tablename", 80), _s("documentkey", 32), _s("fieldname", 80),
            _s("oldvalue", 8000), _s("newvalue", 8000), _s("reason", 255), _s("user"), _int("record_checkpoint"),
            _int("internal_checkpoint"),
        ), display="documentkey"),
        TableDef("sys_audit_delete", "Deleted Records", None, (
            *SYS_FIELDS, _s("tablename", 80), _s("documentkey", 32), _s("display_value", 255),
            _s("payload", 1_000_000),
        ), display="documentkey"),
    ]
    return _link_schema(tables)


def _link_schema(tables: Sequence[TableDef]) -> dict[str, TableDef]:
    schema: dict[str, TableDef] = {}
    for td in tables:
        parent = schema[td.parent] if td.parent else None
        inherited = dict(parent.fields) if parent else {}
        td.fields = {**inherited, **{f.name: f for f in td.own}}
        td.columns = tuple(td.fields)
        td.pos = {name: i for i, name in enumerate(td.columns)}
        td.ancestors = (td.name, *(parent.ancestors if parent else ()))
        td.indexes = tuple(f for f in INDEXED_FIELDS if f in td.fields)
        td.refs = tuple((f.name, td.pos[f.name], f.ref) for f in td.fields.values()
                        if f.type == "reference" and f.ref)
        if parent and not td.display:
            td.display = parent.display
        schema[td.name] = td
    return schema


# ---------------------------------------------------------------------------------------------------------------
# Seeded data


FIRST_NAMES = (
    "Beth", "David", "Fred", "Abel", "Carla", "Luis", "Mei", "Sanjay", "Olga", "Tomasz", "Amara", "Kenji", "Priya",
    "Ruth", "Jamal", "Ingrid", "Diego", "Fatima", "Noah", "Chloe", "Ahmed", "Lena", "Marco", "Yuki", "Grace",
    "Oscar", "Hannah", "Ivan", "Sofia", "Tariq", "Elena", "Kofi", "Nadia", "Pedro", "Zara", "Liam", "Maya", "Raj",
)
LAST_NAMES = (
    "Anglin", "Loo", "Luddy", "Tuter", "Mendez", "Okafor", "Chen", "Patel", "Ivanova", "Nowak", "Mensah", "Sato",
    "Iyer", "Goldberg", "Walker", "Larsen", "Ramirez", "Haddad", "Fischer", "Dubois", "Khan", "Novak", "Rossi",
    "Tanaka", "Hughes", "Silva", "Berg", "Petrov", "Moreau", "Aziz", "Costa", "Boateng", "Kowalski", "Reyes",
)
DEPARTMENTS = ("IT", "Finance", "HR", "Sales", "Engineering", "Customer Support", "Legal", "Marketing", "Facilities")
TITLES = ("Service Desk Analyst", "Systems Engineer", "Network Engineer", "DBA", "Accountant", "HR Partner",
          "Account Executive", "Software Engineer", "Support Specialist", "IT Manager", "Security Analyst")
TIME_ZONES = ("America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Berlin", "Asia/Kolkata",
              "Australia/Sydney")
GROUPS = ("Service Desk", "Network", "Database", "Linux Ops", "Windows Ops", "Application Support",
          "Security Operations", "Storage", "Change Management", "Problem Management", "Vendor Management",
          "Cloud Platform")
APPS = ("Payroll", "SAP ECC", "Workday", "Salesforce CRM", "Jira", "Confluence", "Outlook", "SharePoint", "Citrix",
        "GlobalProtect VPN", "Okta SSO", "Customer Portal", "Billing API", "Data Warehouse", "Kafka",
        "Order Service", "Inventory Service", "Expense Tool", "Zoom", "Teams")
ROLES = ("web", "app", "db", "api", "mq", "cache", "lb", "k8s-node", "batch", "auth", "etl", "sftp")
ENVS = ("prd", "stg", "dev", "dr")
ERRORS = (
    "ORA-00060: deadlock detected while waiting for resource",
    "ORA-01653: unable to extend table BILLING.INVOICE_LINES by 1024 in tablespace USERS",
    "java.lang.OutOfMemoryError: Java heap space",
    "HTTP 503 Service Unavailable from upstream {host}:8443",
    "Connection refused: connect to {ip}:5432",
    "SSL handshake failed: certificate has expired (notAfter=2025-02-01)",
    "kernel: Out of memory: Killed process 2231 (java) total-vm:8123456kB",
    "No space left on device: /var/log/app/server.log",
    "FATAL: remaining connection slots are reserved for non-replication superuser connections",
    "ERROR 1205 (HY000): Lock wait timeout exceeded; try restarting transaction",
    "upstream timed out (110: Connection timed out) while reading response header from upstream",
    "AADSTS50126: Error validating credentials due to invalid username or password",
    "Kafka consumer group billing-events lag 184233 messages on partition 7",
    "NFS server {host} not responding, still trying",
    "CrashLoopBackOff: back-off 5m0s restarting failed container order-service",
    "The trust relationship between this workstation and the primary domain failed",
)
TRACES = (
    "Exception in thread \"main\" java.lang.NullPointerException\n"
    "\tat com.acme.billing.InvoiceService.process(InvoiceService.java:214)\n"
    "\tat com.acme.billing.BatchRunner.run(BatchRunner.java:88)",
    "Traceback (most recent call last):\n  File \"/opt/etl/load.py\", line 142, in <module>\n"
    "    main()\n  File \"/opt/etl/load.py\", line 97, in main\n    conn = psycopg2.connect(DSN)\n"
    "psycopg2.OperationalError: could not connect to server: Connection refused",
    "System.Data.SqlClient.SqlException (0x80131904): Timeout expired.\n"
    "   at System.Data.SqlClient.SqlConnection.OnError(SqlException exception)\n"
    "   at Acme.Orders.Repository.Save(Order order) in C:\\build\\Orders\\Repository.cs:line 57",
    "org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection\n"
    "\tat org.hibernate.exception.internal.SQLStateConversionDelegate.convert(SQLStateConversionDelegate.java:112)",
    "panic: runtime error: invalid memory address or nil pointer dereference\n"
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x4a2b1c]\n"
    "goroutine 1 [running]:\nmain.(*Server).handle(0xc0000a6000)\n\t/src/server.go:77 +0x1c",
)
INCIDENT_SCENARIOS: tuple[tuple[str, str, str, str], ...] = (
    # (category, subcategory, short description, description)
    ("hardware", "disk", "{host}: /var filesystem at {pct}%",
     "Monitoring alert from {host} ({ip}): /var usage crossed {pct}%. Last log line: {err}."),
    ("software", "application", "{app} returning errors for users in {dept}",
     "Several users in {dept} report that {app} fails on login. Error shown: {err}. Started around {hhmm} UTC."),
    ("network", "vpn", "VPN drops every {n} minutes for remote staff",
     "Caller reports GlobalProtect disconnects every {n} minutes since this morning. Tested from home and hotspot."),
    ("software", "email", "Outlook not syncing on laptop {asset}",
     "Outlook stuck on 'Updating folder'. Mailbox {email} is at 49.2 GB of 50 GB. Callback number {phone}."),
    ("inquiry", "password", "Password reset and account unlock for {user}",
     "User {user} locked out after password change. Please reset and unlock. Contact: {phone}."),
    ("hardware", "cpu", "High CPU on {host} ({pct}%)",
     "CPU on {host} above {pct}% for 20 minutes. Top process: java (pid 2231). Related to {inc}? {err}."),
    ("database", "db2", "Connection pool exhausted on {host}",
     "{app} threw connection errors against {host}:5432. {err}. Pool size 50, active 50, waiting 212."),
    ("software", "batch", "Nightly batch job {job} failed with exit code {code}",
     "Job {job} on {host} failed at {hhmm} UTC with exit code {code}. Output tail:\n{trace}"),
    ("network", "dns", "DNS resolution failing for {fqdn}",
     "nslookup {fqdn} returns SERVFAIL from 10.0.0.53 and 10.0.1.53. Internal users affected; external OK."),
    ("security", "certificate", "TLS certificate on {fqdn} expires in {n} days",
     "Certificate for {fqdn} (issuer DigiCert) expires in {n} days. Renewal needs a change; see {inc}."),
    ("software", "application", "{app} slow: page loads over {n} seconds",
     "{app} response time degraded to {n}s p95 since the last deploy. APM shows slow calls to {host}:\n{trace}"),
    ("hardware", "printer", "Printer PRN-{code} on floor {n} offline",
     "Printer PRN-{code} shows 'offline' for all users on floor {n}. Power cycled, no change."),
    ("software", "kubernetes", "Pods crash-looping in {env} cluster for {app}",
     "{err}. Deployment rolled out at {hhmm} UTC. Previous image tag v2.14.{code} worked.\n{trace}"),
)
WORK_NOTES = (
    "Checked {host}: {err}. Escalating to {group}.",
    "Restarted the service on {host}; monitoring for 30 minutes.",
    "Called user at {phone}, no answer. Left voicemail.",
    "Cleared /var/log/archive on {host}, usage back to 61%.",
    "Linked to {inc} which has the same symptoms.",
    "Vendor case opened; waiting on response. Reference SR 3-{code}0012.",
    "Rolled back deployment of {app} to previous version.",
    "Increased heap from 4g to 8g on {host} (-Xmx8g). Will review GC logs tomorrow.",
)
CLOSE_NOTES = (
    "Restarted {app} services on {host}; confirmed with user.",
    "Root cause: log rotation disabled after patching. Re-enabled logrotate on {host}.",
    "Password reset completed, user confirmed access.",
    "Replaced certificate on {fqdn}; expiry now 2026-03-01.",
    "Duplicate of {inc}. Closing.",
    "Increased connection pool to 100 and added an alert on waiting threads.",
    "",
)
CHANGE_SUBJECTS = (
    "Patch {host} to RHEL 8.9 and reboot", "Upgrade {app} to version 3.{n}.0", "Rotate TLS certificates on {fqdn}",
    "Increase disk on {host} from 200 GB to 400 GB", "Firewall rule: allow {ip} to {host}:443",
    "Deploy {app} release 2025.{n}", "Failover test for {host} to DR site",
)
KB_TOPICS = (
    ("How to reset your password with Okta", "Self-service"),
    ("Connecting to GlobalProtect VPN on macOS", "Network"),
    ("Troubleshooting Outlook sync issues", "Email"),
    ("Requesting access to {app}", "Access"),
    ("Clearing disk space on Linux servers", "Linux"),
    ("Runbook: restarting {app}", "Runbooks"),
    ("Known error: {err}", "Known Errors"),
    ("Setting up multi-factor authentication", "Security"),
)
VENDORS = (("Cisco TAC", "SR 69{n:07d}"), ("Microsoft Premier", "1190{n:08d}"), ("Oracle Support", "SR 3-{n:010d}"),
           ("Red Hat", "0{n:07d}"), ("AWS Support", "case-{n:011d}"), ("Dell ProSupport", "1{n:09d}"))


class _Rand:
    """Thin, fast helpers over one seeded random.Random."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)
        self.random = self.rng.random

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[int(self.random() * len(seq))]

    def sys_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def int(self, lo: int, hi: int) -> int:
        return lo + int(self.random() * (hi - lo + 1))

    def chance(self, p: float) -> bool:
        return self.random() < p


@dataclass
class _Pools:
    """Already generated rows later tables point at."""

    users: list[tuple[str, str, str, str]]  # sys_id, user_name, name, email
    groups: list[str]
    cis: list[tuple[str, str]]  # sys_id, name
    hosts: list[str]
    problems: list[str]
    changes: list[str]
    incidents: list[tuple[str, str]]  # sys_id, number


def _timeline(r: _Rand, n: int, start: int, end: int) -> tuple[list[int], list[int]]:
    """Created times (sorted) and updated times with ties: ~30% in groups of 2-10 sharing one second, plus one
    mass update (a script touching many records in the same second)."""
    span = max(1, end - start)
    created = sorted(start + int(r.random() * span) for _ in range(n))
    updated = [c if r.chance(0.2) else min(end, c + int(r.rng.expovariate(1 / 259200))) for c in created]
    members = r.rng.sample(range(n), int(n * 0.3))
    i = 0
    while i + 1 < len(members):
        group = members[i:i + r.int(2, 10)]
        i += len(group)
        if len(group) >= 2:
            stamp = max(updated[j] for j in group)
            for j in group:
                updated[j] = stamp
    if n >= 40:
        group = r.rng.sample(range(n), min(n // 20, 40))
        stamp = max(updated[j] for j in group)
        for j in group:
            updated[j] = stamp
    return created, updated


class _Generator:
    """Deterministic rows per table: the same seed and counts give the same data, table by table."""

    def __init__(self, seed: int, start: datetime, span: timedelta, schema: Mapping[str, TableDef]) -> None:
        self.seed = seed
        self.start = int(start.timestamp())
        self.end = int((start + span).timestamp())
        self.schema = schema

    def rand(self, table: str) -> _Rand:
        return _Rand(f"{self.seed}/{table}")

    def _sys(self, r: _Rand, sys_id: str, created: int, updated: int, by: str, mods: int) -> dict[str, str]:
        return {"sys_id": sys_id, "sys_created_on": _fmt_epoch(created), "sys_created_by": by,
                "sys_updated_on": _fmt_epoch(updated), "sys_updated_by": by, "sys_mod_count": str(mods)}

    def users(self, n: int) -> list[dict[str, str]]:
        r = self.rand("sys_user")
        rows: list[dict[str, str]] = []
        seen: set[str] = set()
        ids = [r.sys_id() for _ in range(n)]
        for i in range(n):
            first, last = (("System", "Administrator") if i == 0 else (r.pick(FIRST_NAMES), r.pick(LAST_NAMES)))
            user_name = "admin" if i == 0 else f"{first}.{last}".lower()
            while user_name in seen:
                user_name = f"{first}.{last}{r.int(2, 99)}".lower()
            seen.add(user_name)
            created = self.start - r.int(30, 1000) * 86400
            updated = created if r.chance(0.5) else self.start + int(r.random() * (self.end - self.start))
            row = self._sys(r, ids[i], created, updated, "admin", r.int(0, 12))
            row.update(
                user_name=user_name, first_name=first, last_name=last, name=f"{first} {last}",
                email=f"{user_name}@example.com", title=r.pick(TITLES), department=r.pick(DEPARTMENTS),
                phone=f"+1 415 555 {r.int(100, 9999):04d}", mobile_phone=f"+1 628 555 {r.int(100, 9999):04d}",
                manager=ids[r.int(0, i - 1)] if i > 1 else "", active="false" if r.chance(0.05) else "true",
                locked_out="true" if r.chance(0.02) else "false", vip="true" if r.chance(0.05) else "false",
                time_zone=r.pick(TIME_ZONES), employee_number=f"E{100000 + i}",
                last_login_time=_fmt_epoch(updated - r.int(0, 86400)), web_service_access_only="false",
            )
            rows.append(row)
        return rows

    def groups(self, n: int, users: Sequence[str]) -> list[dict[str, str]]:
        r = self.rand("sys_user_group")
        rows = []
        for i in range(n):
            name = GROUPS[i] if i < len(GROUPS) else f"Support Group {i + 1}"
            created = self.start - r.int(100, 1000) * 86400
            row = self._sys(r, r.sys_id(), created, created + r.int(0, 50) * 86400, "admin", r.int(0, 4))
            row.update(name=name, description=f"{name} team", manager=r.pick(users),
                       email=name.lower().replace(" ", "-") + "@example.com", active="true", type="itil")
            rows.append(row)
        return rows

    def cis(self, table: str, n: int, users: Sequence[str], groups: Sequence[str]) -> list[dict[str, str]]:
        r = self.rand(table)
        rows = []
        for i in range(n):
            created = self.start - r.int(10, 700) * 86400
            updated = created if r.chance(0.4) else self.start + int(r.random() * (self.end - self.start))
            row = self._sys(r, r.sys_id(), created, updated, "discovery", r.int(0, 30))
            ip = f"10.{r.int(0, 40)}.{r.int(0, 255)}.{r.int(2, 254)}"
            if table == "cmdb_ci":
                name = f"{APPS[i % len(APPS)]}" + (f" {i // len(APPS) + 1}" if i >= len(APPS) else "")
                extra = {"category": "Application", "manufacturer": "", "short_description": f"{name} application"}
            else:
                prefix = "lnx-" if table == "cmdb_ci_linux_server" else "srv-"
                name = f"{prefix}{ROLES[i % len(ROLES)]}-{ENVS[(i // len(ROLES)) % len(ENVS)]}-{i:03d}"
                linux = table == "cmdb_ci_linux_server"
                extra = {
                    "category": "Hardware", "manufacturer": r.pick(("Dell Inc.", "HPE", "VMware, Inc.", "Lenovo")),
                    "short_description": f"{'Linux' if linux else 'Windows'} server {name}",
                    "host_name": name, "fqdn": f"{name}.corp.example.com",
                    "os": "Linux Red Hat" if linux else "Windows 2019 Standard",
                    "os_version": r.pick(("8.9", "9.3", "7.9")) if linux else "10.0.17763",
                    "cpu_count": str(r.pick((2, 4, 8, 16, 32))), "ram": str(r.pick((4096, 8192, 16384, 65536))),
                    "disk_space": str(r.pick((100, 200, 500, 1000))), "virtual": "true" if r.chance(0.7) else "false",
                }
                if linux:
                    extra["kernel_release"] = r.pick(("4.18.0-513.el8.x86_64", "5.14.0-362.el9.x86_64"))
            row.update(
                name=name, sys_class_name=table, serial_number=f"SN{r.int(10**7, 10**8 - 1)}",
                asset_tag=f"P{r.int(100000, 999999)}", ip_address=ip, environment=r.pick(
                    ("Production", "Staging", "Development", "Disaster Recovery")),
                operational_status=r.pick(("1", "1", "1", "2", "3")), install_status=r.pick(("1", "1", "1", "3", "7")),
                assigned_to=r.pick(users), managed_by=r.pick(users), support_group=r.pick(groups), **extra,
            )
            rows.append(row)
        return rows

    def _task(self, r: _Rand, table: str, sys_id: str, number: str, created: int, updated: int,
              pools: _Pools) -> dict[str, str]:
        """Fields every task shares; the caller fills the class's own fields and the text."""
        opener = r.pick(pools.users)
        assignee = r.pick(pools.users) if r.chance(0.9) else None
        row = self._sys(r, sys_id, created, updated, opener[1], 0 if created == updated else r.int(1, 25))
        closed = updated - created > 86400 and r.chance(0.6)
        priority = r.pick(("1", "2", "3", "3", "4", "4", "4", "5"))
        row.update(
            number=number, sys_class_name=table, priority=priority, impact=r.pick(("1", "2", "3")),
            urgency=r.pick(("1", "2", "3")), active="false" if closed else "true",
            approval="approved" if table == "change_request" and closed else "not requested",
            assigned_to=assignee[0] if assignee else "", assignment_group=r.pick(pools.groups),
            opened_by=opener[0], opened_at=row["sys_created_on"], closed_at=_fmt_epoch(updated) if closed else "",
            closed_by=assignee[0] if closed and assignee else "",
            cmdb_ci=r.pick(pools.cis)[0] if r.chance(0.85) else "",
            contact_type=r.pick(("phone", "email", "self-service", "monitoring", "monitoring")),
            due_date=_fmt_epoch(created + r.int(1, 14) * 86400), escalation=r.pick(("0", "0", "0", "1", "2")),
            reassignment_count=str(r.int(0, 4)), made_sla="false" if r.chance(0.15) else "true",
            watch_list=",".join(r.pick(pools.users)[0] for _ in range(r.pick((0, 0, 0, 0, 0, 1, 1, 2)))),
            correlation_id=f"MON-{r.int(10**6, 10**7)}" if r.chance(0.3) else "", parent="",
        )
        return row

    def _words(self, r: _Rand, pools: _Pools, created: int) -> dict[str, str]:
        host = r.pick(pools.hosts)
        user = r.pick(pools.users)
        words = {
            "host": host, "fqdn": f"{host}.corp.example.com",
            "ip": f"10.{r.int(0, 40)}.{r.int(0, 255)}.{r.int(2, 254)}",
            "app": r.pick(APPS), "pct": str(r.int(85, 100)), "n": str(r.int(2, 45)), "dept": r.pick(DEPARTMENTS),
            "asset": f"LT-{r.int(10000, 99999)}", "email": user[3], "user": user[2],
            "phone": f"+1 (415) 555-{r.int(100, 9999):04d}",
            "job": f"{r.pick(('BILL', 'ETL', 'GL', 'HR'))}_{r.int(1, 99):02d}",
            "code": str(r.int(1, 255)), "env": r.pick(ENVS), "hhmm": f"{r.int(0, 23):02d}:{r.int(0, 59):02d}",
            "group": r.pick(GROUPS), "trace": r.pick(TRACES) if r.chance(0.4) else "(no stack trace captured)",
            "inc": pools.incidents[r.int(0, len(pools.incidents) - 1)][1] if pools.incidents else "INC0010001",
        }
        words["err"] = r.pick(ERRORS).format(**words)
        return words

    def _journal(self, r: _Rand, pools: _Pools, created: int, updated: int, words: Mapping[str, str]) -> str:
        entries = []
        for _ in range(r.pick((0, 0, 0, 0, 1, 1, 1, 1, 2, 3))):
            author = r.pick(pools.users)[2]
            stamp = _fmt_epoch(created + int(r.random() * max(1, updated - created)))
            entries.append(f"{stamp} - {author} (Work notes)\n{r.pick(WORK_NOTES).format(**words)}")
        return "\n\n".join(sorted(entries, reverse=True))  # newest first, as the journal renders

    def tasks(self, table: str, n: int, pools: _Pools) -> list[dict[str, str]]:
        r = self.rand(table)
        prefix = self.schema[table].number_prefix
        created, updated = _timeline(r, n, self.start, self.end)
        ids = [r.sys_id() for _ in range(n)]
        rows = []
        for i in range(n):
            c, u = created[i], updated[i]
            row = self._task(r, table, ids[i], f"{prefix}{10001 + i:07d}", c, u, pools)
            words = self._words(r, pools, c)
            closed = row["active"] == "false"
            if table == "incident":
                category, subcategory, short, desc = r.pick(INCIDENT_SCENARIOS)
                state = "7" if closed else r.pick(("1", "2", "2", "3", "6"))
                row.update(
                    caller_id=r.pick(pools.users)[0], category=category, subcategory=subcategory,
                    incident_state=state, state=state, severity=r.pick(("1", "2", "3", "3")),
                    close_code=r.pick(("Solved (Work Around)", "Solved (Permanently)")) if closed else "",
                    resolved_at=row["closed_at"], resolved_by=row["closed_by"],
                    problem_id=r.pick(pools.problems) if pools.problems and r.chance(0.1) else "",
                    rfc=r.pick(pools.changes) if pools.changes and r.chance(0.05) else "",
                    hold_reason="1" if state == "3" else "", reopen_count=str(r.pick((0, 0, 0, 0, 1))),
                    close_notes=r.pick(CLOSE_NOTES).format(**words) if closed else "",
                )
            elif table == "change_request":
                short = r.pick(CHANGE_SUBJECTS)
                desc = "Planned change on {host}. Ticket raised after {inc}. Expected impact: {n} minutes of downtime."
                begin = c + r.int(1, 10) * 86400
                row.update(
                    type=r.pick(("normal", "normal", "standard", "emergency")), risk=r.pick(("2", "3", "4", "4")),
                    state="3" if closed else r.pick(("-5", "-4", "-3", "-2", "-1")), category=r.pick(
                        ("Software", "Hardware", "Network")), requested_by=r.pick(pools.users)[0],
                    start_date=_fmt_epoch(begin), end_date=_fmt_epoch(begin + r.int(1, 8) * 3600),
                    implementation_plan="1. Drain {host} from the pool\n2. Apply update\n3. Reboot and verify "
                    "health checks".format(**words),
                    backout_plan="Restore snapshot taken before the change; re-add {host} to the pool.".format(**words),
                    test_plan="Smoke test {app} login and one order end to end.".format(**words),
                    justification=f"Required to remediate {words['inc']}.", cab_required=r.pick(("true", "false")),
                    close_notes="Implemented as planned." if closed else "",
                )
            else:  # problem
                category, subcategory, short, desc = r.pick(INCIDENT_SCENARIOS)
                short = "Recurring: " + short
                state = "107" if closed else r.pick(("101", "102", "103", "104"))
                row.update(
                    problem_state=state, state=state, known_error="true" if r.chance(0.3) else "false",
                    first_reported_by_task="", cause_notes="Root cause under investigation: {err}".format(**words),
                    fix_notes="Apply vendor patch and monitor {host}.".format(**words) if closed else "",
                    workaround="Restart {app} on {host} when the alert fires.".format(**words),
                    resolution_code="fix_applied" if closed else "", related_incidents=str(r.int(0, 12)),
                    close_notes="Fix verified in production." if closed else "",
                )
            row["short_description"] = short.format(**words)[:160]
            row["description"] = desc.format(**words)
            row["work_notes"] = self._journal(r, pools, c, u, words)
            rows.append(row)
        return rows

    def knowledge(self, n: int, pools: _Pools) -> list[dict[str, str]]:
        r = self.rand("kb_knowledge")
        created, updated = _timeline(r, n, self.start - 200 * 86400, self.end)
        rows = []
        for i in range(n):
            words = self._words(r, pools, created[i])
            topic, category = r.pick(KB_TOPICS)
            author = r.pick(pools.users)
            row = self._sys(r, r.sys_id(), created[i], updated[i], author[1], r.int(0, 9))
            title = topic.format(**words)
            state = r.pick(("published", "published", "published", "draft", "retired"))
            row.update(
                number=f"KB{10001 + i:07d}", short_description=title,
                text=f"<h2>{xml_escape(title)}</h2><p>Applies to {words['app']}.</p><ol><li>Open the portal.</li>"
                     f"<li>Check the status of {words['host']}.</li><li>If you see <code>{xml_escape(words['err'])}"
                     f"</code>, contact {words['group']}.</li></ol>",
                kb_knowledge_base="IT", kb_category=category, workflow_state=state, author=author[0],
                article_type="text", published=_fmt_epoch(created[i])[:10], valid_to="2100-01-01",
                view_count=str(r.int(0, 5000)), active="false" if state == "retired" else "true",
            )
            rows.append(row)
        return rows

    def vendor_tickets(self, n: int, pools: _Pools) -> list[dict[str, str]]:
        r = self.rand("u_vendor_ticket")
        created, updated = _timeline(r, n, self.start, self.end)
        rows = []
        for i in range(n):
            words = self._words(r, pools, created[i])
            vendor, case = r.pick(VENDORS)
            incident = r.pick(pools.incidents) if pools.incidents else ("", "")
            row = self._sys(r, r.sys_id(), created[i], updated[i], r.pick(pools.users)[1], r.int(0, 8))
            status = r.pick(("open", "awaiting_vendor", "awaiting_customer", "resolved", "closed"))
            row.update(
                u_number=f"VND{1001 + i:07d}", u_vendor=vendor, u_vendor_case_id=case.format(n=r.int(1, 10**7)),
                u_incident=incident[0], u_summary=f"{vendor}: {words['err']}"[:255], u_status=status,
                u_severity=r.pick(("1", "2", "3", "4")), u_contact_email=words["email"],
                u_escalated="true" if r.chance(0.1) else "false",
                u_notes=f"Opened for {incident[1] or 'no incident'} on {words['host']}. Vendor asked for logs; "
                        f"uploaded sosreport. Contact {words['user']} at {words['phone']}.",
            )
            rows.append(row)
        return rows

    def relations(self, pools: _Pools, n_rel: int, tasks: Sequence[Mapping[str, str]],
                  articles: Sequence[Mapping[str, str]], n_kb: int
                  ) -> tuple[list[dict[str, str]], list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
        """cmdb_rel_type, cmdb_rel_ci (a random CI topology), task_ci (every task's CI, as the platform records
        it, and now and then a second one) and m2m_kb_task (articles used on incidents)."""
        r = self.rand("relations")
        stamp = self.start - 300 * 86400
        types = []
        for name in REL_TYPES:
            row = self._sys(r, r.sys_id(), stamp, stamp, "system", 0)
            parent, _, child = name.partition("::")
            row.update(name=name, parent_descriptor=parent, child_descriptor=child)
            types.append(row)
        cis = [ci for ci, _ in pools.cis]
        rels: list[dict[str, str]] = []
        pairs: set[tuple[str, str]] = set()
        while len(rels) < n_rel and len(cis) > 1 and len(pairs) < len(cis) * (len(cis) - 1):
            parent, child = r.pick(cis), r.pick(cis)
            if parent == child or (parent, child) in pairs:
                continue
            pairs.add((parent, child))
            created = self.start - r.int(1, 300) * 86400
            row = self._sys(r, r.sys_id(), created, created, "discovery", 0)
            row.update(parent=parent, child=child, type=r.pick(types)["sys_id"], port="",
                       connection_strength=r.pick(("0", "0", "1", "2")))
            rels.append(row)
        task_cis = []
        for task in tasks:
            items = [task["cmdb_ci"]] if task.get("cmdb_ci") else []
            if items and r.chance(0.1):
                items.append(r.pick(cis))
            for ci in dict.fromkeys(items):
                row = self._sys(r, r.sys_id(), 0, 0, task["sys_created_by"], 0)
                row.update(sys_created_on=task["sys_created_on"], sys_updated_on=task["sys_created_on"],
                           task=task["sys_id"], ci_item=ci, manual_proposed_change="false")
                task_cis.append(row)
        incidents = [t for t in tasks if t.get("sys_class_name") == "incident"]
        used = []
        for _ in range(min(n_kb, len(incidents) * len(articles))):
            task, article = r.pick(incidents), r.pick(articles)
            row = self._sys(r, r.sys_id(), 0, 0, task["sys_updated_by"], 0)
            row.update(sys_created_on=task["sys_updated_on"], sys_updated_on=task["sys_updated_on"],
                       kb_knowledge=article["sys_id"], task=task["sys_id"])
            used.append(row)
        return types, rels, task_cis, used

    def meta(self, schema: Mapping[str, TableDef]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """sys_db_object and sys_dictionary rows; an inherited field is a row of the table that defines it."""
        r = self.rand("meta")
        stamp = self.start - 400 * 86400
        tables: dict[str, dict[str, str]] = {}
        for name, td in schema.items():
            row = self._sys(r, r.sys_id(), stamp, stamp, "system", 1)
            row.update(name=name, label=td.label, super_class=tables[td.parent]["sys_id"] if td.parent else "",
                       is_extendable="true" if name in ("task", "cmdb_ci", "cmdb_ci_server") else "false",
                       number_ref=td.number_prefix)
            tables[name] = row
        entries = []
        for name, td in schema.items():
            collection = self._sys(r, r.sys_id(), stamp, stamp, "system", 0)
            collection.update(name=name, element="", column_label=td.label, internal_type="collection",
                              reference="", max_length="40", mandatory="false", active="true", read_only="false",
                              display="false")
            entries.append(collection)
            for f in td.own:
                row = self._sys(r, r.sys_id(), stamp, stamp, "system", 0)
                row.update(name=name, element=f.name, column_label=f.column_label, internal_type=f.type,
                           reference=f.ref or "", max_length=str(f.max_length), mandatory="false", active="true",
                           read_only="true" if f.name.startswith("sys_") else "false",
                           display="true" if f.name == td.display else "false")
                entries.append(row)
        return list(tables.values()), entries


DEFAULT_COUNTS = {
    "sys_user": 120, "sys_user_group": 12, "cmdb_ci": 30, "cmdb_ci_server": 40, "cmdb_ci_linux_server": 80,
    "incident": 500, "change_request": 100, "problem": 50, "kb_knowledge": 60, "u_vendor_ticket": 80,
    "cmdb_rel_ci": 150, "m2m_kb_task": 40,
}
REL_TYPES = ("Depends on::Used by", "Runs on::Runs", "Hosted on::Hosts", "Connects to::Connected by")


# ---------------------------------------------------------------------------------------------------------------
# Encoded queries


@dataclass(frozen=True)
class Term:
    path: tuple[str, ...]  # a field, or a dot-walk chain
    op: str
    values: tuple[str, ...]
    test: Callable[[str], bool]

    @property
    def value(self) -> str:
        return self.values[0] if self.values else ""


@dataclass(frozen=True)
class Order:
    path: tuple[str, ...]
    desc: bool
    numeric: bool


@dataclass
class Query:
    clauses: list[list[list[Term]]]  # OR of clauses (^NQ); a clause is an AND of OR-groups (^OR)
    order: list[Order]

    def terms(self) -> Iterator[Term]:
        for clause in self.clauses:
            for group in clause:
                yield from group


_OPERATORS = ("ISNOTEMPTY", "ISEMPTY", "ANYTHING", "NOT LIKE", "NOTLIKE", "NOTIN", "IN", "LIKE", "STARTSWITH",
              "ENDSWITH", "BETWEEN", "NSAMEAS", "SAMEAS", ">=", "<=", "!=", "=", ">", "<")
_TERM_RE = re.compile(r"([a-z_][a-z0-9_.]*)(" + "|".join(re.escape(op) for op in _OPERATORS) + r")(.*)\Z", re.S)
_DATE_GENERATE = re.compile(r"javascript:\s*gs\.dateGenerate\(\s*'([^']*)'\s*,\s*'([^']*)'\s*\)\s*\Z")
_RELATIVE = re.compile(r"javascript:\s*gs\.(daysAgoStart|daysAgoEnd|daysAgo|hoursAgo|minutesAgo)\(\s*(-?\d+)\s*\)\s*\Z")
_RANGE_OPS = frozenset({"=", ">", ">=", "<", "<=", "BETWEEN"})


def field_chain(schema: Mapping[str, TableDef], table: str, path: Sequence[str]) -> list[tuple[str, FieldDef]] | None:
    """[(table, field), ...] for a (dot-walked) field, or None when any step does not exist."""
    chain = []
    for i, name in enumerate(path):
        fd = schema[table].fields.get(name)
        if fd is None or (i < len(path) - 1 and (fd.type != "reference" or not fd.ref)):
            return None
        chain.append((table, fd))
        table = fd.ref or table
    return chain


def _literal(value: str, fd: FieldDef, tz: ZoneInfo, clock: datetime) -> str:
    """A query value as the raw string it is compared with: dates become UTC `YYYY-MM-DD HH:MM:SS`."""
    if fd.type == "boolean":
        return {"1": "true", "0": "false"}.get(value, value)
    if fd.type != "glide_date_time":
        return value
    if _DATE_RE.match(value):
        return value + " 00:00:00"  # plain date literals are UTC midnight
    generated = _DATE_GENERATE.match(value)
    if generated:  # read in the user's time zone, like the instance does
        day, clock_time = generated.groups()
        clock_time = {"start": "00:00:00", "end": "23:59:59"}.get(clock_time, clock_time)
        local = datetime.strptime(f"{day} {clock_time}", SN_TIME).replace(tzinfo=tz)
        return sn_time(local)
    relative = _RELATIVE.match(value)
    if relative:
        fn, amount = relative.group(1), int(relative.group(2))
        if fn == "minutesAgo":
            return sn_time(clock - timedelta(minutes=amount))
        if fn == "hoursAgo":
            return sn_time(clock - timedelta(hours=amount))
        day = (clock.astimezone(tz) - timedelta(days=amount))
        if fn == "daysAgoStart":
            day = day.replace(hour=0, minute=0, second=0)
        elif fn == "daysAgoEnd":
            day = day.replace(hour=23, minute=59, second=59)
        return sn_time(day)
    return value


def _predicate(op: str, values: tuple[str, ...], numeric: bool) -> Callable[[str], bool]:
    value = values[0] if values else ""

    def num(v: str) -> float | None:
        try:
            return float(v)
        except ValueError:
            return None

    if op == "=":
        return lambda v: v == value
    if op == "!=":
        return lambda v: v != value
    if op in (">", ">=", "<", "<="):
        compare: Callable[[Any, Any], bool] = {
            ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
        }[op]
        target = num(value) if numeric else None
        if target is not None:
            def numeric_test(v: str) -> bool:
                got = num(v) if v else None
                return got is not None and compare(got, target)
            return numeric_test
        return lambda v: v != "" and compare(v, value)  # an empty value is NULL: no order comparison matches
    if op in ("IN", "NOTIN"):
        members = frozenset(value.split(","))
        return (lambda v: v in members) if op == "IN" else (lambda v: v not in members)
    lowered = value.lower()
    if op == "LIKE":
        return lambda v: lowered in v.lower()
    if op in ("NOT LIKE", "NOTLIKE"):
        return lambda v: lowered not in v.lower()
    if op == "STARTSWITH":
        return lambda v: v.lower().startswith(lowered)
    if op == "ENDSWITH":
        return lambda v: v.lower().endswith(lowered)
    if op == "ISEMPTY":
        return lambda v: v == ""
    if op == "ISNOTEMPTY":
        return lambda v: v != ""
    if op == "BETWEEN":
        low, high = (values + ("", ""))[:2]
        lo_n, hi_n = (num(low), num(high)) if numeric else (None, None)
        if lo_n is not None and hi_n is not None:
            def between_numbers(v: str) -> bool:
                got = num(v) if v else None
                return got is not None and lo_n <= got <= hi_n
            return between_numbers
        return lambda v: v != "" and low <= v <= high
    return lambda v: True  # ANYTHING


def parse_query(text: str, schema: Mapping[str, TableDef], table: str, tz: ZoneInfo, clock: datetime) -> Query:
    """Parse an encoded query. Terms on fields the table does not have are dropped silently, as the instance does."""
    text = text.replace("^^", "\x00")  # `^^` is an escaped caret inside a value
    clauses: list[list[list[Term]]] = []
    order: list[Order] = []
    seen_order: set[tuple[str, ...]] = set()
    for clause_text in text.split("^NQ"):
        clause: list[list[Term]] = []
        for token in clause_text.split("^"):
            token = token.replace("\x00", "^")
            if token.startswith("ORDERBY"):
                desc = token.startswith("ORDERBYDESC")
                path = tuple(token[11 if desc else 7:].strip().split("."))
                chain = field_chain(schema, table, path)
                if chain and path not in seen_order:
                    seen_order.add(path)
                    order.append(Order(path, desc, chain[-1][1].type == "integer"))
                continue
            is_or = token.startswith("OR") and not token.startswith("ORDERBY")
            term = _parse_term(token[2:] if is_or else token, schema, table, tz, clock)
            if term is None:
                continue
            if is_or and clause:
                clause[-1].append(term)
            else:
                clause.append([term])
        clauses.append(clause)
    return Query(clauses or [[]], order)


def _parse_term(token: str, schema: Mapping[str, TableDef], table: str, tz: ZoneInfo, clock: datetime) -> Term | None:
    match = _TERM_RE.match(token)
    if not match:
        return None  # GROUPBY, EQ, empty tokens, malformed terms: ignored
    name, op, raw = match.groups()
    path = tuple(name.split("."))
    chain = field_chain(schema, table, path)
    if chain is None:
        return None
    fd = chain[-1][1]
    if op == "BETWEEN":
        values = tuple(_literal(v, fd, tz, clock) for v in raw.split("@", 1))
    elif op in ("IN", "NOTIN"):
        values = (",".join(_literal(v, fd, tz, clock) for v in raw.split(",")),)
    else:
        values = (_literal(raw, fd, tz, clock),)
    if op in ("SAMEAS", "NSAMEAS"):
        other = field_chain(schema, table, raw.split("."))
        if other is None:
            return None
        values = (raw,)
        return Term(path, op, values, lambda v: True)  # evaluated against the row, see _Store.term_matches
    return Term(path, op, values, _predicate(op, values, fd.type == "integer"))


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(s for s in spans if s[1] > s[0]):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _positions(spans: Sequence[tuple[int, int]], desc: bool) -> Iterator[int]:
    for lo, hi in (reversed(spans) if desc else spans):
        yield from (range(hi - 1, lo - 1, -1) if desc else range(lo, hi))


def _slice(spans: Sequence[tuple[int, int]], offset: int, limit: int, desc: bool) -> list[int]:
    """Positions offset..offset+limit of the union of sorted disjoint spans, without walking the skipped ones."""
    out: list[int] = []
    for lo, hi in (reversed(spans) if desc else spans):
        size = hi - lo
        if offset >= size:
            offset -= size
            continue
        take = min(size - offset, limit - len(out))
        if desc:
            out.extend(range(hi - 1 - offset, hi - 1 - offset - take, -1))
        else:
            out.extend(range(lo + offset, lo + offset + take))
        offset = 0
        if len(out) >= limit:
            break
    return out


# ---------------------------------------------------------------------------------------------------------------
# Storage


Row = tuple[str, tuple[str, ...]]  # (class, values in the class's column order)


class _Store:
    """Rows by sys_id plus sorted date indexes per table. Callers hold `lock` around reads that must be consistent."""

    def __init__(self, schema: Mapping[str, TableDef]) -> None:
        self.schema = schema
        self.lock = threading.RLock()
        self.rows: dict[str, Row] = {}
        self.deleted: dict[str, tuple[Row, str]] = {}  # sys_id -> (last row, deleted at)
        self.index: dict[str, dict[str, list[str]]] = {t: {f: [] for f in td.indexes} for t, td in schema.items()}

    # -- loading and mutation ------------------------------------------------------------------------------------
    def load(self, cls: str, records: Iterable[Mapping[str, str]]) -> None:
        """Bulk add without keeping indexes sorted; call `sort_indexes` afterwards."""
        td = self.schema[cls]
        columns = td.columns
        views = [self.index[t] for t in td.ancestors]
        for record in records:
            values = tuple(map(record.get, columns, repeat("")))
            sys_id = values[0]
            self.rows[sys_id] = (cls, values)
            for idx in views:
                for f, keys in idx.items():
                    keys.append(values[td.pos[f]] + sys_id)

    def sort_indexes(self) -> None:
        for idx in self.index.values():
            for keys in idx.values():
                keys.sort()

    def add(self, cls: str, values: tuple[str, ...]) -> None:
        td = self.schema[cls]
        self.rows[values[0]] = (cls, values)
        for t in td.ancestors:
            for f, keys in self.index[t].items():
                insort(keys, values[td.pos[f]] + values[0])

    def remove(self, sys_id: str) -> Row:
        cls, values = self.rows.pop(sys_id)
        td = self.schema[cls]
        for t in td.ancestors:
            for f, keys in self.index[t].items():
                key = values[td.pos[f]] + sys_id
                i = bisect_left(keys, key)
                if i < len(keys) and keys[i] == key:
                    del keys[i]
        return cls, values

    # -- reading ----------------------------------------------------------------------------------------------
    def value(self, cls: str, values: tuple[str, ...], path: Sequence[str]) -> str:
        """Raw value of a field or a dot-walk chain ("" when a reference on the way is empty or dangling)."""
        value = values[self.schema[cls].pos[path[0]]]
        for name in path[1:]:
            row = self.rows.get(value) if value else None
            if row is None:
                return ""
            pos = self.schema[row[0]].pos.get(name)
            if pos is None:
                return ""
            value = row[1][pos]
        return value

    def as_dict(self, sys_id: str, table: str | None = None) -> dict[str, str]:
        cls, values = self.rows[sys_id]
        return self.row_dict(cls, values, table)

    def row_dict(self, cls: str, values: tuple[str, ...], table: str | None = None) -> dict[str, str]:
        td = self.schema[cls]
        if table is None or table == cls:
            return dict(zip(td.columns, values, strict=True))
        return {c: values[td.pos[c]] for c in self.schema[table].columns}

    def term_matches(self, term: Term, cls: str, values: tuple[str, ...]) -> bool:
        got = self.value(cls, values, term.path)
        if term.op in ("SAMEAS", "NSAMEAS"):
            same = got == self.value(cls, values, term.value.split("."))
            return same if term.op == "SAMEAS" else not same
        return term.test(got)

    def matches(self, query: Query, cls: str, values: tuple[str, ...]) -> bool:
        return any(
            all(any(self.term_matches(t, cls, values) for t in group) for group in clause)
            for clause in query.clauses
        )

    def fetch(self, table: str, query: Query, offset: int, limit: int,
              count: bool) -> tuple[list[str], int | None, bool]:
        """sys_ids of rows offset..offset+limit in query order, the total (None when not counted) and whether more
        rows follow. Keyset queries ordered by an indexed date (then sys_id) are answered from the sorted keys."""
        td = self.schema[table]
        order = query.order
        by_index = bool(order) and len(order[0].path) == 1 and order[0].path[0] in td.indexes and (
            len(order) == 1 or (len(order) == 2 and order[1].path == ("sys_id",) and order[1].desc == order[0].desc))
        if by_index:
            index_field, desc = order[0].path[0], order[0].desc
        else:  # narrow the candidates with whichever index the query bounds
            index_field = next((f for f in td.indexes if all(self._bounded(c, f) for c in query.clauses)),
                               td.indexes[0])
            desc = False
        keys = self.index[table][index_field]
        spans = [self._span(keys, clause, index_field) for clause in query.clauses]
        merged = _merge((lo, hi) for lo, hi, _ in spans)
        exact = all(e for _, _, e in spans)
        end = offset + limit
        if by_index and exact:
            total = sum(hi - lo for lo, hi in merged)
            return [keys[p][DATE_LEN:] for p in _slice(merged, offset, limit, desc)], total, end < total
        rows = self.rows
        if by_index:
            page: list[str] = []
            seen = 0
            for p in _positions(merged, desc):
                sys_id = keys[p][DATE_LEN:]
                cls, values = rows[sys_id]
                if self.matches(query, cls, values):
                    if offset <= seen < end:
                        page.append(sys_id)
                    seen += 1
                    if not count and seen > end:
                        break
            return page, (seen if count else None), seen > end
        candidates = [keys[p][DATE_LEN:] for p in _positions(merged, False)]
        if not exact:
            candidates = [s for s in candidates if self.matches(query, *rows[s])]
        candidates.sort()  # no ORDERBY: sys_id order
        for term in reversed(order):  # stable sorts, least significant key first
            candidates.sort(key=self._sort_key(term), reverse=term.desc)
        return candidates[offset:end], len(candidates), end < len(candidates)

    def _sort_key(self, order: Order) -> Callable[[str], Any]:
        rows, value = self.rows, self.value

        def key(sys_id: str) -> Any:
            raw = value(*rows[sys_id], order.path)
            if order.numeric:
                try:
                    return (1, float(raw))
                except ValueError:
                    return (0, 0.0)
            return raw
        return key

    @staticmethod
    def _bounded(clause: list[list[Term]], index_field: str) -> bool:
        return any(len(g) == 1 and g[0].path == (index_field,) and g[0].op in _RANGE_OPS for g in clause)

    @staticmethod
    def _span(keys: list[str], clause: list[list[Term]], index_field: str) -> tuple[int, int, bool]:
        """Index positions [lo, hi) that hold every row the clause can match, and whether the range alone is exact
        (every term of the clause was turned into a bound)."""
        lo, hi, exact = 0, len(keys), True
        pins: set[str] = set()
        id_terms: list[Term] = []
        for group in clause:
            term = group[0]
            if len(group) == 1 and term.path == (index_field,) and term.op in _RANGE_OPS and all(
                    _DT_RE.match(v) for v in term.values):
                first, last = term.values[0], term.values[-1]
                if term.op in (">=", "=", "BETWEEN"):
                    lo = max(lo, bisect_left(keys, first))
                elif term.op == ">":
                    lo = max(lo, bisect_left(keys, first + KEY_AFTER))
                if term.op in ("<=", "=", "BETWEEN"):
                    hi = min(hi, bisect_left(keys, last + KEY_AFTER))
                elif term.op == "<":
                    hi = min(hi, bisect_left(keys, last))
                if term.op == "=":
                    pins.add(first)
            elif len(group) == 1 and term.path == ("sys_id",) and term.op in ("=", ">", ">=", "<", "<=") and \
                    _SYS_ID_RE.match(term.value):
                id_terms.append(term)
            else:
                exact = False
        if id_terms and len(pins) == 1:  # `date=T^sys_id>ID`: the tie-breaking half of a keyset
            pin = next(iter(pins))
            for term in id_terms:
                key = pin + term.value
                if term.op in (">", "="):
                    lo = max(lo, bisect_right(keys, key) if term.op == ">" else bisect_left(keys, key))
                elif term.op == ">=":
                    lo = max(lo, bisect_left(keys, key))
                if term.op in ("<", "="):
                    hi = min(hi, bisect_left(keys, key) if term.op == "<" else bisect_right(keys, key))
                elif term.op == "<=":
                    hi = min(hi, bisect_right(keys, key))
        elif id_terms:
            exact = False
        return lo, max(lo, hi), exact


# ---------------------------------------------------------------------------------------------------------------
# Access control

RowRule = Callable[[str, Mapping[str, str]], bool]  # (queried table, raw record) -> visible?


@dataclass
class Access:
    """What one account may read. The default reads everything; display dates are in `time_zone`."""

    unreadable_tables: set[str] = field(default_factory=set)  # no read ACL: 200 with zero rows
    unreadable_fields: dict[str, set[str]] = field(default_factory=dict)  # table (or "*") -> fields: 403 if queried
    row_visible: RowRule | None = None  # row ACL, applied after limit/offset
    time_zone: str = DEFAULT_USER_TZ

    def can_read_table(self, td: TableDef) -> bool:
        return not any(t in self.unreadable_tables for t in td.ancestors)

    def can_read_field(self, td: TableDef, name: str) -> bool:
        return not any(name in self.unreadable_fields.get(t, ()) for t in (*td.ancestors, "*"))


def hide_sys_id_mod(k: int, remainder: int = 0, tables: Iterable[str] | None = None) -> RowRule:
    """A row ACL hiding records whose sys_id (as a number) mod k == remainder, optionally only in some tables."""
    only = set(tables) if tables is not None else None

    def visible(table: str, record: Mapping[str, str]) -> bool:
        if only is not None and table not in only:
            return True
        return int(record["sys_id"], 16) % k != remainder
    return visible


# ---------------------------------------------------------------------------------------------------------------
# The server


@dataclass
class _Page:
    status: int
    body: bytes
    headers: dict[str, str]
    oversized: bool = False


class _PageCache:
    """Serialized pages by (user, table, query string, access); bounded by total body bytes, oldest out first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Any, _Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> _Page | None:
        with self._lock:
            return self._pages.get(key)

    def put(self, key: Any, page: _Page) -> None:
        if len(page.body) > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            self._bytes += len(page.body) - (len(old.body) if old else 0)
            self._pages[key] = page
            while self._bytes > self.max_bytes:
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= len(evicted.body)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0


@dataclass
class _Token:
    user: str
    client_id: str
    expires_at: float


AUDITED_ROOTS = frozenset({"task", "cmdb_ci", "sys_user", "sys_user_group", "kb_knowledge", "u_vendor_ticket",
                           "cmdb_rel_ci", "task_ci", "m2m_kb_task"})
NO_RECORD = error_envelope("No Record found", "Record doesn't exist or ACL restricts the record retrieval")


def _raw(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return sn_time(value)
    return str(value)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class ServiceNowSim(SimServer):
    """ServiceNow Table API on localhost; behaviour in the module docstring.

    Test API (thread-safe, usable while a sync is paging): `insert`, `update`, `delete`, `get`, `records`,
    `deleted_ids`, the settable `clock`, `on_request`/`hooks` (run just before the Nth table-API request),
    `mark_oversized`, `expire_tokens`, `reset_rate_limit`. Knobs: `access` (per-user `Access`), `hibernating`,
    `max_response_bytes`/`oversize_error`, `rate_limit_per_hour`, `wall_clock`, `public_url`, plus base `faults`
    (which also understands the kind "transaction_cancelled").
    """

    name = "servicenow"

    def __init__(
        self,
        seed: int = 0,
        counts: Mapping[str, int] | None = None,
        start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
        span: timedelta = timedelta(days=180),
        *,
        users: Mapping[str, str] | None = None,
        oauth_clients: Mapping[str, str] | None = None,
        access: Mapping[str, Access] | None = None,
        token_ttl: int = 1799,
        refresh_ttl: int = 8_640_000,
        client_credentials_user: str | None = None,
        audit_delete_opt_out: Iterable[str] = (),
        rate_limit_per_hour: int | None = None,
        rate_window: float = 3600.0,
        max_response_bytes: int | None = None,
        oversize_error: str = "502",
        page_cache_bytes: int = 128 << 20,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        unknown = sorted(set(counts or {}) - set(DEFAULT_COUNTS))
        if unknown:  # checked before the port is bound
            raise ValueError(f"counts: no generated table {', '.join(unknown)}; "
                             f"choose from {', '.join(DEFAULT_COUNTS)}")
        super().__init__(host, port)
        self.public_url = self.url  # instance URL used in Link headers and reference links
        self.users: dict[str, str] = dict(users if users is not None else {"admin": "admin"})
        self.oauth_clients: dict[str, str] = dict(oauth_clients if oauth_clients is not None
                                                  else {"udc-client": "udc-secret"})
        self.access: dict[str, Access] = dict(access or {})
        self.token_ttl = token_ttl
        self.refresh_ttl = refresh_ttl
        self.client_credentials_user = client_credentials_user
        self.audit_delete_opt_out: set[str] = set(audit_delete_opt_out)
        self.rate_limit_per_hour = rate_limit_per_hour
        self.rate_window = rate_window
        self.max_response_bytes = max_response_bytes
        self.oversize_error = oversize_error  # "502" or "transaction_cancelled", for max_response_bytes
        self.oversize_field = "work_notes"
        self.hibernating = False
        self.hooks: dict[int, Callable[[Request], None]] = {}  # Nth table-API request (1-based) -> callable
        self.table_request_count = 0
        self.wall_clock: Callable[[], float] = time.time  # token expiry and rate windows
        self.schema = build_schema()
        self.store = _Store(self.schema)
        self.oversized: set[str] = set()
        self._cache = _PageCache(page_cache_bytes)
        self._link_objects: dict[str, dict[str, str]] = {}
        # Serialized rows per exclude_reference_link flag: sys_id -> (the row version, its JSON).
        self._row_json: tuple[dict[str, tuple[tuple[str, ...], bytes]], ...] = ({}, {})
        self._rendered_url = self.public_url
        self._version = 0
        self._hook_lock = threading.Lock()
        self._auth_lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}
        self._refresh_tokens: dict[str, _Token] = {}
        self._rate_counts: dict[tuple[str, int], int] = {}
        self._ids = _Rand(f"{seed}/new")
        self.counts = {**DEFAULT_COUNTS, **(counts or {})}
        self._next_number: dict[str, int] = {}
        self._generate(seed, start, span)
        newest = max((keys[-1][:DATE_LEN] for idx in self.store.index.values() for keys in idx.values() if keys),
                      default=sn_time(start + span))
        self._clock = max(start + span, parse_sn_time(newest))

    # -- data ----------------------------------------------------------------------------------------------------
    def _generate(self, seed: int, start: datetime, span: timedelta) -> None:
        gen = _Generator(seed, start, span, self.schema)
        c = self.counts
        users = gen.users(max(1, c["sys_user"]))
        user_ids = [u["sys_id"] for u in users]
        groups = gen.groups(max(1, c["sys_user_group"]), user_ids)
        cis = [row for t in ("cmdb_ci", "cmdb_ci_server", "cmdb_ci_linux_server")
               for row in gen.cis(t, c[t], user_ids, [g["sys_id"] for g in groups])]
        pools = _Pools(
            users=[(u["sys_id"], u["user_name"], u["name"], u["email"]) for u in users],
            groups=[g["sys_id"] for g in groups], cis=[(ci["sys_id"], ci["name"]) for ci in cis],
            hosts=[ci["name"] for ci in cis if ci["sys_class_name"] != "cmdb_ci"] or ["srv-app-prd-001"],
            problems=[], changes=[], incidents=[],
        )
        self.store.load("sys_user", users)
        self.store.load("sys_user_group", groups)
        for ci in cis:
            self.store.load(ci["sys_class_name"], [ci])
        problems = gen.tasks("problem", c["problem"], pools)
        pools.problems = [p["sys_id"] for p in problems]
        changes = gen.tasks("change_request", c["change_request"], pools)
        pools.changes = [ch["sys_id"] for ch in changes]
        # Incidents mention each other's numbers: seed the pool with the numbers they will get.
        pools.incidents = [("", f"INC{10001 + i:07d}") for i in range(max(1, min(c["incident"], 2000)))]
        incidents = gen.tasks("incident", c["incident"], pools)
        pools.incidents = [(i["sys_id"], i["number"]) for i in incidents]
        articles = gen.knowledge(c["kb_knowledge"], pools)
        for table, rows in (("problem", problems), ("change_request", changes), ("incident", incidents),
                            ("kb_knowledge", articles),
                            ("u_vendor_ticket", gen.vendor_tickets(c["u_vendor_ticket"], pools))):
            self.store.load(table, rows)
            self._next_number[table] = len(rows)
        for table, rows in zip(("cmdb_rel_type", "cmdb_rel_ci", "task_ci", "m2m_kb_task"),
                               gen.relations(pools, c["cmdb_rel_ci"], [*changes, *incidents], articles,
                                             c["m2m_kb_task"]), strict=True):
            self.store.load(table, rows)
        tables, dictionary = gen.meta(self.schema)
        self.store.load("sys_db_object", tables)
        self.store.load("sys_dictionary", dictionary)
        self.store.sort_indexes()

    @property
    def clock(self) -> datetime:
        """The instance's "now": the default time of mutations. Settable by tests."""
        return self._clock

    @clock.setter
    def clock(self, value: datetime) -> None:
        self._clock = value.astimezone(UTC)

    def advance(self, delta: timedelta = timedelta(seconds=1)) -> datetime:
        self._clock += delta
        return self._clock

    def _at(self, at: datetime | str | None) -> str:
        if at is None:
            return sn_time(self._clock)
        if isinstance(at, str):
            if not _DT_RE.match(at):
                raise ValueError(f"at must look like YYYY-MM-DD HH:MM:SS (UTC), got {at!r}")
            return at
        return sn_time(at)

    def _mutated(self) -> None:
        self._version += 1
        self._cache.clear()

    def _new_sys_id(self) -> str:
        while True:
            sys_id = self._ids.sys_id()
            if sys_id not in self.store.rows and sys_id not in self.store.deleted:
                return sys_id

    def _check_fields(self, td: TableDef, fields: Mapping[str, Any]) -> dict[str, str]:
        unknown = sorted(set(fields) - set(td.columns))
        if unknown:
            raise KeyError(f"{td.name} has no field(s) {', '.join(unknown)}")
        raw = {k: _raw(v) for k, v in fields.items()}
        for name in INDEXED_FIELDS:
            if name in raw and not _DT_RE.match(raw[name]):
                raise ValueError(f"{name} must look like YYYY-MM-DD HH:MM:SS, got {raw[name]!r}")
        if "sys_id" in raw and not _SYS_ID_RE.match(raw["sys_id"]):
            raise ValueError("sys_id must be 32 lower-case hex digits")
        return raw

    def _row_of(self, table: str, sys_id: str) -> Row:
        row = self.store.rows.get(sys_id)
        if row is None or table not in self.schema[row[0]].ancestors:
            raise KeyError(f"no {table} record {sys_id}")
        return row

    def insert(self, table: str, fields: Mapping[str, Any] | None = None, at: datetime | str | None = None) -> str:
        """Create a record (raw values; references are sys_ids). Returns its sys_id."""
        td = self.schema[table]
        raw = self._check_fields(td, fields or {})
        stamp = self._at(at)
        with self.store.lock:
            sys_id = raw.get("sys_id") or self._new_sys_id()
            if sys_id in self.store.rows:
                raise ValueError(f"sys_id {sys_id} exists")
            record = {"sys_created_on": stamp, "sys_updated_on": stamp, "sys_created_by": "admin",
                      "sys_updated_by": "admin", "sys_mod_count": "0", **raw, "sys_id": sys_id}
            if "sys_class_name" in td.pos:
                record["sys_class_name"] = table
            if "opened_at" in td.pos:
                record.setdefault("opened_at", record["sys_created_on"])
            if td.number_field and not record.get(td.number_field):
                self._next_number[table] = self._next_number.get(table, 0) + 1
                base = 1001 if table == "u_vendor_ticket" else 10001
                record[td.number_field] = f"{td.number_prefix}{base + self._next_number[table] - 1:07d}"
            self.store.add(table, tuple(map(record.get, td.columns, repeat(""))))
            self._mutated()
        return sys_id

    def update(self, table: str, sys_id: str, fields: Mapping[str, Any] | None = None,
               at: datetime | str | None = None) -> None:
        """Change fields, bump sys_mod_count and set sys_updated_on to `at` (default: the clock). Audited tables
        get one sys_audit row per changed field."""
        with self.store.lock:
            cls, values = self._row_of(table, sys_id)
            td = self.schema[cls]
            raw = self._check_fields(td, fields or {})
            record = dict(zip(td.columns, values, strict=True))
            old = dict(record)
            record.update(raw)
            record["sys_updated_on"] = raw.get("sys_updated_on") or self._at(at)
            record.setdefault("sys_updated_by", "admin")
            if "sys_mod_count" not in raw:
                record["sys_mod_count"] = str(int(old.get("sys_mod_count") or 0) + 1)
            self.store.remove(sys_id)
            self.store.add(cls, tuple(map(record.get, td.columns, repeat(""))))
            if td.ancestors[-1] in AUDITED_ROOTS:
                for name, value in raw.items():
                    if not name.startswith("sys_") and old.get(name) != value:
                        self._audit(cls, sys_id, name, old.get(name, ""), value, record)
            self._mutated()

    def delete(self, table: str, sys_id: str, at: datetime | str | None = None) -> None:
        """Delete a record: writes sys_audit (fieldname=DELETED) and, unless the table opts out, sys_audit_delete."""
        stamp = self._at(at)
        with self.store.lock:
            cls, values = self._row_of(table, sys_id)
            self.store.remove(sys_id)
            self.store.deleted[sys_id] = ((cls, values), stamp)
            td = self.schema[cls]
            record = dict(zip(td.columns, values, strict=True))
            self._audit(cls, sys_id, "DELETED", "", "", {**record, "sys_updated_on": stamp})
            if not any(t in self.audit_delete_opt_out for t in td.ancestors):
                self.insert("sys_audit_delete", {
                    "tablename": cls, "documentkey": sys_id, "display_value": record.get(td.display, ""),
                    "payload": self._payload(cls, record),
                }, at=stamp)
            self._oversized_discard(sys_id)
            self._mutated()

    def _audit(self, cls: str, sys_id: str, fieldname: str, old: str, new: str, record: Mapping[str, str]) -> None:
        self.insert("sys_audit", {
            "tablename": cls, "documentkey": sys_id, "fieldname": fieldname, "oldvalue": old, "newvalue": new,
            "user": record.get("sys_updated_by", "admin"), "record_checkpoint": record.get("sys_mod_count", "0"),
            "internal_checkpoint": f"{int(record.get('sys_mod_count') or 0):016x}",
            "sys_created_by": record.get("sys_updated_by", "admin"),
        }, at=record["sys_updated_on"])

    @staticmethod
    def _payload(cls: str, record: Mapping[str, str]) -> str:
        """The deleted record as the instance stores it: an XML record_update document."""
        body = "".join(f"<{k}>{xml_escape(v)}</{k}>" for k, v in record.items())
        return (f'<?xml version="1.0" encoding="UTF-8"?><record_update table="{cls}">'
                f'<{cls} action="DELETE">{body}</{cls}></record_update>')

    def get(self, table: str, sys_id: str) -> dict[str, str] | None:
        """The raw record as stored (all fields of its class), or None."""
        with self.store.lock:
            row = self.store.rows.get(sys_id)
            if row is None or table not in self.schema[row[0]].ancestors:
                return None
            return self.store.row_dict(*row)

    def records(self, table: str, include_deleted: bool = False) -> list[dict[str, str]]:
        """Source truth for assertions: raw records of `table` (and its child classes, with the table's fields)
        ordered by (sys_updated_on or sys_created_on, sys_id); deleted records last, by sys_id, when asked."""
        td = self.schema[table]
        with self.store.lock:
            keys = self.store.index[table][td.indexes[0]]
            out = [self.store.as_dict(k[DATE_LEN:], table) for k in keys]
            if include_deleted:
                for sys_id in sorted(self.store.deleted):
                    (cls, values), _ = self.store.deleted[sys_id]
                    if table in self.schema[cls].ancestors:
                        out.append(self.store.row_dict(cls, values, table))
            return out

    def deleted_ids(self, table: str) -> set[str]:
        with self.store.lock:
            return {sid for sid, ((cls, _), _) in self.store.deleted.items() if table in self.schema[cls].ancestors}

    # -- faults and knobs ---------------------------------------------------------------------------------------
    def mark_oversized(self, table: str, sys_id: str) -> None:
        """Any page holding this record with its work_notes fails with a 502 gateway page."""
        with self.store.lock:
            self._row_of(table, sys_id)
            self.oversized.add(sys_id)
            self._mutated()

    def _oversized_discard(self, sys_id: str) -> None:
        self.oversized.discard(sys_id)

    def unmark_oversized(self, sys_id: str) -> None:
        with self.store.lock:
            self._oversized_discard(sys_id)
            self._mutated()

    def on_request(self, n: int, hook: Callable[[Request], None]) -> None:
        """Run `hook` just before the Nth table-API request (1-based, counted from construction) is served."""
        with self._hook_lock:
            self.hooks[n] = hook

    def invalidate_cache(self) -> None:
        self._cache.clear()

    def expire_tokens(self) -> None:
        """Expire every access token now (refresh tokens stay valid)."""
        with self._auth_lock:
            for token in self._tokens.values():
                token.expires_at = 0.0

    def reset_rate_limit(self) -> None:
        with self._auth_lock:
            self._rate_counts.clear()

    @property
    def table_requests(self) -> list[Request]:
        with self._log_lock:
            return [r for r in self.requests if r.path.startswith("/api/now/table/")]

    def fault_response(self, kind: str, request: Request) -> Response | None:
        if kind == "429":
            return Response.json(error_envelope("Too many requests", "Rate limit exceeded"), 429,
                                 {"Retry-After": str(self.faults.retry_after)})
        if kind == "502":
            return Response.text(BAD_GATEWAY_HTML, 502, "text/html")
        if kind == "transaction_cancelled":
            return Response.json(TRANSACTION_CANCELLED, 500)
        return super().fault_response(kind, request)

    # -- HTTP -----------------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/api/now/table/"):
            with self._hook_lock:
                self.table_request_count += 1
                hook = self.hooks.pop(self.table_request_count, None)
            if hook is not None:
                hook(request)
        if self.hibernating:
            return Response.text(HIBERNATING_HTML, 200, "text/html")
        if request.path == "/oauth_token.do":
            return self._oauth(request)
        if request.path.startswith("/api/now/table/"):
            return self._table_api(request)
        return Response.json(error_envelope("Requested URI does not represent any resource"), 400)

    def _authenticate(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credential.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return user if user in self.users and secrets.compare_digest(self.users[user].encode(), password.encode()) \
                else None
        if scheme.lower() == "bearer":
            with self._auth_lock:
                token = self._tokens.get(credential.strip())
                if token is None or token.expires_at <= self.wall_clock():
                    return None
                return token.user
        return None

    def _rate_limit(self, user: str) -> tuple[bool, dict[str, str]]:
        limit = self.rate_limit_per_hour
        if limit is None:
            return False, {}
        now = self.wall_clock()
        window = int(now // self.rate_window)
        reset = int((window + 1) * self.rate_window)
        with self._auth_lock:
            used = self._rate_counts.get((user, window), 0) + 1
            self._rate_counts[(user, window)] = used
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Reset": str(reset), "X-RateLimit-Rule": RATE_RULE_ID}
        if used > limit:
            headers["Retry-After"] = str(max(1, math.ceil(reset - now)))
            return True, headers
        return False, headers

    def _oauth(self, request: Request) -> Response:
        if request.method != "POST":
            return Response.json(error_envelope("Method not Supported", "GET is not supported on oauth_token.do"),
                                 405)
        form = request.form()
        client_id = form.get("client_id", "")
        if not client_id or not secrets.compare_digest(self.oauth_clients.get(client_id, "\x00").encode(),
                                                       form.get("client_secret", "").encode()):
            return Response.json(OAUTH_DENIED, 401)
        grant = form.get("grant_type", "")
        now = self.wall_clock()
        with self._auth_lock:
            if grant == "password":
                user, password = form.get("username", ""), form.get("password", "")
                if user not in self.users or not secrets.compare_digest(self.users[user].encode(), password.encode()):
                    return Response.json(OAUTH_DENIED, 401)
                refresh = secrets.token_urlsafe(64)
                self._refresh_tokens[refresh] = _Token(user, client_id, now + self.refresh_ttl)
            elif grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                entry = self._refresh_tokens.get(refresh)
                if entry is None or entry.client_id != client_id or entry.expires_at <= now:
                    return Response.json(OAUTH_DENIED, 401)
                user = entry.user
            elif grant == "client_credentials" and self.client_credentials_user:
                user, refresh = self.client_credentials_user, ""
            else:
                return Response.json({"error": "unsupported_grant_type",
                                      "error_description": f"grant_type {grant!r} is not enabled"}, 400)
            access = secrets.token_urlsafe(64)
            self._tokens[access] = _Token(user, client_id, now + self.token_ttl)
        payload: dict[str, Any] = {"access_token": access, "scope": "useraccount", "token_type": "Bearer",
                                   "expires_in": self.token_ttl}
        if refresh:
            payload["refresh_token"] = refresh
        return Response.json(payload, headers={"Cache-Control": "no-store"})

    def _table_api(self, request: Request) -> Response:
        user = self._authenticate(request)
        if user is None:
            return Response.json(AUTH_REQUIRED, 401, {"WWW-Authenticate": 'BASIC realm="Service-now"'})
        limited, rate_headers = self._rate_limit(user)
        if limited:
            return Response.json(error_envelope("Too many requests", "Rate limit exceeded for user " + user), 429,
                                 rate_headers)
        if request.method not in ("GET", "HEAD"):
            response = Response.json(error_envelope("Method not Supported",
                                                    "This simulator serves the Table API read-only"), 405)
        else:
            parts = request.path[len("/api/now/table/"):].strip("/").split("/")
            table = parts[0]
            if table not in self.schema:
                response = Response.json(error_envelope(f"Invalid table {table}"), 400)
            elif len(parts) > 1:
                response = self._single(request, user, table, parts[1])
            else:
                response = self._list(request, user, table)
        response.headers.update(rate_headers)
        return response

    def _access(self, user: str) -> Access:
        found = self.access.get(user)
        return found if found is not None else Access()

    def _list(self, request: Request, user: str, table: str) -> Response:
        access = self._access(user)
        key = (user, table, tuple(sorted((k, tuple(v)) for k, v in request.query.items())), repr(access),
               self.public_url)
        page = self._cache.get(key)
        if page is None:
            page, version = self._build_page(request, table, access)
            if version == self._version:  # never cache a page computed before a concurrent mutation
                self._cache.put(key, page)
        if page.oversized:
            return Response.text(BAD_GATEWAY_HTML, 502, "text/html")
        if self.max_response_bytes is not None and len(page.body) > self.max_response_bytes:
            if self.oversize_error == "transaction_cancelled":
                return Response.json(TRANSACTION_CANCELLED, 500)
            return Response.text(BAD_GATEWAY_HTML, 502, "text/html")
        return Response(page.status, page.body, dict(page.headers))

    def _options(self, request: Request) -> tuple[tuple[str, ...] | None, str, bool]:
        fields_arg = (request.arg("sysparm_fields") or "").strip()
        fields = tuple(dict.fromkeys(f.strip() for f in fields_arg.split(",") if f.strip())) or None
        mode = (request.arg("sysparm_display_value") or "false").lower()
        mode = mode if mode in ("true", "all") else "false"
        exclude = (request.arg("sysparm_exclude_reference_link") or "").lower() == "true"
        return fields, mode, exclude

    def _build_page(self, request: Request, table: str, access: Access) -> tuple[_Page, int]:
        td = self.schema[table]
        tz = _zone(access.time_zone)
        query = parse_query(request.arg("sysparm_query") or "", self.schema, table, tz, self._clock)
        for term in query.terms():
            chain = field_chain(self.schema, table, term.path) or []
            if any(not access.can_read_field(self.schema[t], fd.name) for t, fd in chain):
                return _Page(403, orjson.dumps(QUERY_FORBIDDEN), {"Content-Type": JSON_TYPE}), self._version
        limit = _int_arg(request, "sysparm_limit", DEFAULT_LIMIT, 1)
        offset = _int_arg(request, "sysparm_offset", 0, 0)
        count = (request.arg("sysparm_no_count") or "").lower() != "true"
        options = self._options(request)
        with self.store.lock:
            version = self._version
            sys_ids, total, more = self.store.fetch(table, query, offset, limit, count)
            total = total if count else None
            rows = [self.store.rows[s] for s in sys_ids] if access.can_read_table(td) else []
            if access.row_visible is not None:  # row ACLs run after the limit: short and empty pages
                rule = access.row_visible
                rows = [r for r in rows if rule(table, self.store.row_dict(*r))]
            parts, oversized = self._render(table, rows, options, access, tz)
        headers = {"Content-Type": JSON_TYPE}
        if total is not None:
            headers["X-Total-Count"] = str(total)
        if (request.arg("sysparm_suppress_pagination_header") or "").lower() != "true":
            headers["Link"] = self._links(request, table, offset, limit, total, more)
        return _Page(200, _json_list(parts), headers, oversized), version

    def _single(self, request: Request, user: str, table: str, sys_id: str) -> Response:
        access = self._access(user)
        with self.store.lock:
            row = self.store.rows.get(sys_id)
            if (row is None or table not in self.schema[row[0]].ancestors or not access.can_read_table(
                    self.schema[table]) or (access.row_visible is not None
                                            and not access.row_visible(table, self.store.row_dict(*row)))):
                return Response.json(NO_RECORD, 404)
            parts, oversized = self._render(table, [row], self._options(request), access, _zone(access.time_zone))
        if oversized:
            return Response.text(BAD_GATEWAY_HTML, 502, "text/html")
        return Response(200, b'{"result":' + parts[0] + b"}", {"Content-Type": JSON_TYPE})

    def _links(self, request: Request, table: str, offset: int, limit: int, total: int | None, more: bool) -> str:
        base = f"{self.public_url}/api/now/table/{table}"
        params = [(k, v) for k, values in request.query.items() if k not in ("sysparm_offset", "sysparm_limit")
                  for v in values]

        def link(at: int, rel: str) -> str:
            query = urlencode([*params, ("sysparm_limit", str(limit)), ("sysparm_offset", str(at))], quote_via=quote)
            return f'<{base}?{query}>;rel="{rel}"'

        links = [link(0, "first")]
        if offset > 0:
            links.append(link(max(0, offset - limit), "prev"))
        if more:
            links.append(link(offset + limit, "next"))
        if total is not None:
            links.append(link((total - 1) // limit * limit if total else 0, "last"))
        return ",".join(links)

    # -- rendering ------------------------------------------------------------------------------------------------
    def _render(self, table: str, rows: Sequence[Row], options: tuple[tuple[str, ...] | None, str, bool],
                access: Access, tz: ZoneInfo) -> tuple[list[bytes], bool]:
        """Each row as the JSON the API returns, and whether any holds an oversized record's large field."""
        fields, mode, exclude = options
        view = self.schema[table]
        if self._rendered_url != self.public_url:
            self._link_objects, self._row_json, self._rendered_url = {}, ({}, {}), self.public_url
        hot = fields is None and mode == "false" and all(access.can_read_field(view, c) for c in view.columns)
        row_json = self._row_json[exclude]
        parts: list[bytes] = []
        oversized = False
        plans: dict[str, list[tuple[str, tuple[str, ...], FieldDef, int]]] = {}
        for cls, values in rows:
            if hot and cls == table:  # the default rendering: serialized once per record version
                cached = row_json.get(values[0])
                if cached is not None and cached[0] is values:
                    blob = cached[1]
                else:
                    blob = orjson.dumps(self._raw_record(view, values, exclude))
                    if len(row_json) < ROW_JSON_CACHE_ROWS:
                        blob = bytes(memoryview(blob))  # orjson's buffer is ~16 KiB whatever the length: trim it
                        row_json[values[0]] = (values, blob)
                has_large = self.oversize_field in view.pos
            else:
                plan = plans.get(cls)
                if plan is None:
                    plan = plans[cls] = self._plan(table, cls, fields, access)
                record = {}
                for key, path, fd, pos in plan:
                    raw = values[pos] if pos >= 0 else self.store.value(cls, values, path)
                    owner = cls if pos >= 0 else (fd.ref or cls)
                    record[key] = self._cell(fd, owner, raw, mode, exclude, tz)
                blob = orjson.dumps(record)
                has_large = self.oversize_field in record
            if has_large and values[0] in self.oversized:
                oversized = True
            parts.append(blob)
        return parts, oversized

    def _raw_record(self, view: TableDef, values: tuple[str, ...], exclude: bool) -> dict[str, Any]:
        record: dict[str, Any] = dict(zip(view.columns, values, strict=True))
        if not exclude:
            # References point at few records: share one {"link", "value"} object each (serialized, never mutated).
            links = self._link_objects
            prefix = f"{self.public_url}/api/now/table/"
            for name, pos, target in view.refs:
                value = values[pos]
                if value:
                    key = f"{target}/{value}"
                    obj = links.get(key)
                    if obj is None:
                        obj = {"link": prefix + key, "value": value}
                        if len(links) < ROW_JSON_CACHE_ROWS:
                            links[key] = obj
                    record[name] = obj
        return record

    def warm(self, tables: Iterable[str] | None = None) -> int:
        """Serialize every record of `tables` (default: all) in the default raw renderings, with and without
        reference links, so the first sync pass is as fast as the next. Returns the number of rows rendered."""
        done = 0
        for table in tables if tables is not None else list(self.schema):
            with self.store.lock:
                rows = [r for r in self.store.rows.values() if r[0] == table]
            for exclude in (False, True):
                for start in range(0, len(rows), 1000):
                    with self.store.lock:
                        self._render(table, rows[start:start + 1000], (None, "false", exclude), Access(),
                                     _zone("UTC"))
            done += len(rows)
        return done

    def _plan(self, table: str, cls: str, fields: tuple[str, ...] | None,
              access: Access) -> list[tuple[str, tuple[str, ...], FieldDef, int]]:
        """(output key, path, field, position in the class row or -1 for dot-walks) per returned field."""
        view, td = self.schema[table], self.schema[cls]
        plan = []
        for key in fields if fields is not None else view.columns:
            path = tuple(key.split("."))
            chain = field_chain(self.schema, table, path)
            if chain is None or any(not access.can_read_field(self.schema[t], fd.name) for t, fd in chain):
                continue  # unknown or unreadable fields are left out
            plan.append((key, path, chain[-1][1], td.pos[key] if len(path) == 1 else -1))
        return plan

    def _cell(self, fd: FieldDef, owner: str, raw: str, mode: str, exclude: bool, tz: ZoneInfo) -> Any:
        if fd.type == "reference" and fd.ref:
            url = f"{self.public_url}/api/now/table/{fd.ref}/{raw}"
            if mode == "false":
                return {"link": url, "value": raw} if raw and not exclude else raw
            display = self._display(fd, owner, raw, tz)
            if mode == "true":
                return {"display_value": display, "link": url} if raw and not exclude else display
            if raw and not exclude:
                return {"display_value": display, "link": url, "value": raw}
            return {"display_value": display, "value": raw}
        if mode == "false":
            return raw
        display = self._display(fd, owner, raw, tz)
        return display if mode == "true" else {"display_value": display, "value": raw}

    def _display(self, fd: FieldDef, owner: str, raw: str, tz: ZoneInfo) -> str:
        if not raw:
            return ""
        if fd.type == "reference" and fd.ref:
            row = self.store.rows.get(raw)
            if row is None:
                return ""
            pos = self.schema[row[0]].pos.get(self.schema[fd.ref].display)
            return row[1][pos] if pos is not None else raw
        if fd.type == "glide_list" and fd.ref:
            ref = FieldDef(fd.name, "reference", ref=fd.ref)
            return ", ".join(self._display(ref, owner, part, tz) or part for part in raw.split(","))
        if fd.type == "glide_date_time":
            try:
                return parse_sn_time(raw).astimezone(tz).strftime(SN_TIME)
            except ValueError:
                return raw
        if fd.type == "sys_class_name":
            return self.schema[raw].label if raw in self.schema else raw
        owner_td = self.schema.get(owner)
        for table in owner_td.ancestors if owner_td else ():
            choices = self.schema[table].choice_overrides.get(fd.name)
            if choices is not None:
                return choices.get(raw, raw)
        return fd.choices.get(raw, raw) if fd.choices else raw


JSON_TYPE = "application/json;charset=UTF-8"
ROW_JSON_CACHE_ROWS = 1_000_000  # per rendering; beyond it rows are serialized on every request


def _json_list(parts: list[bytes]) -> bytes:
    """`{"result":[...]}` from serialized rows, copying the (megabytes of) rows once."""
    if not parts:
        return b'{"result":[]}'
    parts = [b'{"result":[' + parts[0], *parts[1:]]
    parts[-1] += b"]}"
    return b",".join(parts)


def _int_arg(request: Request, name: str, default: int, minimum: int) -> int:
    try:
        value = int(request.arg(name) or default)
    except ValueError:
        return default
    return value if value >= minimum else default


# ---------------------------------------------------------------------------------------------------------------
# Command line: python -m udc.simulators servicenow --port 8080 --incidents 100000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m udc.simulators servicenow",
                                     description="Serve a seeded ServiceNow Table API in the foreground.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on start)")
    parser.add_argument("--incidents", type=int, default=None, help=f"default {DEFAULT_COUNTS['incident']}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", action="append", default=[], metavar="TABLE=N",
                        help="records of another table (repeatable), e.g. --count change_request=5000")
    parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                        help="basic-auth / password-grant account (repeatable; default admin:admin)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--no-warm", dest="warm", action="store_false",
                        help="skip pre-serializing records (less memory, slower first pass)")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per hour per user")
    parser.add_argument("--page-cache-mb", type=int, default=128,
                        help="serialized pages kept for repeated queries (size it above a benchmark's whole run)")
    args = parser.parse_args(argv)
    users = dict(u.split(":", 1) for u in args.user) if args.user else None
    counts = {table: int(n) for table, _, n in (c.partition("=") for c in args.count)}
    unknown = sorted(set(counts) - set(DEFAULT_COUNTS))
    if unknown:
        parser.error(f"--count: no generated table {', '.join(unknown)}; choose from {', '.join(DEFAULT_COUNTS)}")
    if args.incidents is not None:
        counts["incident"] = args.incidents
    started = time.perf_counter()
    sim = ServiceNowSim(seed=args.seed, counts=counts, users=users, rate_limit_per_hour=args.rate_limit,
                        host=args.host, port=args.port, page_cache_bytes=args.page_cache_mb << 20)
    sim.faults.latency = args.latency
    if args.host in ("0.0.0.0", "::", ""):
        sim.public_url = f"http://127.0.0.1:{sim.port}"
    if args.warm:
        sim.warm()
    gc.freeze()  # the seeded rows live for the whole process: keep the cyclic GC from rescanning them every page
    print(f"servicenow simulator listening on {sim.url} ({len(sim.store.rows)} records, "
          f"built in {time.perf_counter() - started:.1f}s)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()
    return 0
