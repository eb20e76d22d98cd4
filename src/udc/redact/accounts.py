"""Accounts that are no person — role mailboxes and service accounts — kept readable in free text, and the logins of
the people a source's directory lists, found wherever they appear.

Role and service accounts are told by their shape (built-in patterns plus `redaction.keep_accounts`) and by the
directory (web-service-only users, app accounts, accounts with no person's name). A person's login is matched only
when it is shaped like one (it has a digit or a separator, or it is built from the person's own name), so a login
that is an ordinary word ("mark", "grant") is not redacted wherever the word occurs.
"""

from __future__ import annotations

import fnmatch
import re
import threading
import unicodedata
from collections.abc import Iterable

from udc.redact.lowercase import lower_case
from udc.redact.wordpass import WordLists

# Shell-style, matched against a whole login or e-mail address and against an address's local part.
ROLE_ACCOUNTS = (
    "servicedesk*", "service-desk*", "service.desk*", "service_desk*", "helpdesk*", "help-desk*", "help.desk*",
    "itsupport*", "it-support*", "it.support*", "support", "support-*", "support.*", "support_*", "noreply*",
    "no-reply*", "no_reply*", "donotreply*", "do-not-reply*", "do_not_reply*", "mailer-daemon", "postmaster",
    "hostmaster", "webmaster", "abuse", "admin", "administrator", "root", "system", "guest", "alerts*", "alerting*",
    "alertmanager*", "monitoring*", "notifications*", "notify*", "security", "security-*", "soc", "noc", "itops*",
    "it-ops*", "ops", "devops*", "oncall*", "on-call*", "billing*", "accounts-payable*", "payroll*", "info",
    "sales", "hr", "facilities*", "jenkins", "jenkins-*", "jenkins_*", "git", "gitlab*", "github*", "svc*", "sa-*",
    "sa_*", "srv-*", "srv_*", "*-svc", "*_svc", "*.svc", "*-bot", "*_bot", "bot-*", "bot_*", "app-*", "app_*",
    "api-*", "api_*", "sys-*", "sys_*", "backup*", "deploy*", "integration*", "automation*", "scanner*", "batch-*",
    "batch_*", "etl", "etl-*", "etl_*", "cron", "cron-*", "cron_*", "mid.server*", "mid_server*", "midserver*",
    "sn_*", "snc_*", "svc.*", "service-account*", "service_account*", "serviceaccount*", "system-*", "system_*",
    "test-*", "test_*", "build", "build-*", "build_*", "ci-*", "ci_*", "runner-*", "runner_*", "daemon*", "nagios*",
    "zabbix*", "splunk*", "datadog*", "pagerduty*", "opsgenie*", "teams-*", "slack-*", "it-*", "it_*", "hr-*",
    "hr_*", "*-team", "*_team", "*.team", "team-*", "team_*", "team.*", "*-ops", "*_ops", "*-admins", "*-oncall",
    "dl-*", "dl_*", "dl.*", "grp-*", "grp_*",  # team and distribution-list mailboxes ("dba-team@", "dl-finance@")
    # business functions' mailboxes, also in other languages ("invoices@", "facturen@", "ar@", "vendor-mgmt@")
    "invoice*", "invoicing*", "payment*", "payable*", "receivable*", "remittance*", "ap", "ar", "ap-*", "ar-*",
    "ap_*", "ar_*", "accounts", "accounting*", "finance*", "treasury*", "procurement*", "purchasing*", "orders*",
    "vendor*", "supplier*", "*-mgmt", "*_mgmt", "*-management", "*-desk", "*-requests", "privacy*", "compliance*",
    "legal", "contact", "enquiries*", "inquiries*", "office", "reception*", "marketing*", "press", "careers",
    "recruiting*", "facturen*", "facturas*", "factures*", "facturation*", "rechnung*", "fatture*", "faktura*",
    # customer service in other languages ("klantenservice@", "kundenservice@", "atendimento@")
    "klantenservice*", "kundenservice*", "kundendienst*", "serviceclient*", "service-client*", "serviceclients*",
    "atencion*", "atendimento*", "suporte*", "soporte*", "assistenza*", "kundtjanst*", "kundeservice*",
    # SAP's technical users ("RFC_WORKDAY", "WF-BATCH")
    "rfc_*", "rfc-*", "wf-batch", "ddic",
    # desks and functions that write to tickets ("travel@", "workplace@", "cardservices@", "threatintel@") and
    # GitHub's app accounts ("49699333+dependabot[bot]@users.noreply.github.com": fnmatch reads "[[]" as "[")
    "travel*", "workplace*", "cardservices*", "card-services*", "threatintel*", "threat-intel*", "*[[]bot]",
    "claims*", "phishing*", "occhealth*", "locums*", "mailroom*", "dispatch*", "onboarding*", "offboarding*", "hr.*",
    "kb.*", "kb-*", "entgelt*", "lohn*", "ik",  # (German payroll's "entgelt@", "lohn@"; Turkish HR's "ik@")
    # shared devices and pools ("kiosk-ed01", "clean-pool", "room-4b", "shared-reception")
    "kiosk*", "*-kiosk", "shared-*", "shared_*", "*-shared", "*-pool", "*_pool", "pool-*", "room-*", "conf-*",
    "ubuntu", "ec2-user", "centos", "almalinux", "debian", "vagrant", "azureuser", "opc",
    "www-data", "nobody", "postgres", "mysql", "oracle", "apache", "nginx",  # default system and image accounts
)

