"""`udc check --connector C [--json]`: the product doc's "Troubleshoot connection issues" playbook, run for real.

Each connector type brings its own checks; this module runs them, adds what is common to every connector, and
prints one verdict with the fix for each problem. Exit status 0 when healthy (no `fail` finding), 1 otherwise.

How a source plugs in
---------------------
The connector type's plugin in `udc.sources.PLUGINS` has a `check`::

    def check(name: str, connector: <its connector model>, options: <its pipeline model>) -> list[Finding]: ...

It is called once per pipeline that uses the connector (once with the plugin's default options when none does);
identical findings from several pipelines are shown once. A plugin without `check` gets a `skip` finding.
`Finding` and the helpers sources word their findings with live in `udc.sources.diagnostics`; objects shaped like
`(check, status, message, fix)` are accepted too.

What this module adds for every connector: records quarantined by earlier syncs (from the store, when it exists), and,
for each pipeline with redaction and its directory on, the source's directory read as a sync reads it (how many
people, logins and service accounts, or why it could not be read).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from rich.console import Console
from rich.markup import escape

from udc.config import Config
from udc.errors import UdcError
from udc.redact import Redactor
from udc.secrets import scrub
from udc.sources import build_source, plugin
from udc.sources.base import Directory, DirectoryUnreadable
from udc.sources.diagnostics import Finding
from udc.store import open_store, store_exists
from udc.timeutil import utcnow

LEVELS = ("fail", "warn", "ok", "skip")
_ALIASES = {"error": "fail", "failed": "fail", "warning": "warn", "passed": "ok", "info": "ok", "skipped": "skip"}


@dataclass
class Report:
    connector: str
    type: str
    url: str
    findings: list[Finding]

    @property
    def healthy(self) -> bool:
        return not any(f.level == "fail" for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {"connector": self.connector, "type": self.type, "url": self.url, "healthy": self.healthy,
                "findings": [f.to_json() for f in self.findings]}


# -- running -------------------------------------------------------------------------------------------------------

def run_check(config: Config, connector_name: str) -> Report:
    """Run the connector's checks for every pipeline that uses it, plus the common ones. A finding every pipeline
    shares is said once; one that only some pipelines have names its pipeline."""
    connector = config.connector(connector_name)
    source = plugin(connector.type)
    pipelines = {n: p for n, p in config.pipelines.items() if p.connector == connector_name} or {
        "": source.default_options(connector_name)}
    url = str(getattr(connector, "instance_url", None) or getattr(connector, "base_url", ""))
    findings: list[Finding] = []
    if source.check is None:
        findings.append(Finding("skip", f"{connector.type} diagnostics",
                                f"no checks are defined for {connector.type} connectors yet"))
    else:
        per_pipeline: dict[str, list[Finding]] = {}
        for name, pipeline in pipelines.items():
            try:
                found = [normalize(item) for item in source.check(connector_name, connector, pipeline)]
            except UdcError as exc:  # a check that could not finish still says why
                found = [Finding("fail", "check", scrub(exc.message), scrub(exc.hint))]
            per_pipeline[name] = found
        shared = set.intersection(*({(f.level, f.title, f.detail) for f in found} for found in per_pipeline.values()))
        findings += [f if (f.level, f.title, f.detail) in shared else replace(f, title=f"{name}: {f.title}")
                     for name, found in per_pipeline.items() for f in found]
    findings += directory_findings(config, connector_name)
    findings += quarantine_findings(config, connector_name)
    return Report(connector_name, connector.type, url, _unique(findings))


def check_owner(connector_name: str) -> str:
    """The state owner under which a connector's last report is kept (for `udc serve`)."""
    return f"check:{connector_name}"


def record_report(config: Config, report: Report) -> None:
    """Keep the report in the store, when there is one, for the dashboard (findings are scrubbed of secrets).
    A check creates no store."""
    if not store_exists(config.store, config.store_secret()):
        return
    store = open_store(config.store, config.store_secret())
    try:
        store.set_state(check_owner(report.connector), "report", {"at": utcnow().isoformat(), **report.to_json()})
    finally:
        store.close()


def normalize(item: Any) -> Finding:
    """A source's finding as a `Finding` (accepts `(check, status, message, fix)`-shaped objects and dicts)."""
    if isinstance(item, Finding):
        finding = item
    else:
        get: Callable[[str], Any] = item.get if isinstance(item, dict) else (lambda k: getattr(item, k, None))
        finding = Finding(str(get("level") or get("status") or "ok"), str(get("title") or get("check") or ""),
                          str(get("detail") or get("message") or ""), str(get("fix") or ""))
    level = _ALIASES.get(finding.level, finding.level)
    return Finding(level if level in LEVELS else "warn", finding.title, scrub(finding.detail), scrub(finding.fix))


