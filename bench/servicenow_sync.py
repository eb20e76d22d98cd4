"""Historical ServiceNow sync, side by side on the same simulated instance and the same pages:

  floor — a plain httpx loop fetching the pages udc fetches and parsing them with orjson, nothing more;
  udc   — `udc sync` into SQLite (keyset paging, newest-wins upserts, state per page, edges);
  dlt   — dlt's rest_api source into duckdb (needs the `bench` extra).

The simulator runs in its own process and serves pre-serialised pages. Each contender runs in its own process
so CPU seconds and peak RSS are its own (udc's include its store writer process: CPU summed, peak RSS added as if
both peaked at once). This machine's speed drifts from minute to minute, so floor and udc alternate for a few
rounds and the median round is reported. Usage: python bench/servicenow_sync.py [--records 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

START, END = "2025-01-01 00:00:00", "2030-01-01 00:00:00"
PAGE = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


WRITER_RSS: list[float] = []  # udc's store writer process


def run_floor(url: str) -> int:
    """The same keyset queries udc sends, fetched and parsed, nothing stored."""
    n = 0
    query = f"sys_updated_on>={START}^sys_updated_on<{END}^ORDERBYsys_updated_on^ORDERBYsys_id"
    with httpx.Client(auth=("admin", "admin"), timeout=60) as client:
        while True:
            response = client.get(f"{url}/api/now/table/incident", params={
                "sysparm_query": query, "sysparm_limit": PAGE, "sysparm_offset": 0, "sysparm_display_value": "false",
                "sysparm_exclude_reference_link": "true"})
            rows = orjson.loads(response.content)["result"]
            n += len(rows)
            if 'rel="next"' not in response.headers.get("link", ""):
                return n
            t, key = rows[-1]["sys_updated_on"], rows[-1]["sys_id"]
            query = (f"sys_updated_on>{t}^sys_updated_on<{END}^NQsys_updated_on={t}^sys_id>{key}"
                     f"^sys_updated_on<{END}^ORDERBYsys_updated_on^ORDERBYsys_id")


def run_udc(url: str, workdir: Path) -> int:
    from udc.config import parse_config
    from udc.store import open_store
    from udc.store.writer import WriterProcess
    from udc.sync.engine import Engine

    config = parse_config({
        "store": f"sqlite:///{workdir / 'udc.db'}",
        "connectors": {"snow": {"type": "servicenow", "instance_url": url,
                                "auth": {"type": "basic", "username": "admin", "password": "admin"}}},
        "pipelines": {"bench": {"connector": "snow",
                                "batch_size": PAGE, "tables": ["incident"]}},
    })
    store = open_store(config.store)
    writer_close = WriterProcess.close

    def close(self: WriterProcess) -> None:  # the writer process's peak RSS, read before it leaves
        WRITER_RSS.append(peak_rss_mb(self.pid))
        writer_close(self)

    WriterProcess.close = close  # type: ignore[method-assign]
    summary = Engine(config, store).sync("bench")
    assert summary.status == "succeeded", summary.warnings
    return sum(s.rows for s in summary.streams)


def run_dlt(url: str, workdir: Path) -> int:
    import dlt
    from dlt.sources.helpers.rest_client.paginators import OffsetPaginator
    from dlt.sources.rest_api import rest_api_source

    os.environ["DLT_DATA_DIR"] = str(workdir / "dlt-data")
    os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"
    source = rest_api_source({
        "client": {"base_url": f"{url}/api/now/table/", "auth": {"type": "http_basic", "username": "admin",
                                                                 "password": "admin"},
                   "paginator": OffsetPaginator(limit=PAGE, offset_param="sysparm_offset",
                                                limit_param="sysparm_limit", total_path=None)},
        "resources": [{"name": "incident", "endpoint": {
            "path": "incident", "data_selector": "result",
            "params": {"sysparm_query": f"sys_updated_on>={START}^ORDERBYsys_updated_on^ORDERBYsys_id"}}}],
    })
    pipeline = dlt.pipeline("bench", destination=dlt.destinations.duckdb(str(workdir / "dlt.duckdb")),
                            pipelines_dir=str(workdir / "dlt-pipelines"), dataset_name="snow")
    info = pipeline.run(source)
    assert not info.has_failed_jobs
    with pipeline.sql_client() as client:
        return int(client.execute_sql("SELECT count(*) FROM incident")[0][0])


def worker(kind: str, url: str) -> None:
    """One contender, timed from its first request: each one's modules load before."""
    import httpcore  # noqa: F401  (httpx imports it, and trio/anyio when installed, with its first client: 0.2 s)

    if kind == "udc":
        import udc.sources.servicenow  # noqa: F401
        from udc.cli import settle_startup_objects

        settle_startup_objects()  # what the `udc` command does before `udc sync`
    elif kind == "dlt":
        import dlt.sources.rest_api  # noqa: F401
    with tempfile.TemporaryDirectory() as tmp:
        started, cpu0 = time.perf_counter(), cpu_seconds()
        n = {"floor": lambda: run_floor(url), "udc": lambda: run_udc(url, Path(tmp)),
             "dlt": lambda: run_dlt(url, Path(tmp))}[kind]()
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu0
    # udc's store writer is a child process: its CPU and its peak RSS count too (as if both peaked at once)
    print(json.dumps({"kind": kind, "records": n, "wall": wall, "cpu": cpu, "rss": peak_rss_mb() + sum(WRITER_RSS),
                      "writer_rss": sum(WRITER_RSS)}))


