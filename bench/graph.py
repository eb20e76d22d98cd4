"""The knowledge graph's costs and answers, measured:

  sync     — a historical ServiceNow sync (bench/servicenow_sync.py's setup: simulator in its own process, every
             field) with the graph kept (links + FTS5 in the page's transaction) and without it (the baseline:
             the writer process skips the graph), alternating; medians with min–max;
  store    — storing a generated mixed store (ServiceNow incidents, changes, CIs and CMDB relations, Jira issues,
             Confluence pages; ~5 links each, mentions across sources) page by page, with and without the graph,
             alternating; records/s and the store's size per million records;
  queries  — latencies of search, related --depth 2, changes --for, similar and trends on that store (p50/p95);
  quality  — precision@5 of `search` on a labelled set written once before any run (plain user words for each
             incident scenario of the ServiceNow simulator, never tuned against results), and of `similar`
             (a hit is relevant when it has the same category and subcategory).

Usage: python bench/graph.py [--records 100000] [--rounds 3] [--sync-records 100000]
       [--parts quality,store,queries,sync] [--store PATH (queries on a store built before, of --records records)]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import servicenow_sync as base
import udc.store.sqlite as sqlite_store
from udc.query import changes, related, search, similar, trends
from udc.simulators import servicenow as snow_sim
from udc.store import PageWrite, SqliteStore
from udc.timeutil import cursor_str

PAGE = 1000
T0 = datetime(2025, 1, 1, tzinfo=UTC)
# the baseline: the graph not kept, neither described (by the syncing process, `no_graph`) nor written (by the writer
# process: a sitecustomize loaded before it starts). Until this round the baseline still described every page (its
# writer did, since 7bdcfa2): a third of its writer's CPU, which made the graph look cheaper than it is.
NO_GRAPH_HOOK = "import udc.store.sqlite as s\ns.index_page = lambda *args, **kwargs: None\n"


def no_graph() -> None:
    sqlite_store.index_page = lambda *args, **kwargs: None  # type: ignore[assignment]
    sqlite_store.describe_ahead = lambda *args, **kwargs: None  # type: ignore[assignment]

# Written once, before the first run, in a user's words; never changed after seeing results.
SEARCH_SET: list[tuple[str, tuple[str, str]]] = [
    ("disk space full on server", ("hardware", "disk")),
    ("users get errors when they log in to the application", ("software", "application")),
    ("vpn keeps disconnecting", ("network", "vpn")),
    ("outlook mail not syncing", ("software", "email")),
    ("locked out need a password reset", ("inquiry", "password")),
    ("server cpu very high", ("hardware", "cpu")),
    ("database connection pool errors", ("database", "db2")),
    ("nightly batch job failed", ("software", "batch")),
    ("dns lookup fails", ("network", "dns")),
    ("ssl certificate about to expire", ("security", "certificate")),
    ("website very slow to load", ("software", "application")),
    ("printer is offline", ("hardware", "printer")),
    ("kubernetes pods crashing", ("software", "kubernetes")),
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


# -- sync: the real sync with and without the graph -----------------------------------------------------------------
def sync_worker(kind: str, url: str) -> None:
    if kind == "udc-nograph":
        no_graph()
    base.worker("udc", url)


def measure_sync(kind: str, url: str) -> dict[str, float]:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as hook:
        if kind == "udc-nograph":
            Path(hook, "sitecustomize.py").write_text(NO_GRAPH_HOOK)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [hook, env.get("PYTHONPATH")]))
        result = subprocess.run([sys.executable, __file__, "--sync-worker", kind, "--url", url], capture_output=True,
                                text=True, check=False, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def bench_sync(records: int, rounds: int) -> None:
    proc, url = base.start_sim(records)
    try:
        base.measure("floor", url)  # warm the simulator's page cache
        runs: dict[str, list[dict[str, float]]] = {"udc-nograph": [], "udc": []}
        for _ in range(rounds):
            for kind in runs:
                runs[kind].append(measure_sync(kind, url))
    finally:
        proc.terminate()
        proc.wait()
    print(f"\n### sync: historical ServiceNow sync of {records:,} incidents, {rounds} rounds alternating\n")
    print("| contender | records/s median (min–max) | wall s median | CPU s median (udc + writer) |\n"
          "|---|---:|---:|---:|")
    for kind, rs in runs.items():
        name = "udc, graph kept (links + FTS)" if kind == "udc" else "udc, no graph (baseline)"
        print(f"| {name} | {spread([r['records'] / r['wall'] for r in rs])} | "
              f"{statistics.median(r['wall'] for r in rs):.2f} | {statistics.median(r['cpu'] for r in rs):.2f} |")
    ratio = [b["wall"] / g["wall"] for g, b in zip(runs["udc"], runs["udc-nograph"], strict=True)]
    print(f"\nthroughput with the graph / without, per round: {', '.join(f'{r:.2f}' for r in ratio)} "
          f"(median {statistics.median(ratio):.2f}; target ≥ 0.75)")


# -- a generated mixed store -------------------------------------------------------------------------------------
def vocabulary() -> list[str]:
    texts = [t for s in snow_sim.INCIDENT_SCENARIOS for t in s[2:]]
    texts += [*snow_sim.WORK_NOTES, *snow_sim.CLOSE_NOTES, *snow_sim.ERRORS, *snow_sim.APPS, *snow_sim.GROUPS]
    words = dict.fromkeys(w.lower() for t in texts for w in re.findall(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}", " ", t)))
    return [*words, *(f"term{i}" for i in range(5000))]


class Generator:
    """Records of a mixed store, ~5 links each: incidents (CI, caller, assignee, group, a Jira key in some work
    notes), changes (CI, requester, window), CIs and CMDB relations, Jira issues (project, links, incident numbers
    in some descriptions), Confluence pages (space, parent, Jira keys in the body)."""

    def __init__(self, n: int, seed: int = 1) -> None:
        self.r = random.Random(seed)
        self.words = vocabulary()
        self.weights = [1 / (i + 1) for i in range(len(self.words))]  # Zipf: a few words everywhere, most rare
        self.n_ci = max(10, n // 100)
        self.n_inc, self.n_chg = int(n * 0.5), int(n * 0.1)
        self.n_jira, self.n_page = int(n * 0.2), int(n * 0.15)
        self.n_rel = n - self.n_ci - self.n_inc - self.n_chg - self.n_jira - self.n_page

    def text(self, k: int) -> str:
        return " ".join(self.r.choices(self.words, self.weights, k=k))

    def when(self) -> datetime:
        return T0 + timedelta(seconds=self.r.randrange(365 * 86400))

    def ci(self) -> str:
        return f"{self.r.randrange(self.n_ci):032x}"

    def datasets(self) -> Iterator[tuple[str, int, Callable[[int], tuple[str, dict[str, Any], list[Any]]]]]:
        r = self

        def ci(i: int) -> tuple[str, dict[str, Any], list[Any]]:
            pk = f"{i:032x}"
            return pk, {"sys_id": pk, "name": f"srv-{i:05d}", "short_description": r.text(6)}, []

        def rel(i: int) -> tuple[str, dict[str, Any], list[Any]]:
            parent, child = r.ci(), r.ci()
            return f"r{i:031x}", {"sys_id": f"r{i:031x}", "parent": parent, "child": child, "type": "t1"}, [
                ("parent", "snow/cmdb_ci", parent), ("child", "snow/cmdb_ci", child)]

        def inc(i: int) -> tuple[str, dict[str, Any], list[Any]]:
            ci_id, opened = r.ci(), r.when()
            notes = r.text(12) + (f" tracked in OPS-{r.r.randrange(1, r.n_jira)}" if r.r.random() < 0.2 else "")
            resolved = opened + timedelta(hours=r.r.randrange(1, 200)) if r.r.random() < 0.7 else None
            rec = {"sys_id": f"i{i:031x}", "number": f"INC{i:07d}", "short_description": r.text(7),
                   "description": r.text(25), "work_notes": notes, "category": r.r.choice(("network", "database",
                                                                                         "software", "hardware")),
                   "priority": str(r.r.randrange(1, 6)), "cmdb_ci": ci_id, "opened_at": opened.strftime(
                       "%Y-%m-%d %H:%M:%S"), "resolved_at": resolved.strftime("%Y-%m-%d %H:%M:%S") if resolved else ""}
            return rec["sys_id"], rec, [("cmdb_ci", "snow/cmdb_ci", ci_id), ("caller_id", "snow/sys_user", "u1"),
                                        ("assigned_to", "snow/sys_user", "u2"),
                                        ("assignment_group", "snow/sys_user_group", "g1")]

        def chg(i: int) -> tuple[str, dict[str, Any], list[Any]]:
            ci_id, start = r.ci(), r.when()
            rec = {"sys_id": f"c{i:031x}", "number": f"CHG{i:07d}", "short_description": r.text(6),
                   "description": r.text(20), "cmdb_ci": ci_id, "opened_at": (start - timedelta(days=2)).strftime(
                       "%Y-%m-%d %H:%M:%S"), "start_date": start.strftime("%Y-%m-%d %H:%M:%S"),
                   "end_date": (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")}
            return rec["sys_id"], rec, [("cmdb_ci", "snow/cmdb_ci", ci_id), ("requested_by", "snow/sys_user", "u3"),
                                        ("assignment_group", "snow/sys_user_group", "g1")]

        def issue(i: int) -> tuple[str, dict[str, Any], list[Any]]:
            text = r.text(30) + (f" after INC{r.r.randrange(r.n_inc):07d}" if r.r.random() < 0.3 else "")
            rec = {"id": str(10000 + i), "key": f"OPS-{i + 1}", "description_text": text,
                   "fields": {"summary": r.text(6), "created": r.when().isoformat()}}
            links = [("in_project", "jira/projects", "1"), ("blocks", "jira/issues", str(10000 + r.r.randrange(
                max(1, i)))), ("relates", "jira/issues", str(10000 + r.r.randrange(max(1, i))))]
            return rec["id"], rec, links

        def page(i: int) -> tuple[str, dict[str, Any], list[Any]]:
            pk = str(100000 + i)
            rec = {"id": pk, "type": "page", "space_key": "OPS", "title": r.text(5), "created": r.when().isoformat(),
                   "body_text": r.text(60) + f" see OPS-{r.r.randrange(1, r.n_jira)}"}
            return pk, rec, [("in_space", "wiki/spaces", "1"), ("child_of", "wiki/pages", str(100000 + max(0, i - 1)))]

        yield "snow/cmdb_ci_server", self.n_ci, ci
        yield "snow/cmdb_rel_ci", self.n_rel, rel
        yield "snow/incident", self.n_inc, inc
        yield "snow/change_request", self.n_chg, chg
        yield "jira/issues", self.n_jira, issue
        yield "wiki/pages", self.n_page, page


@contextmanager
def graph_off() -> Iterator[None]:
    kept = sqlite_store.index_page
    sqlite_store.index_page = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        yield
    finally:
        sqlite_store.index_page = kept


def build_store(path: Path, n: int) -> tuple[float, int]:
    """Store a generated store page by page (one transaction each, as a sync does); (seconds, records)."""
    store = SqliteStore(path, write_process=False)
    gen = Generator(n)
    cursor = cursor_str(T0)
    total, spent = 0, 0.0
    for dataset, count, make in gen.datasets():
        for start in range(0, count, PAGE):
            rows, links = [], {}
            for i in range(start, min(count, start + PAGE)):
                pk, rec, own = make(i)
                rows.append((pk, cursor, rec))
                links[pk] = own
            page = PageWrite(dataset, rows, links=links)
            began = time.perf_counter()
            store.write(page, 1)
            spent += time.perf_counter() - began
            total += len(rows)
    store.close()
    return spent, total


def store_size(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def bench_store(n: int, rounds: int, work: Path) -> Path:
    rates: dict[str, list[float]] = {"no graph": [], "graph": []}
    sizes: dict[str, int] = {}
    kept = work
    for round_ in range(rounds):
        for kind in rates:
            path = work / f"{kind.replace(' ', '-')}-{round_}.db"
            if kind == "graph":
                seconds, total = build_store(path, n)
            else:
                with graph_off():
                    seconds, total = build_store(path, n)
            rates[kind].append(total / seconds)
            sizes[kind] = store_size(path)
            if kind == "graph" and round_ == rounds - 1:
                kept = path  # the queries run on it
            else:
                for p in work.glob(f"{path.name}*"):
                    p.unlink()
    print(f"\n### store: {n:,} generated records (page writes of {PAGE}, one transaction each), {rounds} rounds\n")
    print("| store | records/s median (min–max) | size MB | MB per million records |\n|---|---:|---:|---:|")
    for kind, rs in rates.items():
        print(f"| {kind} | {spread(rs)} | {sizes[kind] / 1e6:,.0f} | {sizes[kind] / 1e6 / n * 1e6:,.0f} |")
    ratio = statistics.median(rates["graph"]) / statistics.median(rates["no graph"])
    print(f"\nstore throughput with the graph / without: {ratio:.2f}")
    return kept


def bench_queries(path: Path, n: int) -> None:
    store = SqliteStore(path, write_process=False)
    gen = Generator(n, seed=2)
    r = random.Random(3)
    incidents = [f"INC{r.randrange(gen.n_inc):07d}" for _ in range(200)]
    common = gen.words[20:400]  # skip the handful of words in nearly every record
    cases: dict[str, Callable[[int], Any]] = {
        "search (2 words)": lambda i: search(store, f"{r.choice(common)} {r.choice(common)}", 20),
        "search --table incident --since 90d": lambda i: search(store, r.choice(common), 20, table="incident",
                                                                since="90d", now=T0 + timedelta(days=365)),
        "related --depth 2": lambda i: related(store, incidents[i], depth=2),
        "changes --for (12 h, 2 hops)": lambda i: changes(store, incidents[i]),
        "similar --limit 10": lambda i: similar(store, incidents[i], 10),
    }
    print(f"\n### queries on the {n:,}-record store (graph nodes "
          f"{store.execute('SELECT count(*) FROM graph_nodes')[0][0]:,}, linked ends "
          f"{store.execute('SELECT count(*) FROM graph_ends')[0][0]:,})\n")
    print("| query | runs | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|")
    for name, run in cases.items():
        runs = 100
        times = []
        for i in range(runs):
            began = time.perf_counter()
            run(i)
            times.append((time.perf_counter() - began) * 1000)
        print(f"| {name} | {runs} | {pct(times, 0.5):.1f} | {pct(times, 0.95):.1f} | {max(times):.1f} |")
    began = time.perf_counter()
    trends(store, "incident", "category", "week")
    print(f"| trends --by category --every week (all {gen.n_inc:,} incidents) | 1 | "
          f"{(time.perf_counter() - began) * 1000:.0f} | | |")


def bench_quality(work: Path, incidents: int) -> None:
    """The simulator's incidents (13 scenarios, free text with hosts, apps, errors, work notes) stored as a sync
    stores them; relevance by (category, subcategory)."""
    sim = snow_sim.ServiceNowSim(seed=9, counts={"incident": incidents, "change_request": 10, "problem": 10,
                                                 "kb_knowledge": 10, "u_vendor_ticket": 1, "cmdb_rel_ci": 1,
                                                 "m2m_kb_task": 1})
    store = SqliteStore(work / "quality.db", write_process=False)
    rows = sim.records("incident")
    label = {r["number"]: (r["category"], r["subcategory"]) for r in rows}
    for start in range(0, len(rows), PAGE):
        page = rows[start:start + PAGE]
        store.write(PageWrite("snow/incident", [(r["sys_id"], cursor_str(r["sys_updated_on"]), r) for r in page],
                              links={r["sys_id"]: [("cmdb_ci", "snow/cmdb_ci", r["cmdb_ci"])] for r in page
                                     if r["cmdb_ci"]}), 1)
    per_query = []
    print(f"\n### quality on {len(rows):,} simulated incidents (13 scenarios)\n")
    print("| query (written before any run) | wanted | P@5 |\n|---|---|---:|")
    for q, wanted in SEARCH_SET:
        hits = search(store, q, 5, table="incident")
        p = sum(label[h["key"]] == wanted for h in hits) / 5
        per_query.append(p)
        print(f"| {q} | {'/'.join(wanted)} | {p:.1f} |")
    share = {w: sum(v == w for v in label.values()) / len(label) for _, w in SEARCH_SET}
    print(f"\nsearch P@5, mean over {len(SEARCH_SET)} queries: {statistics.mean(per_query):.2f} "
          f"(random would be {statistics.mean(share.values()):.2f})")
    r = random.Random(4)
    sample = r.sample(sorted(label), 200)
    precisions = []
    for number in sample:
        got = similar(store, number, 5)["similar"]
        precisions.append(sum(label[s["key"]] == label[number] for s in got) / 5)
    print(f"similar P@5 (same category and subcategory), mean over {len(sample)} incidents: "
          f"{statistics.mean(precisions):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000, help="records of the generated store")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sync-records", type=int, default=100_000)
    parser.add_argument("--quality-incidents", type=int, default=5000)
    parser.add_argument("--parts", default="quality,store,queries,sync",
                        help="which of quality, store, queries (needs store), sync to run")
    parser.add_argument("--store", type=Path, help="ask the queries of this generated store (built with --records "
                        "of the same count, e.g. kept from an earlier run) instead of building one")
    parser.add_argument("--sync-worker")
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.sync_worker:
        sync_worker(args.sync_worker, args.url)
        return
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "quality" in parts:
            bench_quality(work, args.quality_incidents)
        if "queries" in parts and args.store:
            print(f"\nstore {args.store}: {store_size(args.store) / 1e6:,.0f} MB, "
                  f"{store_size(args.store) / args.records:,.0f} bytes per record")
            bench_queries(args.store, args.records)
        elif parts & {"store", "queries"}:
            path = bench_store(args.records, args.rounds, work)
            if "queries" in parts:
                bench_queries(path, args.records)
    if "sync" in parts:
        bench_sync(args.sync_records, args.rounds)


if __name__ == "__main__":
    main()
