"""ServiceNow's part of `udc check` (see udc.check): the product doc's troubleshooting playbook against the instance.

1. `GET /api/now/table/<first table>?sysparm_limit=1` with the configured credentials — the call the doc asks users
   to re-test with. Its failure is the verdict: DNS, TLS, refused/unreachable, timeout, HTML (hibernating instance,
   proxy, wrong URL), 401 (credentials; special characters; OAuth client/secret/token URL), 403, 429, 5xx.
2. The same call for every configured table: zero rows means the account lacks table-level read ACLs (all such
   tables are named together); rows appearing only further on mean row-level ACLs hide some records.
3. Table, field and filter names against sys_db_object/sys_dictionary (ServiceNow silently ignores unknown names).
4. Each table's sync query (filter, cursor, ordering) with `sysparm_limit=1`: a 403 "Insufficient rights to query
   records" is narrowed down to the field(s) the account cannot read, one probe per field.
5. The first batch of each table's historical window read exactly as the sync reads it (adaptive batch included):
   a 502 / "maximum execution time exceeded" names the record that causes it, its date, the batch size that
   worked, and which free-text field to omit.
"""

from __future__ import annotations

import time

import httpx
import orjson

from udc.config import ServiceNowConnector, ServiceNowPipeline, TableSpec
from udc.errors import ConfigError, SourceError
from udc.http.client import HttpClient, HttpError
from udc.records import Window
from udc.sources.diagnostics import Finding, check_client, connection_findings
from udc.sources.servicenow import CURSOR, DEFAULT_OMIT, KEY, TABLE_API, ServiceNowSource, TableStream, query_fields
from udc.timeutil import parse_time, utcnow

PROBE_PAGES = 25  # at most this many pages of the first batch (the adaptive batch may split it)
TOKEN_HINT = "the OAuth token endpoint of a ServiceNow instance is https://<instance>.service-now.com/oauth_token.do"


def run(name: str, connector: ServiceNowConnector, pipeline: ServiceNowPipeline) -> list[Finding]:
    base = connector.instance_url.rstrip("/")
    limits: list[tuple[str, int, int]] = []  # (table, sysparm_limit, status) of every table response, in order

    def observe(response: httpx.Response) -> None:
        path = response.request.url.path
        if path.startswith(TABLE_API) and "sysparm_limit" in response.request.url.params:
            limits.append((path[len(TABLE_API):], int(response.request.url.params["sysparm_limit"]),
                           response.status_code))

    client = check_client(base, connector.auth, pipeline, name, token_url=f"{base}/oauth_token.do",
                          verify_tls=connector.verify_tls, observe=observe)
    specs = pipeline.tables or [TableSpec(name="incident")]
    try:
        first = f"GET {TABLE_API}{specs[0].name}?sysparm_limit=1"
        started = time.monotonic()
        try:
            client.get(TABLE_API + specs[0].name, {"sysparm_limit": 1})
        except SourceError as exc:
            found = connection_findings(exc, request=first, auth=connector.auth, url=base, token_hint=TOKEN_HINT)
            return [*found, Finding("skip", "tables, fields, filters and page sizes",
                                    "not checked: the first request failed")]
        findings = [Finding("ok", "connection and credentials",
                            f"{first} answered in {(time.monotonic() - started) * 1000:,.0f} ms "
                            f"({connector.auth.type} auth)")]
        if not connector.verify_tls:
            findings.append(Finding("warn", "TLS verification", "verify_tls is off: certificates are not checked",
                                    "install the proxy's CA certificate instead, and set verify_tls: true"))
        blocked: set[str] = set()  # tables a later step cannot read: their problem is already reported
        findings += _tables(client, specs, connector, blocked)
        streams, config_findings = _streams(name, connector, pipeline, client)
        findings += config_findings
        findings += _queries(client, specs, blocked)
        findings += _pages(client, pipeline, [s for s in streams if s.spec.name not in blocked], limits)
        return findings
    finally:
        client.close()


