"""The PostgreSQL store's own behaviour: a server that cannot be used is said with the fix (exit 2, nothing written),
the store's password is read from `store_password` and written nowhere, concurrent writers of one dataset still keep
the newest copy, and keys and cursors compare as bytes whatever the server's collation."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import yaml
from psycopg import sql

from secret_refs import env_ref
from stores import SERVER, new_schema
from udc import api as udc_api
from udc.config import load_config
from udc.errors import ConfigError, StoreError
from udc.serve.server import Dashboard
from udc.store import PageWrite, open_reader, open_store, postgres, store_exists
from udc.store.postgres import PostgresStore, parse_target

PASSWORD = "pg-Pa$$word-never-stored"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_file(tmp_path: Path, store: str, **extra: Any) -> Path:
    path = tmp_path / "udc.yaml"
    path.write_text(yaml.safe_dump({
        "store": store, **extra,
        "connectors": {"snow": {"type": "servicenow", "instance_url": "http://127.0.0.1:9",
                                "auth": {"type": "basic", "username": "u", "password": env_ref("secret-pw")}}},
        "pipelines": {"p": {"connector": "snow", "tables": ["incident"]}}}))
    return path


def udc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "udc", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize(("where", "said", "fix"), [
    ("127.0.0.1:{port}/postgres", "cannot reach the PostgreSQL server of the store", "start PostgreSQL"),
    ("127.0.0.1/udc_no_such_database", "the store's database does not exist", "create it (`createdb"),
    ("127.0.0.1/postgres", "PostgreSQL refused the store's login", "check the user name"),
])
def test_a_server_udc_cannot_use_is_said_with_the_fix_and_exit_2(tmp_path: Path, pg_url: str, where: str,
                                                                 said: str, fix: str) -> None:
    user = "udc_no_such_role" if "login" in said else "postgres"
    url = f"postgresql://{user}@{where.format(port=free_port())}"
    for command in (["status"], ["sync", "--pipeline", "p"]):  # a command that only reads, and one that writes
        done = udc(*command, "--config", str(config_file(tmp_path, url)))
        assert done.returncode == 2, (command, done.stderr)
        assert said in done.stderr and f"fix: {fix}" in done.stderr and "Traceback" not in done.stderr
    with pytest.raises(ConfigError, match=said):
        open_store(url)


@pytest.fixture
def ascii_database(pg_url: str) -> Iterator[str]:
    """A database in SQL_ASCII (what initdb makes under the C locale), dropped afterwards: its URL."""
    name = f"udc_ascii_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
                     .format(sql.Identifier(name)))
    yield urlsplit(SERVER)._replace(path=f"/{name}", query="").geturl()
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_database_not_in_utf8_is_refused_with_the_fix_and_nothing_is_written(
        tmp_path: Path, ascii_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQL_ASCII hands text back as undecoded bytes (`udc status` crashed on them); every command says so instead,
    before it reads or writes anything."""
    url = f"{ascii_database}?schema=udc"
    config = str(config_file(tmp_path, url))
    done = udc("sync", "--pipeline", "p", "--config", config)
    assert done.returncode == 2 and "the store's database is in SQL_ASCII, not UTF8" in done.stderr
    assert "fix: create a database in UTF8 and point `store:` at it: createdb -E UTF8" in done.stderr
    assert not store_exists(url)  # not even its schema
    monkeypatch.setattr(postgres, "refuse_encoding", lambda conn, location: None)  # a store an older udc made there
    store = open_store(url)
    store.finish_run(store.begin_run("p", "incremental"), "succeeded", {"streams": []})
    store.close()
    monkeypatch.undo()
    for command in (["status"], ["search", "disk"], ["sync", "--pipeline", "p"]):
        done = udc(*command, "--config", config)
        assert done.returncode == 2 and "not UTF8" in done.stderr and "Traceback" not in done.stderr, command
    with pytest.raises(ConfigError, match="not UTF8"):
        open_reader(url)


def test_a_password_in_the_url_is_refused_and_never_echoed(tmp_path: Path) -> None:
    done = udc("config", "validate", "--config",
               str(config_file(tmp_path, f"postgresql://postgres:{PASSWORD}@127.0.0.1/postgres")))
    assert done.returncode == 2 and "store_password: env:NAME" in done.stderr
    assert PASSWORD not in done.stderr + done.stdout