def cpu_seconds() -> float:
    """This process's CPU time and that of its ended children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure(kind: str, url: str) -> dict[str, float]:
    result = subprocess.run([sys.executable, __file__, "--worker", kind, "--url", url], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{result.stderr[-3000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def start_sim(records: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    # a page cache larger than the whole run: every contender is served pre-serialised pages, none waits on the
    # simulator building one (at 128 MB a 100k run evicted its own pages and the floor ran 30 % slower)
    proc = subprocess.Popen([sys.executable, "-m", "udc.simulators", "servicenow", "--port", str(port),
                             "--incidents", str(records), "--seed", "1", "--page-cache-mb", "1024"])
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            # the first query of a fresh instance is slow: a short timeout would drop it mid-answer (BrokenPipe there)
            httpx.get(f"{url}/api/now/table/incident", params={"sysparm_limit": 1}, auth=("admin", "admin"),
                      timeout=120)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("simulator did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="floor and udc alternate this many times at full size; the median round is reported")
    parser.add_argument("--worker")
    parser.add_argument("--url")
    parser.add_argument("--skip-dlt", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.url)
        return
    rows, rounds = [], []
    for records in sorted({min(10_000, args.records), args.records}):
        proc, url = start_sim(records)
        try:
            measure("floor", url)  # warm the simulator's page cache so every contender sees the same server
            pairs = [(measure("floor", url), measure("udc", url))
                     for _ in range(args.rounds if records == args.records else 1)]
            pairs.sort(key=lambda pair: pair[0]["wall"] / pair[1]["wall"])
            rows += pairs[len(pairs) // 2]
            if records == args.records:
                rounds = [pair[0]["wall"] / pair[1]["wall"] for pair in pairs]
                if not args.skip_dlt:
                    rows.append(measure("dlt", url))
        finally:
            proc.terminate()
            proc.wait()
    print("\n| contender | records | wall s | records/s | CPU s | peak RSS MB |\n|---|---:|---:|---:|---:|---:|")
    for r in rows:
        rss = f"{r['rss']:.0f}" + (f" ({r['writer_rss']:.0f} of it the writer)" if r.get("writer_rss") else "")
        print(f"| {r['kind']} | {r['records']:,} | {r['wall']:.2f} | {r['records'] / r['wall']:,.0f} | {r['cpu']:.2f} "
              f"| {rss} |")
    big = {r["kind"]: r for r in rows if r["records"] == args.records}
    rate = {k: v["records"] / v["wall"] for k, v in big.items()}
    print(f"\nudc / floor throughput: {rate['udc'] / rate['floor']:.2f}  (target ≥ 0.60; the median of "
          f"{len(rounds)} rounds: {', '.join(f'{r:.2f}' for r in rounds)})")
    if "dlt" in rate:
        print(f"udc / dlt throughput:   {rate['udc'] / rate['dlt']:.1f}×  (target ≥ 10×)")
    small = [r for r in rows if r["kind"] == "udc"]
    if len(small) == 2:
        print(f"udc peak RSS {small[0]['records']:,} → {small[1]['records']:,} records: "
              f"{small[0]['rss']:.0f} MB → {small[1]['rss']:.0f} MB  (target < 150 MB, flat)")


if __name__ == "__main__":
    main()