def _tables(client: HttpClient, specs: list[TableSpec], connector: ServiceNowConnector, blocked: set[str]
            ) -> list[Finding]:
    readable: list[str] = []
    empty: list[str] = []
    partial: list[str] = []
    findings: list[Finding] = []
    for spec in specs:
        try:
            rows = client.get_json(TABLE_API + spec.name, {"sysparm_limit": 1})["result"]
            if not rows:  # ACLs filter rows after the limit: look a little further before calling it empty
                rows_later = client.get_json(TABLE_API + spec.name, {"sysparm_limit": 100, "sysparm_fields": KEY})
                (partial if rows_later["result"] else empty).append(spec.name)
            else:
                readable.append(spec.name)
        except HttpError as exc:
            blocked.add(spec.name)
            if exc.status == 400:
                findings.append(Finding("fail", f"table {spec.name}", f"the instance says: {exc.message}",
                                        f"check the table name; `udc discover --connector {client.name}` lists them"))
            else:
                findings += connection_findings(exc, request=f"GET {TABLE_API}{spec.name}?sysparm_limit=1",
                                                auth=connector.auth, url=client.base_url)
    if readable:
        findings.append(Finding("ok", "table read access", f"records readable in {', '.join(readable)}"))
    if partial:
        findings.append(Finding("warn", "row-level ACLs",
                                f"the first records of {', '.join(partial)} are hidden from the account but later ones "
                                "are visible: row-level ACLs (or data policies) hide some records",
                                "grant the service account read on every record it should sync"))
    if empty:
        blocked.update(empty)
        tables = ", ".join(empty)
        findings.append(Finding(
            "fail", "authenticated, but zero records",
            f"GET /api/now/table/<table>?sysparm_limit=1 returns zero records for: {tables}. Authentication "
            "succeeded, so the service account most likely lacks table-level read ACLs on "
            + ("this table" if len(empty) == 1 else "these tables"),
            f"grant table-level read access on {tables} to the service account and re-test the connection "
            "(if the same query shows rows in ServiceNow Studio but zero through the API, the ACL is missing)"))
    return findings


def _streams(name: str, connector: ServiceNowConnector, pipeline: ServiceNowPipeline, client: HttpClient
             ) -> tuple[list[TableStream], list[Finding]]:
    if not pipeline.tables:
        return [], [Finding("skip", "tables", "the connector has no pipeline listing tables: nothing more to check")]
    quick = pipeline.model_copy(update={"max_retries": 1, "request_timeout": client.timeout})
    source = ServiceNowSource(name, connector, quick)
    try:
        streams = [s for s in source.streams() if isinstance(s, TableStream)]
    except ConfigError as exc:
        return [], [Finding("fail", "configuration against the instance", exc.message, exc.hint)]
    except SourceError as exc:
        return [], [Finding("warn", "configuration against the instance", f"could not be checked: {exc.message}",
                            exc.hint)]
    finally:
        source.close()
    findings = [Finding("warn", "configuration against the instance", note) for note in source.notes]
    if not any("not checked" in note for note in source.notes):
        findings.append(Finding("ok", "configuration against the instance",
                                "tables, fields and filter names exist on the instance"))
    for stream in streams:
        stream.client = client
    return streams, findings


def _queries(client: HttpClient, specs: list[TableSpec], blocked: set[str]) -> list[Finding]:
    findings = []
    for spec in specs:
        if spec.name in blocked:
            continue
        query = (f"{spec.filter}^" if spec.filter else "") + (
            f"{CURSOR}>=1970-01-01 00:00:00^ORDERBY{CURSOR}^ORDERBY{KEY}")
        try:
            client.get(TABLE_API + spec.name, {"sysparm_query": query, "sysparm_limit": 1, "sysparm_fields": KEY})
        except HttpError as exc:
            blocked.add(spec.name)
            if exc.status != 403:
                findings.append(Finding("fail", f"query on {spec.name}", exc.message, exc.hint))
                continue
            denied = [f for f in sorted(query_fields(query)) if _forbidden(client, spec.name, f)]
            filter_fields = query_fields(spec.filter or "")
            in_filter = [f for f in denied if f in filter_fields]
            cursor = [f for f in denied if f not in in_filter]
            fields = ", ".join(denied) or "(a combination of fields)"
            fix = []
            if in_filter:
                fix.append(f"grant the service account read on {', '.join(f'{spec.name}.{f}' for f in in_filter)} "
                           "(field-level ACL), or remove the field from the filter")
            if cursor:
                fix.append(f"the sync orders and resumes on {CURSOR} and {KEY}: the account must be able to read "
                           f"{', '.join(cursor)}")
            findings.append(Finding(
                "fail", f"403 on the filter of {spec.name}",
                f"querying {spec.name} fails with 403 \"Insufficient rights to query records\": the account cannot "
                f"read field(s) {fields} used in the query", "; ".join(fix) or "check the filter's fields"))
            continue
        if spec.filter:
            findings.append(Finding("ok", f"filter on {spec.name}", f"the account may query with {spec.filter!r}"))
    return findings