@pytest.mark.parametrize(("url", "problem"), [
    ("postgresql://postgres@127.0.0.1", "names no database"),
    ("postgresql://postgres@127.0.0.1:99999/udc", "port"),
    ("postgresql://postgres@127.0.0.1/udc?schema=", "`schema=` in the store URL is empty"),
    ("mysql://x@db/udc", "not a store URL udc knows"),
])
def test_store_urls_udc_cannot_use_are_refused_in_the_config(tmp_path: Path, url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_config(config_file(tmp_path, url))


def test_the_store_password_comes_from_a_secret_reference_and_is_written_nowhere(tmp_path: Path, pg_url: str) -> None:
    config = config_file(tmp_path, pg_url, store_password="env:UDC_TEST_STORE_PW")
    missing = udc("status", "--config", str(config))
    assert missing.returncode == 2 and "UDC_TEST_STORE_PW is not set" in missing.stderr
    env = {"UDC_TEST_STORE_PW": PASSWORD}  # the server trusts this host: any password is taken
    done = udc("sync", "--pipeline", "p", "--config", str(config), env=env)  # the source is down: a failed run
    assert done.returncode == 1 and PASSWORD not in done.stdout + done.stderr
    assert udc("status", "--config", str(config), env=env).returncode == 0
    target = parse_target(pg_url)
    dump = subprocess.run(["pg_dump", "--data-only", "-n", target.schema, SERVER.split("?")[0]], capture_output=True,
                          text=True, check=True).stdout
    assert "run" in dump and PASSWORD not in dump
    assert PASSWORD not in config.read_text()


def test_concurrent_writers_of_one_dataset_keep_the_newest_copy_of_every_key(pg_url: str) -> None:
    """Four processes' worth of writers (each its own store and connection) write overlapping pages of the same keys
    at random versions: every key ends at its newest version, and every copy is counted exactly once."""
    stores = [PostgresStore(pg_url) for _ in range(4)]
    keys = [f"k{i:03d}" for i in range(200)]
    newest: dict[str, str] = {}
    totals: list[int] = []
    start = threading.Barrier(len(stores))

    def write(n: int, store: PostgresStore) -> None:
        rng = random.Random(n)
        start.wait()
        seen = 0
        for page in range(15):
            batch = rng.sample(keys, 60)
            rows = [(pk, f"2025-01-{rng.randint(1, 28):02d}", {"by": n, "page": page}) for pk in batch]
            counts = store.write(PageWrite("s/t", rows), n + 1)
            seen += counts.inserted + counts.updated + counts.unchanged + counts.stale
            for pk, at, _ in rows:
                with lock:
                    newest[pk] = max(newest.get(pk, ""), at)
        totals.append(seen)

    lock = threading.Lock()
    threads = [threading.Thread(target=write, args=(n, store)) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(totals) == 4 * 15 * 60
    stored = dict(stores[0].execute("SELECT pk, cursor FROM records WHERE dataset = 's/t'"))
    assert stored == newest
    for store in stores:
        store.close()


def test_a_writer_mid_page_holds_up_only_the_writers_of_its_keys_and_a_key_new_to_both_is_judged_once(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writers of one dataset share it: one holding a page's transaction open (its record k1 written, its graph not
    yet) does not hold up another's page of other keys; a page that also brings k1, new to both, waits for it, loses
    the race on the primary key, and is written again alone, judged against the copy the first stored."""
    first, second = PostgresStore(pg_url), PostgresStore(pg_url)
    paused, resume = threading.Event(), threading.Event()
    index_page = postgres.index_page

    def held(*args: Any, **kwargs: Any) -> None:
        if threading.current_thread().name == "held":  # the first writer: its records written, not committed
            paused.set()
            assert resume.wait(30)
        index_page(*args, **kwargs)

    monkeypatch.setattr(postgres, "index_page", held)
    outcome: dict[str, Any] = {}

    def write(name: str, store: PostgresStore, page: PageWrite) -> threading.Thread:
        thread = threading.Thread(target=lambda: outcome.__setitem__(name, store.write(page, 1)), name=name)
        thread.start()
        return thread

    holder = write("held", first, PageWrite("s/t", [("k1", "2025-01-02", {"by": "first"})]))
    assert paused.wait(30)
    other = write("other", second, PageWrite("s/t", [("k2", "2025-01-01", {"by": "second"})]))
    other.join(30)
    assert not other.is_alive() and outcome["other"].inserted == 1  # not held up by the open page
    racing = write("racing", second, PageWrite("s/t", [("k1", "2025-01-01", {"by": "second"}),
                                                       ("k3", "2025-01-01", {"by": "second"})]))
    racing.join(0.5)
    assert racing.is_alive()  # k1 is the first writer's until it commits
    resume.set()
    for thread in (holder, racing):
        thread.join(30)
    assert outcome["held"].inserted == 1
    assert (outcome["racing"].inserted, outcome["racing"].stale) == (1, 1)  # k1 judged against the first's copy
    assert first.execute("SELECT pk, cursor, data->>'by' FROM records ORDER BY pk") == [
        ("k1", "2025-01-02", "first"), ("k2", "2025-01-01", "second"), ("k3", "2025-01-01", "second")]
    assert first.execute("SELECT count(*), count(DISTINCT n.id) FROM graph_nodes AS n JOIN records AS r "
                         "ON r.id = n.id JOIN graph_text AS t ON t.id = n.id") == [(3, 3)]
    for store in (first, second):
        store.close()


def test_records_are_compressed_with_lz4_where_the_server_has_it(pg_url: str) -> None:
    """A record long enough to be compressed is compressed with lz4 (PostgreSQL 14 and later): a fraction of the
    default pglz's CPU on every page written."""
    store = PostgresStore(pg_url)
    store.write(PageWrite("s/t", [("k1", "2025-01-01", {"text": "disk full on db01 " * 400})]), 1)
    version = store.execute("SELECT current_setting('server_version_num')::int")[0][0]
    assert store.execute("SELECT pg_column_compression(data) FROM records") == [
        ("lz4" if version >= 140000 else "pglz",)]
    store.close()


def test_keys_and_cursors_compare_as_bytes_whatever_the_collation(pg_url: str) -> None:
    """`B` < `a` and `Z` < `é` in code points (as SQLite and Python compare them), the reverse of most locales."""
    store = PostgresStore(pg_url)
    store.write(PageWrite("s/t", [("k", "a", {"v": "a"}), ("é", "x", {}), ("Z", "x", {}), ("b", "x", {})]), 1)
    assert store.write(PageWrite("s/t", [("k", "B", {"v": "B"})]), 2).stale == 1
    assert [pk for pk, _, _ in store.iter_records("s/t")] == ["Z", "b", "k", "é"]
    store.close()


def test_graph_edges_and_status_of_a_new_store(pg_url: str) -> None:
    assert not store_exists(pg_url)
    store = open_store(pg_url)
    assert store_exists(pg_url)
    store.write(PageWrite("s/t", [("a", "1", {}), ("b", "1", {})], links={"a": [("caller", "s/u", "u1")]},
                          edges=[("s/t", "b", "blocks", "s/t", "a")]), 1)
    assert store.edge_count() == 2
    assert sorted(store.execute("SELECT src_pk, rel, dst_pk FROM graph_edges")) == [
        ("a", "caller", "u1"), ("b", "blocks", "a")]
    store.write(PageWrite("s/t", tombstones=[("a", "2")]), 2)
    assert store.edge_count() == 1  # a deleted record's links leave the graph with it
    store.close()


def test_a_run_of_another_host_is_not_taken_for_crashed(pg_url: str) -> None:
    """A shared store's runs come from several machines: only this host's dead pids mark a run crashed."""
    store = PostgresStore(pg_url)
    here, there = store.begin_run("p", "incremental"), store.begin_run("p", "incremental")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    store.execute("UPDATE runs SET pid = %s", (int(dead.stdout),))
    store.execute("UPDATE runs SET host = 'another-host' WHERE id = %s", (there,))
    assert {run["id"]: run["status"] for run in store.runs("p")} == {here: "crashed", there: "running"}
    store.close()


def test_the_connections_of_ended_threads_are_closed(pg_url: str) -> None:
    """`udc run` reads the store from a new thread every cycle: their connections must not pile up on the server."""
    store = PostgresStore(pg_url)

    def backends() -> int:
        row = store.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                            (f"udc {os.getpid()}",))
        return int(row[0][0])

    before = backends()
    for _ in range(8):
        thread = threading.Thread(target=store.runs)
        thread.start()
        thread.join()
    # at most the last thread's stays, closed by the next thread's first call (the server ends a closed connection's
    # backend a moment later)
    deadline = time.monotonic() + 10
    while backends() > before + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends() <= before + 1
    store.close()


def test_a_user_without_create_uses_a_schema_made_for_it_and_is_told_how_otherwise(pg_url: str) -> None:
    schema, role = new_schema(), f"udc_test_role_{os.getpid()}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        admin.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(schema), sql.Identifier(role)))
        try:
            as_role = pg_url.replace("postgresql://postgres@", f"postgresql://{role}@")
            store = PostgresStore(as_role.split("?")[0] + f"?schema={schema}")  # its own schema: no CREATE needed
            assert store.schema_version() == 4
            store.close()
            with pytest.raises(ConfigError, match="cannot set up the store's tables .*permission denied") as refused:
                PostgresStore(as_role)  # a schema it would have to create
            assert "CREATE SCHEMA" in refused.value.hint
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_schema_holding_other_tables_is_refused_with_the_fix(pg_url: str) -> None:
    target = parse_target(pg_url)
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(target.schema)))
        admin.execute(sql.SQL("CREATE TABLE {}.records (id int)").format(sql.Identifier(target.schema)))
    with pytest.raises(ConfigError, match='relation "records" already exists') as refused:
        PostgresStore(pg_url)
    assert "a schema of its own" in refused.value.hint


