# ruff: noqa: E501  (generated-text templates read better unbroken)
"""PII-free ITSM text for false-positive tests and the redaction benchmark.

Incidents, work notes, change plans, log lines, Java/Python/.NET/Go/JS stack traces and CMDB rows, full of the
identifiers that look like PII but are not: ticket numbers, sys_ids, GUIDs, timestamps, epoch values, versions,
hashes, host names, private IPs, ports, byte counts, vendor case numbers, trace ids. No person, e-mail, phone,
card, account or national identifier appears: every hit a detector reports on this text is a false one.
"""

from __future__ import annotations

import random
import uuid

APPS = ["Payroll", "SAP ECC", "Jenkins", "Confluence", "Salesforce sync", "Order API", "Kafka consumer", "Grafana",
        "Billing", "Okta SSO", "ServiceNow MID server", "Tableau", "Postgres replica", "Elasticsearch", "Redis cache"]
TEAMS = ["Service Desk", "Network Operations", "Database Administration", "Linux Platform", "Windows Platform",
         "Identity and Access", "Application Support", "Cloud Infrastructure", "Storage", "Security Operations"]
SITES = ["dc1", "dc2", "fra", "iad", "lon", "sin"]
ENVS = ["prod", "staging", "qa", "dev", "dr"]
ERRORS = [
    "java.net.SocketTimeoutException: Read timed out", "ORA-12541: TNS:no listener", "HTTP 503 Service Unavailable",
    "ERROR 1205 (HY000): Lock wait timeout exceeded", "OOMKilled (exit code 137)", "certificate verify failed",
    "Connection refused (errno 111)", "0x80070005 Access is denied", "disk quota exceeded", "ECONNRESET",
    "SSL_ERROR_SYSCALL", "Too many open files (EMFILE)", "KafkaException: Broker not available",
]
WORDS = ["the", "service", "was", "restarted", "and", "queue", "drained", "normally", "after", "change", "window",
         "closed;", "monitoring", "shows", "latency", "back", "under", "threshold", "no", "further", "alerts", "were",
         "raised", "by", "synthetic", "checks"]