# A compound mailbox whose later part is a business function is a team's, whatever comes first: "storage-support@",
# "pcard-admin@", "noc-alerts@", "pharmacy.orders@" (a person's address ends with a name, not with one of these);
# addresses only: a login "jdoe-admin" is a person's privileged account
_ROLE_TAILS = frozenset("""
support admin admins alerts alerting monitoring notifications notify security soc noc ops itops devops billing
payroll info sales hr facilities invoices invoice invoicing payments payment payable payables receivable receivables
orders ordering accounts accounting finance procurement purchasing vendors vendor suppliers enquiries inquiries
reception office legal compliance privacy marketing careers recruiting helpdesk servicedesk desk team teams requests
request mgmt management noreply abuse postmaster webmaster backup backups bot svc escalations approvals oncall
helpline hotline service services feedback bookings booking queue intake dispatch logistics admissions platform
intel onboarding offboarding duplicates study managers incidents claims
""".split())  # noqa: SIM905
_PRODUCT_HEADS = frozenset("""
sap jira confluence servicenow snow okta azure aws gcp citrix vmware oracle salesforce workday epic cerner splunk
datadog grafana kafka sql exchange o365 m365 sharepoint teams zoom vpn pki dns dhcp ad ldap sccm intune jamf
""".split())  # noqa: SIM905
_PARTS = re.compile(r"[._\-]")
_LOGIN_CHARS = re.compile(r"[0-9._\-]")
_KEPT_CACHE = 50_000
_HOST_SUFFIX = re.compile(r"-[a-z0-9]{1,12}(?:-[a-z0-9]{1,12})?(?![\w\-@])(?!\.[a-z0-9])")