def test_the_graph_and_the_read_only_reader_on_a_postgresql_store(tmp_path: Path, pg_url: str) -> None:
    """The graph's questions answer from the CLI; the reader (udc serve, udc.open) reads without writing, and a
    store not synced yet, or one an older udc left (a reader cannot upgrade it), is refused with the fix."""
    with pytest.raises(ConfigError, match="nothing has been synced") as refused:
        open_reader(pg_url)
    assert "udc sync" in refused.value.hint
    store = open_store(pg_url)
    store.write(PageWrite("snow/incident", [("a", "2025-01-01", {"number": "INC0000001",
                                                                 "short_description": "Disk full on db01"})]), 1)
    config = str(config_file(tmp_path, pg_url))
    for command, said in ((["search", "disk"], "INC0000001"), (["related", "INC0000001"], "INC0000001")):
        done = udc(*command, "--config", config)
        assert done.returncode == 0 and said in done.stdout, (command, done.stderr)
    reader = open_reader(pg_url)
    assert reader.dataset_counts() == {"snow/incident": (1, 0)}
    assert [h["key"] for h in reader.text_search('"db01"', 5)] == ["INC0000001"]
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        reader.connection.execute("DELETE FROM records")  # type: ignore[attr-defined]
    reader.close()
    dashboard = Dashboard(load_config(config, secrets_for=()), port=0)  # udc serve
    dashboard.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{dashboard.port}/api/search?q=disk", timeout=30) as answer:
            assert [(h["key"], h["snippet"]) for h in json.loads(answer.read())] == [("INC0000001",
                                                                                     "«Disk» full on db01")]
    finally:
        dashboard.stop()
    store.execute("UPDATE schema_version SET version = 2")
    with pytest.raises(ConfigError, match="written by an older udc") as refused:
        open_reader(pg_url)
    assert "udc status" in refused.value.hint
    store.close()