class Corpus:
    def __init__(self, seed: int = 7) -> None:
        self.r = random.Random(seed)

    # --- atoms ----------------------------------------------------------------------------------------------------

    def pick(self, seq: list[str]) -> str:
        return seq[self.r.randrange(len(seq))]

    def n(self, lo: int, hi: int) -> int:
        return self.r.randint(lo, hi)

    def host(self) -> str:
        role = self.pick(["app", "db", "web", "k8s-node", "mq", "esx", "lb", "ad", "sql", "etl"])
        return f"{role}{self.pick(['-', ''])}{self.pick(SITES)}-{self.n(1, 40):02d}"

    def fqdn(self) -> str:
        return f"{self.host()}.{self.pick(['corp', 'int', 'prod'])}.acme-internal.net"

    def private_ip(self) -> str:
        return self.pick([f"10.{self.n(0, 255)}.{self.n(0, 255)}.{self.n(1, 254)}",
                          f"192.168.{self.n(0, 255)}.{self.n(1, 254)}", f"172.{self.n(16, 31)}.{self.n(0, 255)}.{self.n(1, 254)}"])

    def sys_id(self) -> str:
        return f"{self.r.getrandbits(128):032x}"

    def guid(self) -> str:
        return str(uuid.UUID(int=self.r.getrandbits(128)))

    def ticket(self) -> str:
        prefix = self.pick(["INC", "CHG", "PRB", "RITM", "TASK", "KB", "REQ", "SCTASK"])
        return f"{prefix}{self.n(10000, 9999999):07d}"

    def jira_key(self) -> str:
        return f"{self.pick(['OPS', 'INFRA', 'SEC', 'PAY', 'DATA', 'NET'])}-{self.n(1, 25000)}"

    def stamp(self) -> str:
        y, mo, d, h, mi, s = 2024, self.n(1, 12), self.n(1, 28), self.n(0, 23), self.n(0, 59), self.n(0, 59)
        return self.pick([f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}", f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{self.n(0, 999):03d}Z",
                          f"{mo:02d}/{d:02d}/{y} {h:02d}:{mi:02d}", f"{d:02d}/Jan/{y}:{h:02d}:{mi:02d}:{s:02d} +0000"])

    def epoch(self) -> str:
        return str(self.n(1_600_000_000, 1_800_000_000) * self.pick([1, 1000]))

    def version(self) -> str:
        return self.pick([f"{self.n(1, 20)}.{self.n(0, 30)}.{self.n(0, 99)}", f"v{self.n(1, 9)}.{self.n(0, 20)}.{self.n(0, 9)}",
                          f"{self.n(1, 12)}.{self.n(0, 9)}.{self.n(0, 9)}.{self.n(1000, 30000)}",
                          f"2024.{self.n(1, 12)}.{self.n(1, 9)}-hotfix{self.n(1, 9)}", f"1.8.0_{self.n(100, 400)}"])

    def sha(self, hexlen: int = 40) -> str:
        return f"{self.r.getrandbits(hexlen * 4):0{hexlen}x}"

    def size(self) -> str:
        return self.pick([f"{self.n(1, 999)} GB", f"{self.n(1000, 99999999)} bytes", f"{self.n(1, 64)}Gi",
                          f"{self.n(100, 9999)} MB", f"{self.n(1, 100)}%"])

    def words(self, lo: int = 6, hi: int = 20) -> str:
        return " ".join(self.pick(WORDS) for _ in range(self.n(lo, hi)))

    def vendor_case(self) -> str:
        return self.pick([f"SR 3-{self.n(10**9, 10**10 - 1)}", f"Microsoft case 11{self.n(10**9, 10**10 - 1)}",
                          f"AWS case {self.n(10**9, 10**10 - 1)}", f"Cisco TAC SR 69{self.n(10**6, 10**7 - 1)}",
                          f"Red Hat case 0{self.n(10**6, 10**7 - 1)}"])

    def trace_id(self) -> str:
        return self.pick([f"dd.trace_id={self.n(10**17, 2**63 - 1)} dd.span_id={self.n(10**17, 2**63 - 1)}",
                          f"traceparent=00-{self.sha(32)}-{self.sha(16)}-01", f"X-Request-ID: {self.guid()}"])

    # --- documents ------------------------------------------------------------------------------------------------

    def incident(self) -> str:
        app, host = self.pick(APPS), self.fqdn()
        return (f"{app} unavailable for users on {self.pick(ENVS)} since {self.stamp()} UTC. Alert from {host} "
                f"({self.private_ip()}): {self.pick(ERRORS)}. Related {self.ticket()} and {self.jira_key()}. "
                f"Deployed build {self.version()} (commit {self.sha(7)}) at epoch {self.epoch()}. Pod "
                f"{app.lower().replace(' ', '-')}-{self.sha(10)[:9]}-{self.sha(5)[:5]} restarted {self.n(2, 40)} times. "
                f"Disk {self.size()} used of {self.size()}. {self.words()}. Assignment group: {self.pick(TEAMS)}.")

    def work_note(self) -> str:
        return self.pick([
            f"{self.stamp()} - System Administrator (Work notes)\nChecked {self.host()}: {self.pick(ERRORS)}. "
            f"Escalated to {self.pick(TEAMS)} under {self.ticket()}.",
            f"Opened {self.vendor_case()} with the vendor; {self.words(4, 10)}.",
            f"Increased heap to {self.n(2, 32)}g on {self.host()} (pid {self.n(100, 99999)}), port {self.n(1024, 65535)}. "
            f"GC pause p99 {self.n(10, 2000)} ms.",
            f"Rolled back {self.pick(APPS)} from {self.version()} to {self.version()}; sys_id {self.sys_id()}.",
            f"Change {self.ticket()} approved by CAB on {self.stamp()}; window {self.n(0, 23):02d}:00-{self.n(0, 23):02d}:30.",
        ])

    def log_lines(self) -> str:
        lines = []
        for _ in range(self.n(3, 8)):
            lines.append(self.pick([
                f"{self.stamp()} INFO  [{self.pick(APPS)}] request_id={self.guid()} status=200 duration_ms={self.n(1, 9000)} "
                f"bytes={self.n(100, 10**7)}",
                f"{self.stamp()} WARN  {self.host()} kernel: [{self.n(1000, 999999)}.{self.n(100000, 999999)}] "
                f"eth0: link down, rx_errors={self.n(0, 99999)}",
                f'{self.private_ip()} - - [{self.stamp()}] "GET /api/v2/orders/{self.n(10**5, 10**9)}?page={self.n(1, 90)} '
                f'HTTP/1.1" {self.pick(["200", "404", "500"])} {self.n(100, 99999)} "-" "curl/{self.version()}"',
                f'{{"ts":{self.epoch()},"level":"error","msg":"{self.pick(ERRORS)}","host":"{self.fqdn()}",'
                f'"{self.trace_id().split("=")[0].split(":")[0]}":"{self.sha(16)}","offset":{self.n(10**6, 10**12)}}}',
                f"{self.stamp()} ERROR {self.trace_id()} {self.pick(ERRORS)} after {self.n(1, 30)} retries",
                f"{self.stamp()} sshd[{self.n(1000, 65000)}]: Connection closed by {self.private_ip()} port {self.n(1024, 65535)}",
                f"{self.stamp()} image={self.pick(APPS).lower().replace(' ', '-')}@sha256:{self.sha(64)}",
            ]))
        return "\n".join(lines)

    def stack_trace(self) -> str:
        kind = self.n(0, 3)
        if kind == 0:
            frames = "\n".join(f"\tat com.acme.{self.pick(['orders', 'billing', 'auth'])}.{self.pick(['Service', 'Repo', 'Handler'])}"
                               f"{self.n(1, 9)}.handle(Service.java:{self.n(10, 2000)})" for _ in range(self.n(3, 10)))
            return f"java.lang.IllegalStateException: {self.pick(ERRORS)}\n{frames}\n\t... {self.n(5, 80)} more"
        if kind == 1:
            frames = "\n".join(f'  File "/opt/app/{self.pick(["etl", "api", "jobs"])}/{self.pick(["load", "views", "tasks"])}.py", '
                               f"line {self.n(10, 900)}, in {self.pick(['main', 'run', 'handle', '<module>'])}\n    x = f({self.n(1, 99)})"
                               for _ in range(self.n(2, 6)))
            return f"Traceback (most recent call last):\n{frames}\nRuntimeError: {self.pick(ERRORS)}"
        if kind == 2:
            frames = "\n".join(f"   at Acme.Orders.Repository.Save(Order order) in C:\\build\\Orders\\Repository.cs:line {self.n(10, 999)}"
                               for _ in range(self.n(2, 5)))
            return f"System.Data.SqlClient.SqlException (0x80131904): Timeout expired.\n{frames}"
        frames = "\n".join(f"    at {self.pick(['handler', 'next', 'Layer.handle'])} (/srv/app/node_modules/express/lib/router/"
                           f"layer.js:{self.n(10, 400)}:{self.n(1, 40)})" for _ in range(self.n(2, 6)))
        return f"TypeError: Cannot read properties of undefined (reading 'id')\n{frames}"

    def cmdb_row(self) -> str:
        mac = ":".join(f"{self.n(0, 255):02x}" for _ in range(6))
        return (f"name={self.host()} sys_id={self.sys_id()} asset_tag=P{self.n(100000, 999999)} "
                f"serial_number={self.pick(['5CG', 'CZC', 'MXQ', 'J'])}{self.n(1000, 9999)}{self.sha(3).upper()} "
                f"model_number={self.pick(['PowerEdge R750', 'ProLiant DL380 Gen10', 'UCS C220 M5'])} "
                f"os=RHEL {self.n(7, 9)}.{self.n(0, 9)} kernel {self.n(3, 6)}.{self.n(0, 18)}.{self.n(0, 500)}-{self.n(100, 600)}.el8 "
                f"cpu_count={self.n(2, 128)} ram={self.n(4, 1024) * 1024} disk_space={self.size()} mac_address={mac} "
                f"ip_address={self.private_ip()} fqdn={self.fqdn()} install_date={self.stamp()} "
                f"correlation_id={self.guid()} discovery_source=ServiceNow cost_center=CC-{self.n(1000, 9999)}")

    def change_plan(self) -> str:
        return (f"Implementation plan for {self.ticket()}:\n1. Drain {self.fqdn()} from the pool (F5 {self.version()}).\n"
                f"2. Upgrade {self.pick(APPS)} from {self.version()} to {self.version()}; checksum sha256 {self.sha(64)}.\n"
                f"3. Run smoke tests ({self.jira_key()}), expect p95 < {self.n(100, 900)} ms.\n"
                f"Backout: restore snapshot snap-{self.sha(17)} taken at {self.stamp()}. Ports {self.n(1024, 9999)}-"
                f"{self.n(10000, 65535)} opened on {self.private_ip()}/24. Invoice PO-{self.n(4500000000, 4599999999)}.")

    def document(self) -> str:
        return self.pick([self.incident, self.work_note, self.log_lines, self.stack_trace, self.cmdb_row,
                          self.change_plan])()  # type: ignore[operator]


def documents(total_bytes: int = 200_000, seed: int = 7) -> list[str]:
    """PII-free ITSM documents adding up to about `total_bytes` bytes (UTF-8)."""
    corpus = Corpus(seed)
    docs: list[str] = []
    size = 0
    while size < total_bytes:
        doc = corpus.document()
        docs.append(doc)
        size += len(doc.encode())
    return docs
