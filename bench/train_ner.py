# ruff: noqa: E501, SIM905  (text templates and word lists read better unbroken)
"""Train stream 2's model: a small spaCy NER pipeline (blank English, tok2vec + ner, CPU) for person names and
postal addresses in ITSM text, rebuilt byte for byte from this script, `bench/train_ner.cfg` and a seed.

    nice -n 19 python bench/train_ner.py --out /tmp/udc-ner [--docs 6000] [--epochs 8] [--seed 20261204]

The training text is generated, never read from the labelled sets: half from this file's templates (names, surnames
and addresses of many countries, people named with no cue, capitalised IT words that are no one), half from
`bench/itsm_eval_corpus.py`'s generator, with this file's names, under a training seed no evaluation uses. Labels:
PERSON for people and LOC for a whole street address (stream 2 maps LOC to LOCATION, which hides an address);
everything else, bare city and office names included, is no entity. Prints the model directory and its SHA-256 (`udc.redact.ner.model_digest`),
which `redaction.ner_model_sha256` pins. The same versions of spaCy, thinc and numpy give the same hash.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, and the same floating-point order on every run

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import itsm_eval_corpus  # noqa: E402  (a sibling script, not a package)

CONFIG = BENCH / "train_ner.cfg"
SEED = 20261204
EVAL_SEEDS = {20251203, 7}  # the generator seeds bench/redaction_eval.py and the README report figures for
Span = tuple[int, int, str]

# Names of neither the evaluation generator nor any hand-written set (words found in theirs were taken out, so no
# evaluation meets a name it was trained on); the generator's half of the training text uses these too.
FIRST = """Aiko Alejandro Alessandro Amina Anders Anja Babajide Benedikt Bongani Catalina Cheng Chidinma Dagny Daniela
Darius Diego Divya Efua Emil Erik Farah Farid Femi Florian Francesca Gabriel Gulnara Hana Ifeoma Ilse Imran
Ivana Jakub Jasmine Jin-woo Joanna Johan Jonas Julia Kaito Karin Katarzyna Lena Luca Magnus Malika Marek Marta
Miguel Mikael Min-jun Nadia Nikolai Nils Noa Omar Pablo Paolo Petra Pierre Quentin Ravi Rebecca Renata Ruth
Saanvi Sanjay Sara Sebastian Seo-yeon Shreya Simone Sofia Stefan Takeshi Tariq Teresa Ulrike Valentina Vikram
Wanjiru Xiu Yaw Yasmin Yerlan Zainab Zoltan Andrew Brian Catherine David Emily George Helen James Jennifer Karen
Laura Michael Natalie Peter Rachel Richard Robert Sarah Stephen Susan Thomas Victoria William Daisy Ray Rusty
Robin""".split()
LAST = """Abara Achterberg Adjei Agarwal Andersson Appiah Bakshi Balogun Bauer Becker Bergström Castillo Chen Chowdhury
Dąbrowski Dimitrov Eriksen Ferreira Fischer Fujita Gonzalez Gupta Hansen Hosseini Huang Ibrahim Jansen Johansson
Kaminski Kapoor Kato Khan Kovačević Kumar Lopez Lungu Martins Medina Mukherjee Müller Nascimento Nielsen Novak
Nwosu Oduya Ogunleye Oliveira Ortiz Petrov Reyes Romano Rossi Saito Santos Schneider Shevchenko Sokolova Suzuki
Szabo Thapa Torres Tran Tshabalala Ueda Varga Vasquez Wagner Weber Yamamoto Yildiz Zhou Zielinski Anderson Brown
Campbell Clarke Davies Edwards Evans Harris Jackson Johnson Jones Kelly Lewis Miller Morgan Roberts Robinson
Smith Taylor Thompson Walker White Williams Wilson Wright Brook Wood King Rivers Moss Marsh Frost Sharp Booth
Gray Golden Bond""".split()
LAST += ["Mac Giolla", "O'Connor", "Ben-David", "Smith-Jones", "dos Santos", "El Amrani"]
TITLES = ["Mr.", "Mrs.", "Ms.", "Dr.", "Mr", "Ms", "Dr", "Prof."]
INITIALS = "ABCDEFGHJKLMNPRSTW"

# Capitalised words of IT work that are no one: the model must learn they stay.
PRODUCTS = """Outlook Teams SharePoint OneDrive Okta Citrix Workday Jira Confluence Slack Zoom Webex Kafka Grafana Splunk
Tableau Salesforce Zscaler CrowdStrike Intune Autopilot BitLocker Chrome Edge Firefox Excel Word PowerPoint Acrobat
Oracle Postgres Redis Nginx Ansible Terraform Kubernetes Helm ArgoCD GitLab GitHub Bitbucket Artifactory Nexus Sentry
PagerDuty Datadog Dynatrace Veeam Commvault Cisco AnyConnect GlobalProtect FortiClient Duo Entra Exchange Windows
macOS Ubuntu RHEL VMware Horizon Hyper-V Azure AWS Lambda CloudWatch Snowflake Databricks Airflow Jamf Kace SCCM
ServiceNow Zendesk Freshdesk Concur Coupa Ariba SAP Dynamics Power BI Looker Miro Figma Notion Dropbox Box Lucid
Genesys Five9 Twilio Avaya Polycom Yealink Lenovo ThinkPad Dell Latitude HP EliteBook Surface MacBook iPhone Android
Pixel Galaxy YubiKey""".split()
TEAMS = ["Service Desk", "Network Operations", "Desktop Support", "Identity and Access", "Change Advisory Board",
         "Site Reliability", "Security Operations", "Field Services", "Application Support", "Database Team",
         "Cloud Platform", "End User Computing", "Facilities", "Procurement", "Payroll", "Accounts Payable",
         "Major Incident Management", "Problem Management", "Release Management", "Vendor Management"]
WORDS_CAPITALISED = ["Backup", "Restore", "Rollback", "Failover", "Upgrade", "Patch", "Reboot", "Escalation",
                     "Resolution", "Workaround", "Root cause", "Impact", "Urgency", "Priority", "Status", "Pending",
                     "January", "March", "October", "Production", "Staging", "Sandbox", "Maintenance", "Outage", "Degraded", "Resolved", "Closed"]
# Runbook steps start with a verb, capitalised like a name: "Drain the node", "Read the log".
VERBS = """Check Verify Restart Drain Read Open Close Run Stop Start Apply Remove Add Update Confirm Review Escalate
Monitor Reset Clear Raise Assign Rebuild Rotate Renew Deploy Revert Test Install Uninstall Mount Scale Enable Disable
Grant Revoke Export Import Sync Flush Purge Kill Migrate Back Copy Move Delete Create Rename Log Call Email Notify Ping
Trace Collect Attach Upload Download Capture Compare Wait Retry Skip Keep Leave Take Set Unlock Lock Re-run Follow
Note Mark Tag Page Book Order Ship Return Replace Swap Label Print Scan Sign Approve Reject Defer Cancel""".split()
GROUPS = ["GG-Finance-RW", "Finance Approvers", "All Staff", "VPN-Users", "SG_Payroll_Admins", "Domain Admins",
          "Helpdesk Tier 2", "Remote Workers", "Contractors", "Executive Assistants", "HR Business Partners",
          "Print Operators", "Backup Operators", "CAB Members", "On-Call Rota", "Night Shift", "Regional Managers"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"]
UNITS_OF_MEASURE = ["GB", "MB", "TB", "KB", "ms", "Mbps", "GHz", "Hz", "GiB", "MiB", "Users", "Seats", "Licences"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
OFFICES = ["London", "Dublin", "Berlin", "Paris", "Madrid", "Toronto", "Chicago", "Sydney", "Bangalore", "Singapore",
           "Johannesburg", "Lagos", "Nairobi", "São Paulo", "Mexico City", "Tokyo", "Seoul", "Warsaw", "Stockholm",
           "Amsterdam", "Zurich", "Milan", "Auckland", "Manila", "Cape Town", "Atlanta", "Seattle", "Edinburgh"]
HOSTS = ["wks-{n}", "LAP-{n}", "srv-{n}-prd", "db{n}.corp.example", "PRN-{n}", "vdi-{n}", "esx{n}", "app{n}-uat"]

# Addresses of several countries, each in its own order (number before or after the street, postcodes of each form).
STREET_WORDS = """Acacia Albert Alder Ash Beech Birch Bridge Cedar Chapel Chestnut Clarence Cromwell Dale Elm Forest
Garden George Glebe Green Grove Harbour Hawthorn Heath Highland Holly Juniper Kings Lake Laurel Linden Manor Maple
Market Meadow Mill Newton Oak Orchard Park Pine Primrose Queens Riverside Rose Sandy School Silver Spring Station
Sycamore Victoria Walnut Water Willow Windsor York""".split()
SUFFIXES = ["Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Drive", "Dr", "Court", "Close", "Crescent", "Way",
            "Place", "Terrace", "Boulevard", "Blvd", "Parade", "Gardens", "Row", "Walk", "Hill", "Square"]
UNITS = ["Apt {n}", "Apt. {n}B", "Unit {n}", "Flat {n}", "Suite {n}00", "#{n}", "Apartment {n}", "Floor {n}"]
US_CITIES = [("Columbus", "OH", "43215"), ("Tampa", "FL", "33602"), ("Raleigh", "NC", "27601"), ("Phoenix", "AZ", "85004"),
             ("Madison", "WI", "53703"), ("Albany", "NY", "12207"), ("Omaha", "NE", "68102"), ("Eugene", "OR", "97401"),
             ("Dayton", "OH", "45402"), ("Fresno", "CA", "93721"), ("Newark", "NJ", "07102"), ("Tulsa", "OK", "74103")]
UK_CITIES = [("Bristol", "BS1 {d}AB"), ("Manchester", "M{d} 2WX"), ("Leicester", "LE{d} 5QT"), ("Cardiff", "CF10 {d}EP"),
             ("Glasgow", "G{d} 1RS"), ("Norwich", "NR{d} 3JU"), ("Reading", "RG{d} 7BY"), ("York", "YO{d} 8LD")]
CA_CITIES = [("Ottawa", "ON", "K1P {d}B7"), ("Calgary", "AB", "T2P {d}K9"), ("Halifax", "NS", "B3H {d}R2"), ("Winnipeg", "MB", "R3C {d}V4")]
AU_CITIES = [("Brisbane", "QLD", "4000"), ("Perth", "WA", "6000"), ("Adelaide", "SA", "5000"), ("Hobart", "TAS", "7000")]
DE_STREETS = ["Lindenstraße", "Hauptstraße", "Bahnhofstr.", "Gartenweg", "Schillerstraße", "Am Markt", "Rosenweg"]
DE_CITIES = [("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("04109", "Leipzig"), ("20095", "Hamburg")]
FR_STREETS = ["rue des Lilas", "avenue Victor Hugo", "boulevard Voltaire", "rue de la République", "place Carnot"]
FR_CITIES = [("69003", "Lyon"), ("31000", "Toulouse"), ("44000", "Nantes"), ("13001", "Marseille")]
NL_STREETS = ["Kerkstraat", "Dorpsweg", "Prinsengracht", "Molenlaan", "Stationsplein"]
NL_CITIES = [("1017 GC", "Amsterdam"), ("3511 AB", "Utrecht"), ("2511 CV", "Den Haag")]
ES_STREETS = ["Calle Mayor", "Avenida de la Constitución", "Calle del Sol", "Paseo de Gracia", "Rua Augusta"]
ES_CITIES = [("28013", "Madrid"), ("41001", "Sevilla"), ("08007", "Barcelona"), ("1100-048", "Lisboa")]
IN_CITIES = [("Pune", "411001"), ("Chennai", "600028"), ("Hyderabad", "500081"), ("Kolkata", "700019")]

# Sentences: {P} a person's full name, {P2} another, {F} a first name, {L} a surname (after a title in the text),
# {A} an address; the other slots are no entity.
PERSON_SENTENCES = """{P} called about the VPN token again.
Spoke with {P} re: laptop refresh, collecting {DAY}.
{P} can't open {PROD} since the update this morning.
Laptop handed over to {P} at the front desk.
Assigned to {P} in {TEAM}.
Reassigned from {P} to {P2} as per the rota.
Escalated to {P2}; {P} is on leave until {DAY}.
Per {F}'s request the mailbox was converted to shared.
{F} says the printer on floor {N} jams on every duplex job.
{F} confirmed the fix works, closing.
Met {P} on site; the docking station was faulty and was swapped.
{P} ({TEAM}) reports that {PROD} keeps asking for credentials.
Approved by {P2}, implemented by {P}.
cc {P2}
Left a voicemail for {Title} {L}, will try again after lunch.
{Title} {L} from {TEAM} asked for access to the {PROD} workspace.
New starter {P} needs a {PROD} licence and a badge.
Leaver: {P}, last day {DAY}. Disable accounts and recover the {PROD}.
Customer {P} phoned in, very frustrated about the delay.
Thanks {F}, that fixed it.
Can {F} please check the {PROD} queue?
Vendor engineer {P} will be on site {DAY} to replace the disk.
{P} and {P2} both report the same error in {PROD}.
Shadowed by {F} for training.
Handover to {F}: the {PROD} sync is still failing, see {TKT}.
Caller is {P}, the request is on behalf of {P2}.
According to {F}, the issue started after the {PROD} upgrade.
Hardware collected by {P} from reception.
{P} will bring the {PROD} back on {DAY}.
Waiting for {P2} to approve the change.
Out of office reply from {P}.
Update from {F}: still broken on {HOST}.
Booked a call with {P} for {DAY} morning.
The owner of {TKT} is {P}.
Delegate access for {P2} to {P}'s calendar granted.
Manager {P2} approved the purchase for {P}.
Please reset MFA for {P}, phone replaced.
{F} and I rebuilt the profile together.
Ask {F} about the shared drive mapping.
{P} joined the bridge at 09:40.
Rang {P} twice, no answer.
Remote session with {P} on {HOST}, cleared the cache.""".splitlines()
ADDRESS_SENTENCES = """Please ship the replacement laptop to {A}.
Home address updated to {A}.
Courier to collect the old monitor from {A}.
Delivery address: {A}
New address is {A}, effective {DAY}.
{P} moved to {A} and needs the payslip address changed.
Send the YubiKey to my home, {A}.
Address on file: {A}""".splitlines()
PLAIN_SENTENCES = """{PROD} is down for everyone on the {OFFICE} floor.
Restarted the {PROD} service on {HOST}, monitoring.
{WORD} completed successfully on {HOST}.
{PROD} sync job failed overnight, see {TKT}.
{TEAM} are investigating the {PROD} outage.
Raised {TKT} with the vendor for the {PROD} licence renewal.
The {OFFICE} office switch was replaced by {TEAM}.
{WORD}: users cannot sign in to {PROD}.
Cleared the {PROD} cache and rebooted {HOST}.
Moved to {TEAM} queue.
{WORD} scheduled for {DAY} 22:00 in the {OFFICE} data centre.
{PROD} client upgraded, {PROD} reinstalled.
Known error, linked to {TKT}.
User confirmed {PROD} works again from {OFFICE}.
{TEAM} approved {TKT} at the weekly meeting.
Please attach the {PROD} logs from {HOST}.
{PROD} and {PROD} integration is throwing 401s.
No response from caller, closing per policy.
{WORD} window agreed with {TEAM} for {DAY}.
Printer in {OFFICE} reception re-added via {PROD}.
{VERB} the {PROD} pods on {HOST} before patching.
{VERB} {TKT} and {VERB2} the {PROD} logs.
Added to the {GROUP} group in {PROD}.
Removed from {GROUP}, access to {PROD} revoked.
Membership of {GROUP} requested, pending approval from {TEAM}.
Disk at {N}{UNIT} free of {N}00 {UNIT} on {HOST}.
Latency {N}00 {UNIT}, throughput {N}{UNIT} after the change.
Licence count: {N}0 {UNIT}, renewal due {MONTH} {N}.
Change window {DAY} {N} {MONTH}, 22:00 to 02:00.
Last patched {MONTH} {N}, next cycle in {MONTH}.
Room {N}.{N}, Floor {N}, Building {N}: projector not detected.
Desk {N}{N}-{N} in the {OFFICE} hub has no network.""".splitlines()
STEP_SENTENCES = """{VERB} the {PROD} service on {HOST}.
{VERB} {HOST} from the pool.
{VERB} the {PROD} config and {VERB2} it.
{VERB} {TKT} for the audit trail.
{VERB} with {TEAM} before the change.
{VERB} that {PROD} is healthy.
{VERB} {N} {UNIT} of logs from {HOST}.""".splitlines()
SIGN_OFFS = ["Thanks,", "Regards,", "Kind regards,", "Best,", "Cheers,", "Many thanks,"]
SLOT = re.compile(r"\{(\w+)\}")


class _Text:
    """Generated text and its labelled spans."""

    def __init__(self) -> None:
        self.text = ""
        self.spans: list[Span] = []

    def add(self, piece: str, label: str | None = None) -> None:
        if label:
            self.spans.append((len(self.text), len(self.text) + len(piece), label))
        self.text += piece


class _Templates:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def first(self) -> str:
        return self.r.choice(FIRST)

    def person(self) -> str:
        first, last = self.r.choice(FIRST), self.r.choice(LAST)
        form = self.r.random()
        if form < 0.6:
            return f"{first} {last}"
        if form < 0.75:
            return f"{last}, {first}"
        if form < 0.85:
            return f"{first} {self.r.choice(INITIALS)}. {last}"
        if form < 0.93:
            return f"{first} {self.r.choice(LAST)}-{last}" if "-" not in last and " " not in last else f"{first} {last}"
        return f"{first[0]}. {last}"

    def address(self) -> str:
        r = self.r
        n = r.randint(1, 2999)
        street = f"{r.choice(STREET_WORDS)} {r.choice(SUFFIXES)}"
        unit = r.choice(UNITS).format(n=r.randint(1, 40))
        country = r.randint(0, 9)
        if country <= 2:
            city, state, zip_ = r.choice(US_CITIES)
            head = r.choice([f"{n} {street}", f"{n} {street}, {unit}", f"{n} {street} {unit}"])
            return r.choice([f"{head}, {city}, {state} {zip_}", f"{head}, {city} {state} {zip_}", head])
        if country == 3:
            city, post = r.choice(UK_CITIES)
            head = r.choice([f"{n} {street}", f"{unit}, {n} {street}", f"{r.choice(STREET_WORDS)} House, {street}"])
            return f"{head}, {city} {post.format(d=r.randint(1, 9))}"
        if country == 4:
            city, prov, post = r.choice(CA_CITIES)
            return f"{n} {street}, {city}, {prov} {post.format(d=r.randint(1, 9))}"
        if country == 5:
            city, state, post = r.choice(AU_CITIES)
            return f"{r.choice(['', f'{r.randint(1, 40)}/'])}{n} {street}, {city} {state} {post}"
        if country == 6:
            post, city = r.choice(DE_CITIES)
            return f"{r.choice(DE_STREETS)} {r.randint(1, 120)}, {post} {city}"
        if country == 7:
            if r.random() < 0.5:
                post, city = r.choice(FR_CITIES)
                return f"{r.randint(1, 120)} {r.choice(FR_STREETS)}, {post} {city}"
            post, city = r.choice(NL_CITIES)
            return f"{r.choice(NL_STREETS)} {r.randint(1, 300)}, {post} {city}"
        if country == 8:
            post, city = r.choice(ES_CITIES)
            return f"{r.choice(ES_STREETS)} {r.randint(1, 120)}, {post} {city}"
        city, pin = r.choice(IN_CITIES)
        return f"{r.randint(1, 99)}, {r.choice(STREET_WORDS)} Nagar, {r.choice(STREET_WORDS)} Road, {city} {pin}"

    def fill(self, out: _Text, template: str, people: tuple[str, str, str, str]) -> None:
        r = self.r
        at = 0
        for m in SLOT.finditer(template):
            out.add(template[at:m.start()])
            at = m.end()
            slot = m.group(1)
            if slot == "A":
                out.add(self.address(), "LOC")
            elif slot in ("P", "P2", "F", "L"):
                out.add(people[("P", "P2", "F", "L").index(slot)], "PERSON")
            else:
                out.add({"Title": lambda: r.choice(TITLES), "PROD": lambda: r.choice(PRODUCTS),
                         "TEAM": lambda: r.choice(TEAMS), "OFFICE": lambda: r.choice(OFFICES),
                         "WORD": lambda: r.choice(WORDS_CAPITALISED), "DAY": lambda: r.choice(DAYS),
                         "VERB": lambda: r.choice(VERBS), "VERB2": lambda: r.choice(VERBS).lower(),
                         "GROUP": lambda: r.choice(GROUPS), "MONTH": lambda: r.choice(MONTHS),
                         "UNIT": lambda: r.choice(UNITS_OF_MEASURE),
                         "HOST": lambda: r.choice(HOSTS).format(n=r.randint(1, 999)),
                         "TKT": lambda: f"{r.choice(['INC', 'RITM', 'CHG', 'PRB'])}{r.randint(10**6, 10**7 - 1)}",
                         "N": lambda: str(r.randint(1, 12))}[slot]())
        out.add(template[at:])

    def document(self) -> _Text:
        r = self.r
        out = _Text()
        people = (self.person(), self.person(), self.first(), r.choice(LAST))
        opening = r.randint(0, 3)
        if opening == 0:
            out.add(f"2025-{r.randint(1, 12):02d}-{r.randint(10, 28)} {r.randint(10, 23)}:{r.randint(10, 59)}:{r.randint(10, 59)} - ")
            out.add(self.person(), "PERSON")
            out.add(r.choice([" (Work notes)\n", " (Additional comments)\n"]))
        elif opening == 1:
            out.add(r.choice(["From: ", "Sender: "]))
            out.add(people[0], "PERSON")
            out.add(f"\nSent: {r.choice(DAYS)}\nSubject: {r.choice(PRODUCTS)} issue\n\n{r.choice(['Hi', 'Hello', 'Dear'])} ")
            out.add(people[2], "PERSON")
            out.add(",\n\n")
        elif opening == 2:
            out.add(f"[{r.randint(8, 17)}:{r.randint(10, 59)}] ")
            out.add(people[2], "PERSON")
            out.add(": ")
        elif r.random() < 0.5:  # a runbook: numbered or bulleted steps, each opening with a capitalised verb
            out.add(f"{r.choice(['Steps', 'Plan', 'Implementation plan', 'Backout plan', 'Runbook'])}:\n")
            for step in range(r.randint(2, 6)):
                out.add(r.choice([f"{step + 1}. ", f"{step + 1}) ", "- ", "* ", ""]))
                self.fill(out, r.choice(STEP_SENTENCES), people)
                out.add("\n")
        for _ in range(r.randint(1, 4)):
            kind = r.random()
            pool = PERSON_SENTENCES if kind < 0.45 else ADDRESS_SENTENCES if kind < 0.6 else PLAIN_SENTENCES
            self.fill(out, r.choice(pool), people)
            out.add(r.choice([" ", " ", "\n"]))
        if opening == 1:
            out.add(f"\n{r.choice(SIGN_OFFS)}\n")
            out.add(people[0], "PERSON")
            out.add(f"\n{r.choice(TEAMS)}\n")
        return out


def documents(seed: int, count: int) -> Iterator[tuple[str, list[Span]]]:
    """`count` labelled texts: every other one from the templates above, the rest from the evaluation generator run
    under this (training) seed. Refuses a seed the evaluation uses."""
    if seed in EVAL_SEEDS:
        raise SystemExit(f"seed {seed} generates the evaluation corpus; train with another")
    templates = _Templates(seed)
    names = itsm_eval_corpus.FIRST, itsm_eval_corpus.LAST
    itsm_eval_corpus.FIRST, itsm_eval_corpus.LAST = FIRST, LAST  # its sentences, this file's names
    try:
        generated = itsm_eval_corpus.corpus(seed=seed, documents=count - count // 2).documents
    finally:
        itsm_eval_corpus.FIRST, itsm_eval_corpus.LAST = names
    for i in range(count):
        if i % 2:
            doc = templates.document()
            yield doc.text, doc.spans
        else:
            gen = generated[i // 2]
            yield gen.text, [(s, e, "PERSON" if t == "PERSON" else "LOC") for s, e, t in gen.gold
                             if t in ("PERSON", "STREET_ADDRESS")]


def doc_bin(seed: int, count: int, path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin
    from spacy.util import filter_spans

    nlp = spacy.blank("en")
    out = DocBin()
    for text, spans in documents(seed, count):
        doc = nlp.make_doc(text)
        # a span cut inside a token ("Raman^Priya" in HL7) widens to whole tokens; overlaps keep the longest
        doc.ents = filter_spans([s for s in (doc.char_span(a, b, label=t, alignment_mode="expand")
                                             for a, b, t in spans) if s is not None])
        out.add(doc)
    out.to_disk(path)


def train(out: Path, docs: int, epochs: int, seed: int) -> tuple[Path, str]:
    """Generate the training and development text, train, and return the model directory and its SHA-256."""
    from spacy.cli.train import train as spacy_train
    from thinc.api import Config

    from udc.redact.ner import model_digest

    if out.exists():
        shutil.rmtree(out)
    data = out / "corpus"
    data.mkdir(parents=True)
    doc_bin(seed, docs, data / "train.spacy")
    doc_bin(seed + 1, max(20, docs // 10), data / "dev.spacy")  # development text: another training seed
    spacy_train(CONFIG, out / "training", use_gpu=-1, overrides={
        "paths.train": str(data / "train.spacy"), "paths.dev": str(data / "dev.spacy"),
        "system.seed": seed, "training.max_epochs": epochs})
    model = out / "model"
    shutil.move(out / "training" / "model-last", model)  # the last epoch's model: no choice made on scores
    shutil.rmtree(out / "training")
    # the model's config names where its training text was; left out, the files depend on nothing but the inputs
    config = Config().from_disk(model / "config.cfg", interpolate=False)
    config["paths"]["train"] = config["paths"]["dev"] = None
    config.to_disk(model / "config.cfg")
    return model, model_digest(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="a new directory (replaced if it exists)")
    parser.add_argument("--docs", type=int, default=6000, help="training documents to generate")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=SEED, help="generator and training seed (dev text: seed + 1)")
    args = parser.parse_args()
    model, digest = train(args.out, args.docs, args.epochs, args.seed)
    size = sum(f.stat().st_size for f in model.rglob("*") if f.is_file())
    print(f"model: {model} ({size / 1e6:.1f} MB)\nner_model_sha256: {digest}")


if __name__ == "__main__":
    main()