@pytest.fixture(scope="module")
def locked_server() -> Iterator[str]:
    """A private PostgreSQL cluster that asks every client for its password (the shared server trusts this host, so
    it cannot show a password being left out). Its URL names no password."""
    bindir = Path(subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
    home = Path(tempfile.mkdtemp(prefix="udc-pg-"))
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # initdb refuses to run as root
    (home / "pw").write_text(PASSWORD)
    if as_owner:
        shutil.chown(home, "postgres")
        shutil.chown(home / "pw", "postgres")
    port = free_port()
    subprocess.run([*as_owner, str(bindir / "initdb"), "-D", str(home / "data"), "-U", "postgres", "-A",
                    "scram-sha-256", "--pwfile", str(home / "pw"), "-E", "UTF8", "--locale", "C"],  # whatever LANG is
                   capture_output=True, check=True)
    (home / "pw").unlink()
    subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(home / "data"), "-w", "-l", str(home / "log"), "-o",
                    f"-p {port} -k {home} -c listen_addresses=127.0.0.1", "start"], capture_output=True, check=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres?schema=udc_locked"
    finally:
        subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(home / "data"), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_every_reader_of_a_password_protected_store_reads_store_password(tmp_path: Path, locked_server: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`udc.open` and `udc serve` open a store whose server asks for a password with `store_password`, as sync does;
    without it the login is refused with the fix, and the password is echoed nowhere."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    config = config_file(tmp_path, locked_server, store_password="env:UDC_TEST_STORE_PW")
    with pytest.raises(ConfigError, match="refused the store's login"):
        open_store(locked_server)
    store = open_store(locked_server, PASSWORD)
    store.write(PageWrite("snow/incident", [("a", "2025-01-01", {"number": "INC0000001",
                                                                 "short_description": "Disk full on db01"})]), 1)
    store.close()
    with pytest.raises(ConfigError, match="UDC_TEST_STORE_PW is not set"):
        udc_api.open(config)
    monkeypatch.setenv("UDC_TEST_STORE_PW", PASSWORD)
    with udc_api.open(config) as graph:
        assert [hit["key"] for hit in graph.search("disk")] == ["INC0000001"]
    dashboard = Dashboard(load_config(config, secrets_for=()), port=0)
    dashboard.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{dashboard.port}/api/search?q=disk", timeout=30) as answer:
            assert [hit["key"] for hit in json.loads(answer.read())] == ["INC0000001"]
    finally:
        dashboard.stop()
    done = udc("search", "disk", "--config", str(config), env={"UDC_TEST_STORE_PW": PASSWORD})
    assert done.returncode == 0 and "INC0000001" in done.stdout and PASSWORD not in done.stdout + done.stderr


def test_a_writer_process_killed_mid_page_fails_the_page_clearly_and_leaves_nothing_of_it(pg_url: str) -> None:
    """The writer child killed inside a page's transaction — its records and graph rows sent, its state waiting on a
    row lock the test holds — leaves none of them: the server rolls the transaction back, the page's future fails
    saying so, and the later pages are stored by the syncing process itself."""
    store = PostgresStore(pg_url)

    def page(start: int, state: int) -> PageWrite:
        rows = [(f"pk{i:04d}", f"2025-01-01 00:00:{i % 60:02d}", {"sys_id": f"pk{i:04d}", "short_description":
                 f"disk full on db{i:02d}"}) for i in range(start, start + 5)]
        return PageWrite("snow/incident", rows, state=("p", "s", {"at": state}))

    def stored() -> tuple[int, ...]:
        return tuple(store.execute(f"SELECT count(*) FROM {table}")[0][0]
                     for table in ("records", "graph_nodes", "graph_text"))

    with store.writer(), store.connect() as blocker:
        assert store.write(page(0, 1), run_id=1).inserted == 5
        assert store._writer is not None
        child = store._writer.pid
        blocker.execute("BEGIN")
        blocker.execute("SELECT 1 FROM state WHERE pipeline = 'p' FOR UPDATE")
        in_hand = store.submit(page(5, 2), run_id=1)

        def waiting() -> bool:  # the child's transaction has written the page and waits on the state row
            return bool(store.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND "
                                      "wait_event_type = 'Lock'", (f"udc {child}",))[0][0])

        deadline = time.monotonic() + 60
        while not waiting() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiting()
        os.kill(child, 9)
        with pytest.raises(StoreError, match=r"writer process exited \(code -9\).*snow/incident") as failed:
            in_hand.result(timeout=60)
        assert "run the sync again" in failed.value.hint
        blocker.execute("ROLLBACK")  # the dead child's backend goes on, finds its client gone, and rolls back
        while store.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                            (f"udc {child}",))[0][0] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stored() == (5, 5, 5) and store.get_state("p", "s") == {"at": 1}
        assert store.write(page(10, 3), run_id=1).inserted == 5  # stored here, the writer gone
    assert stored() == (10, 10, 10) and store.get_state("p", "s") == {"at": 3}
    store.close()