def _unique(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for finding in findings:
        key = (finding.level, finding.title, finding.detail)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def directory_findings(config: Config, connector_name: str) -> list[Finding]:
    """The source's directory read for redaction, per pipeline that redacts with it (nothing is stored)."""
    findings: list[Finding] = []
    for name, pipeline in config.pipelines.items():
        if pipeline.connector != connector_name or not (pipeline.redaction.enabled and pipeline.redaction.directory):
            continue
        title = f"{name}: redaction directory"
        try:
            source = build_source(config, name)
        except UdcError as exc:
            findings.append(Finding("fail", title, scrub(exc.message), scrub(exc.hint)))
            continue
        try:
            if not isinstance(source, Directory):
                findings.append(Finding("skip", title, f"{pipeline.type} sources have no user directory"))
                continue
            learned = Redactor(pipeline.redaction, pipeline.type).learn_directory(source.people())
            findings.append(Finding("ok", title, f"read {learned['people']} people ({learned['logins']} logins) and "
                                                 f"{learned['machines']} service accounts"))
        except DirectoryUnreadable as exc:  # a sync goes on without it: a warning, as in the run's summary
            findings.append(Finding("warn", title, scrub(exc.message), scrub(exc.hint)))
        except UdcError as exc:
            findings.append(Finding("fail", title, scrub(exc.message), scrub(exc.hint)))
        finally:
            source.close()
    return findings


def quarantine_findings(config: Config, connector_name: str) -> list[Finding]:
    """Records that earlier syncs had to store without free-text fields, or could not read at all."""
    if not store_exists(config.store, config.store_secret()):
        return []
    store = open_store(config.store, config.store_secret())
    try:
        rows = store.quarantined(f"{connector_name}/")
    finally:
        store.close()
    if not rows:
        return []
    partial = [(d, pk, r) for d, pk, r in rows if r.startswith("stored without")]
    missing = [(d, pk, r) for d, pk, r in rows if not r.startswith("stored without")]
    findings = []
    fix = ("lower batch_size (sysparm_limit) so pages stay under the gateway's size limit; restrict the service "
           "account's read ACL on the offending free-text column, or leave it out of `fields` (exclude_fields); "
           "if it persists, contact support with a sample affected date")
    if partial:
        findings.append(Finding("warn", "records stored without free-text fields",
                                f"{len(partial)} record(s) failed at the gateway in earlier syncs and were stored "
                                f"without their large free-text fields: {_sample(partial)}", fix))
    if missing:
        findings.append(Finding("fail", "quarantined records",
                                f"{len(missing)} record(s) could not be read in earlier syncs, even without their "
                                f"free-text fields: {_sample(missing)}", fix))
    return findings


def _sample(rows: list[tuple[str, str, str]], n: int = 5) -> str:
    shown = "; ".join(f"{d.split('/', 1)[-1]} {pk} ({reason})" for d, pk, reason in rows[:n])
    return shown + (f"; and {len(rows) - n} more (see `udc status`)" if len(rows) > n else "")


# -- output --------------------------------------------------------------------------------------------------------

_MARKS = {"ok": "[green]✓[/]", "warn": "[yellow]![/]", "fail": "[bold red]✗[/]", "skip": "[dim]-[/]"}


def print_report(report: Report, console: Console) -> None:
    console.print(f"[bold]udc check {report.connector}[/] ({report.type}, {report.url})", highlight=False)
    for finding in report.findings:
        console.print(f"  {_MARKS.get(finding.level, '?')} [bold]{escape(finding.title)}[/]: {escape(finding.detail)}",
                      highlight=False)
        if finding.fix:
            console.print(f"      [bold]fix:[/] {escape(finding.fix)}", highlight=False)
    problems = [f for f in report.findings if f.level == "fail"]
    warnings = [f for f in report.findings if f.level == "warn"]
    if problems:
        console.print(f"[bold red]verdict: {len(problems)} problem(s)[/] — start with: {escape(problems[0].title)}",
                      highlight=False)
    else:
        tail = f" ({len(warnings)} warning(s))" if warnings else ""
        console.print(f"[bold green]verdict: healthy[/]{tail}", highlight=False)