class Accounts:
    """Which logins and addresses stay readable (role and service accounts), and which are people's (redacted)."""

    def __init__(self, keep_patterns: Iterable[str] = (), lists: WordLists | None = None) -> None:
        """`lists`: word lists the logins are found with in one pass (a redactor's directory), else their own."""
        patterns = [p.strip().lower() for p in (*ROLE_ACCOUNTS, *keep_patterns) if p.strip()]
        self._shape = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns))
        self._machines: set[str] = set()  # learned from the directory: logins, addresses and their local parts
        self._kept: dict[str, bool] = {}  # kept()'s answers so far (memory only, bounded)
        self._logins: set[str] = set()
        self._lists = lists if lists is not None else WordLists()
        self._which = self._lists.add({})
        self._dirty = False
        self._lock = threading.Lock()

    # --- accounts kept readable -------------------------------------------------------------------------------

    def kept(self, value: str) -> bool:
        """A role mailbox or service account: by the directory, or by its shape ("servicedesk@", "svc_backup")."""
        known = self._kept.get(value)  # (the same addresses and logins recur; the shape pattern is long)
        if known is not None:
            return known
        folded = value.strip().lower()
        local = folded.rsplit("\\", 1)[-1].split("@", 1)[0]  # DOMAIN\\svc_x, svc_x@corp
        known = (folded in self._machines or local in self._machines or self._shape.match(folded) is not None
                 or self._shape.match(local) is not None or ("@" in folded and _role_compound(local)))
        if len(self._kept) >= _KEPT_CACHE:
            self._kept.clear()
        self._kept[value] = known
        return known

    def add_machine(self, *values: str) -> None:
        """An account the directory says is no person: its login and address stay readable everywhere."""
        for value in values:
            folded = value.strip().lower()
            if folded:
                self._machines |= {folded, folded.split("@", 1)[0]}
                self._kept = {}  # answers given before may change

    # --- people's logins --------------------------------------------------------------------------------------

    def add_login(self, login: str, first: str = "", last: str = "") -> bool:
        """Learn a person's login (or an e-mail's local part) when it is shaped like one; True when it is used."""
        folded = login.strip().lower()
        if len(folded) < 4 or " " in folded or "@" in folded or self.kept(folded):
            return False
        # "Lefèvre" in "hlefevre"; each part of a double name too: "Adeyemi" of "Adeyemi-Eze" in "cadeyemi"
        name_parts = [p for p in {_ascii(first), _ascii(last)} | _name_parts(f"{first} {last}") if len(p) >= 3]
        # "jdoe", "praman": built from the name; "mark" alone (a last name, and a word) is too ambiguous
        if not (_LOGIN_CHARS.search(folded) or any(p in folded and p != folded for p in name_parts)):
            return False
        with self._lock:
            if folded not in self._logins:
                self._logins.add(folded)
                self._dirty = True
        return True

    def __len__(self) -> int:
        return len(self._logins)

    def find_logins(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, login) of each known login standing alone (not inside a word, a path or an address)."""
        if not self._refreshed():
            return []
        lower, _ = lower_case(text)
        n = len(lower)
        hits = []
        for last, login in self._lists.hits(lower, self._which):
            start, end = last + 1 - len(login), last + 1
            before = lower[start - 1] if start else " "
            after = lower[end] if end < n else " "
            if (before.isalnum() or before in "_.-@/") or (after.isalnum() or after in "_@") or (
                    after in ".-" and end + 1 < n and lower[end + 1].isalnum() and not (
                        after == "-" and _HOST_SUFFIX.match(lower, end))):
                continue  # (a machine named for its user is theirs: "jwseo-mbp", "jdoe-laptop")
            hits.append((start, end, login))
        return hits

    def _refreshed(self) -> bool:
        """The logins' list brought up to date; False when there are none."""
        with self._lock:
            if self._dirty:
                self._lists.set(self._which, {login: login for login in self._logins})
                self._dirty = False
            return bool(self._logins)


def spelled_from(login: str, name: str) -> bool:
    """A login built from a person's name: it holds their surname or first name (4 letters or more, without
    accents: "maydin" for "Mehmet Aydın")."""
    folded = _ascii(login)
    return any(len(part) >= 4 and part in folded for part in _name_parts(name))


def _name_parts(name: str) -> set[str]:
    """A name's words as logins spell them, a double name's parts alone and joined ("Ben-Ami": ben, ami, benami)."""
    return {*map(_ascii, name.replace("-", " ").split()), *map(_ascii, name.split())}


def _ascii(name: str) -> str:
    """A name lower-cased without its accents, hyphens, apostrophes and spaces, as logins are usually spelled
    ("Wiśniewski" -> "wisniewski", "Al-Rashid" -> "alrashid", "O'Brien" -> "obrien")."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", name.lower().replace("ı", "i"))
                   if not unicodedata.combining(ch) and ch not in "-'’ ")


def _role_compound(local: str) -> bool:
    """A team's mailbox by its parts: a business function after the first ("storage-support@"), or a product or
    platform first ("sap-basis@", "okta-admins@"; people's addresses start with a name)."""
    parts = _PARTS.split(local)
    return len(parts) > 1 and (any(part in _ROLE_TAILS for part in parts[1:]) or parts[0] in _PRODUCT_HEADS)