@pytest.mark.parametrize("given", ["environment", "service file"])
def test_the_writer_process_connects_as_the_store_did_with_no_secret_in_its_environment_or_argv(
        tmp_path: Path, pg_url: str, given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's host comes from libpq's environment (PGHOST, PGPORT) or a service file it names, and its password
    from `store_password` and PGPASSWORD: the writer child, whose environment has none of them, connects as the store
    did with what the syncing process sends over its pipe, and neither password is in its environment or argv."""
    target = parse_target(pg_url)
    server = urlsplit(target.conninfo)
    url = f"postgresql://{server.username}@{server.path}?schema={target.schema}"
    if given == "environment":
        monkeypatch.setenv("PGHOST", server.hostname or "")
        monkeypatch.setenv("PGPORT", str(server.port or 5432))
    else:
        (tmp_path / "services.conf").write_text(f"[udc_test]\nhost={server.hostname}\nport={server.port or 5432}\n")
        monkeypatch.setenv("PGSERVICEFILE", str(tmp_path / "services.conf"))
        url += "&service=udc_test"
    monkeypatch.setenv("PGPASSWORD", PASSWORD + "-libpq")
    store = PostgresStore(url, password=PASSWORD)
    with store.writer():
        assert store._writer is not None
        child = store._writer.pid
        seen = Path(f"/proc/{child}/environ").read_bytes() + Path(f"/proc/{child}/cmdline").read_bytes()
        assert store.write(PageWrite("t/x", [("a", "2025-01-01", {"sys_id": "a"})]), run_id=1).inserted == 1
        # over TCP to the host libpq was given, as the store: without it, libpq would have taken the local socket
        assert store.execute("SELECT host(client_addr) FROM pg_stat_activity WHERE application_name = %s",
                             (f"udc {child}",)) == [(server.hostname,)]
    assert PASSWORD.encode() not in seen and b"PGHOST" not in seen and b"PGSERVICEFILE" not in seen
    assert [pk for pk, _, _ in store.iter_records("t/x")] == ["a"]
    store.close()


def test_serve_answers_503_when_its_connection_is_lost_and_reconnects_at_the_next_request(
        tmp_path: Path, pg_url: str) -> None:
    """The PostgreSQL server ends udc serve's connection (a restart, a failover, an idle timeout): that request gets
    503 with the reason, and the next one is answered from a new connection, without restarting udc serve."""
    store = open_store(pg_url)
    store.write(PageWrite("snow/incident", [("a", "2025-01-01", {"number": "INC0000001",
                                                                 "short_description": "Disk full on db01"})]), 1)
    store.close()
    dashboard = Dashboard(load_config(str(config_file(tmp_path, pg_url)), secrets_for=()), port=0)
    dashboard.start()

    def search() -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{dashboard.port}/api/search?q=disk", timeout=30) as got:
                return got.status, json.loads(got.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    try:
        code, answer = search()
        assert code == 200 and [hit["key"] for hit in answer] == ["INC0000001"]
        first = dashboard.views.reader.connection.info.backend_pid  # type: ignore[attr-defined]
        with psycopg.connect(pg_url.partition("?")[0], autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        code, answer = search()
        assert code == 503 and "PostgreSQL" in answer["error"] + answer["fix"], answer
        code, answer = search()
        assert code == 200 and [hit["key"] for hit in answer] == ["INC0000001"]
        second = dashboard.views.reader.connection.info.backend_pid  # type: ignore[attr-defined]
        assert second != first
        with psycopg.connect(pg_url.partition("?")[0], autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (second,))
        health = f"http://127.0.0.1:{dashboard.port}/healthz"
        with pytest.raises(urllib.error.HTTPError) as unhealthy:  # a health check reads the store, not its memory
            urllib.request.urlopen(health, timeout=30)
        assert unhealthy.value.code == 503
        with urllib.request.urlopen(health, timeout=30) as healthy:
            assert json.loads(healthy.read()) == {"status": "ok"}
    finally:
        dashboard.stop()