def _forbidden(client: HttpClient, table: str, field: str) -> bool:
    try:
        client.get(TABLE_API + table, {"sysparm_query": f"{field}ISNOTEMPTY", "sysparm_limit": 1,
                                       "sysparm_fields": KEY})
    except HttpError as exc:
        return exc.status == 403
    return False


def _pages(client: HttpClient, pipeline: ServiceNowPipeline, streams: list[TableStream],
           limits: list[tuple[str, int, int]]) -> list[Finding]:
    start = parse_time(pipeline.start_date) if pipeline.start_date else None
    end = parse_time(pipeline.end_date) if pipeline.end_date else utcnow()
    findings = []
    for stream in streams:
        table = stream.spec.name
        seen, pages, quarantined = 0, 0, []
        mark = len(limits)
        try:
            for page in stream.read(Window(start, end), None):
                pages += 1
                seen += page.size + len(page.quarantined)
                quarantined += page.quarantined
                if seen >= pipeline.batch_size or pages >= PROBE_PAGES:
                    break
        except SourceError as exc:
            findings.append(Finding("fail", f"reading {table}", exc.message, exc.hint))
            continue
        sent = [(limit, status) for t, limit, status in limits[mark:] if t == table]
        failed = [limit for limit, status in sent if status in (413, 500, 502, 504)]
        worked = [limit for limit, status in sent if status == 200]
        since = f" since {pipeline.start_date}" if pipeline.start_date else ""
        if not failed and not quarantined:
            findings.append(Finding("ok", f"page size on {table}",
                                    f"the first {seen:,} records{since} came back in pages of {pipeline.batch_size:,} "
                                    "without gateway errors"))
            continue
        for pk, reason in quarantined:
            findings.append(_oversized(client, stream, pk, reason, pipeline))
        if failed and not quarantined:
            smallest = min(worked) if worked else 1
            findings.append(Finding(
                "warn", f"502 on {table}",
                f"pages of {max(failed):,} records{since} failed at the gateway (502 / time limit); the adaptive batch "
                f"had to shrink them to {smallest:,}",
                f"lower batch_size to {smallest:,} so every page fits the gateway's limits"))
    return findings


def _oversized(client: HttpClient, stream: TableStream, pk: str, reason: str, pipeline: ServiceNowPipeline) -> Finding:
    table = stream.spec.name
    known = stream.fields if stream.fields is not None else stream.all_fields
    culprits: list[str] = []
    updated = ""
    try:
        row = client.get_json(TABLE_API + table, {"sysparm_query": f"{KEY}={pk}", "sysparm_fields": f"{KEY},{CURSOR}",
                                                  "sysparm_limit": 1})["result"]
        updated = row[0][CURSOR] if row else ""
        for candidate in [f for f in dict.fromkeys([*stream.omit, *DEFAULT_OMIT]) if known and f in known]:
            try:
                client.get(TABLE_API + table, {"sysparm_query": f"{KEY}={pk}", "sysparm_limit": 1,
                                               "sysparm_fields": ",".join(f for f in known or [] if f != candidate)},
                           shrinkable=True)
            except HttpError as exc:
                if not exc.batch_sensitive:
                    raise
                continue
            culprits = [candidate]
            break
    except (HttpError, orjson.JSONDecodeError):
        pass
    stored = reason.startswith("stored without")
    what = culprits[0] if culprits else ", ".join(stream.omit)
    date = f" (sys_updated_on {updated})" if updated else ""
    detail = (f"record {pk}{date} makes any page of {table} that holds it fail with 502 Bad Gateway, even a page of "
              f"one record; the adaptive batch isolated it")
    detail += (f" and reads it without {what}" if stored else f"; it fails even without {', '.join(stream.omit)}, so "
               "the sync quarantines it (its key is kept, its data is not)")
    fix = (f"lower batch_size (sysparm_limit, now {pipeline.batch_size:,}) so fewer records share a page; at the "
           f"ServiceNow side restrict the service account's read ACL on {table}.{what}, or leave it out of the "
           f"connector's fields (exclude_fields: [{what}])")
    if not culprits:
        fix += f"; add the large field to omit_on_oversize for {table} so the sync can still store the rest"
    fix += f"; if 502s persist, contact support with the sample date {updated[:10] or 'of the record'}"
    return Finding("warn" if stored else "fail", f"502 on {table}", detail, fix)
