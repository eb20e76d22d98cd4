"""A labelled evaluation corpus of ServiceNow-style text, for bench/redaction_eval.py: written before the rules it
measures and kept apart from the unit tests' fixtures (tests/redact/) so the rules are not tuned to it.

Each document is built from pieces; every planted sensitive value is recorded as a gold span of its type, and every
harmless look-alike (role mailboxes, service accounts, ticket numbers, versions, hosts, infrastructure IPs, expiry
dates of passwords...) as a "keep" span of its family. People come from many cultures, some with names that are
also words; about half of them are users of the instance (the directory a sync would read), the rest are not.

    corpus(seed) -> Corpus(directory=[...], documents=[Doc(text, gold, keep), ...])
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from stdnum.br import cpf
from stdnum.es import dni
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.pl import pesel
from stdnum.se import personnummer

FIRST = [
    "Priya",
    "Wei",
    "Oluwaseun",
    "María José",
    "Sione",
    "Aigerim",
    "Thandiwe",
    "Nguyen",
    "Giorgos",
    "Siobhán",
    "Mehmet",
    "Ingrid",
    "Tomasz",
    "Aroha",
    "Kwame",
    "Yuki",
    "Fatima",
    "Rahul",
    "Chloé",
    "Dmitri",
    "Amara",
    "Bjørn",
    "Lucía",
    "Hamid",
    "Keanu",
    "Zanele",
    "Mateus",
    "Eun-ji",
    "Liam",
    "Ananya",
    # names that are also words
    "Will",
    "Grace",
    "April",
    "Mark",
    "Rose",
    "Hope",
    "Bill",
    "Faith",
    "Sky",
    "Bob",
    "June",
    "Frank",
    "Summer",
]
LAST = [
    "Raman",
    "Zhang",
    "Adeyemi",
    "García López",
    "Tuilagi",
    "Nurlanovna",
    "Dlamini",
    "Van Thanh",
    "Papadopoulos",
    "Ní Bhriain",
    "Yılmaz",
    "Halvorsen",
    "Wiśniewski",
    "Ngata",
    "Mensah",
    "Takahashi",
    "Al-Sayed",
    "Chaudhary",
    "Lefèvre",
    "Volkov",
    "Okafor",
    "Østergaard",
    "Fernández",
    "Karimi",
    "Kahananui",
    "Mokoena",
    "Silva",
    "Park",
    "O'Brien",
    "Iyer",
    "Bishop",
    "Baker",
    "Hunter",
    "Long",
    "Stone",
    "Little",
    "Church",
    "Fox",
    "Young",
    "Price",
    "Cook",
    "Hill",
]
STREETS = [
    "Maple Avenue",
    "Elm Street",
    "Harbour Road",
    "Kingsway",
    "Oak Lane",
    "Sunset Boulevard",
    "Mill Road",
    "Church Street",
    "Pine Court",
    "Lakeview Drive",
    "High Street",
    "Station Road",
]
CITIES = [
    ("Springfield", "IL", "62704"),
    ("Portland", "OR", "97205"),
    ("Austin", "TX", "78701"),
    ("Leeds", "", "LS1 4DY"),
    ("Boston", "MA", "02118"),
    ("Denver", "CO", "80203"),
]
DIAGNOSES = [
    ("E11.9", "type 2 diabetes"),
    ("I10", "hypertension"),
    ("J45.909", "asthma"),
    ("F32.9", "major depressive disorder"),
    ("C50.911", "breast cancer"),
    ("G40.909", "epilepsy"),
    ("M54.5", "low back pain"),
    ("B20", "HIV disease"),
    ("F41.1", "generalized anxiety disorder"),
    ("N18.3", "chronic kidney disease"),
]
HOSTS = [
    "srv-app-prd-01",
    "db-ora-07.corp.acme.example",
    "k8s-node-12",
    "mail-gw-02.acme.example",
    "lb-ext-03",
    "VDI-POOL-A",
    "PRN-FLOOR2-HP",
]
ROLE_MAILS = [
    "servicedesk@acme.example",
    "noreply@acme.example",
    "it-support@acme.example",
    "alerts@monitoring.acme.example",
    "helpdesk@acme.example",
    "no-reply@okta.example",
]
SERVICE_ACCOUNTS = ["svc_backup", "sa-deploy", "svc-sql-agent", "jenkins-ci", "sa_reporting", "svc.sap.batch"]


@dataclass
class Doc:
    text: str = ""
    gold: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, type)
    keep: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, look-alike family)

    def add(self, piece: str, kind: str | None = None, keep: str | None = None) -> None:
        start = len(self.text)
        self.text += piece
        if kind:
            self.gold.append((start, len(self.text), kind))
        if keep:
            self.keep.append((start, len(self.text), keep))

    def parts(self, *items: str | tuple[str, str] | tuple[str, None, str]) -> None:
        """Strings are plain text; (value, type) is a gold value; (value, None, family) a look-alike."""
        for item in items:
            if isinstance(item, str):
                self.add(item)
            elif item[1] is None:
                self.add(item[0], keep=item[2])  # type: ignore[misc]
            else:
                self.add(item[0], kind=item[1])


@dataclass
class Person:
    first: str
    last: str
    user_name: str
    email: str
    phone: str
    user: bool  # in the instance's directory


@dataclass
class Corpus:
    directory: list[dict[str, str]]
    documents: list[Doc]


class _Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def digits(self, n: int) -> str:
        return "".join(self.r.choice(string.digits) for _ in range(n))

    def luhn_complete(self, prefix: str, length: int) -> str:
        body = prefix + self.digits(length - len(prefix) - 1)
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch)
            if i % 2 == 0:
                d *= 2
                d -= 9 if d > 9 else 0
            total += d
        return body + str((10 - total % 10) % 10)

    def person(self, user: bool) -> Person:
        first, last = self.r.choice(FIRST), self.r.choice(LAST)
        ascii_name = unicodedata.normalize("NFKD", f"{first.split()[0]}.{last.split()[0]}").encode("ascii", "ignore")
        simple = "".join(ch for ch in ascii_name.decode().lower() if ch.isalnum() or ch == ".")
        user_name = self.r.choice(
            [simple, simple.split(".")[0][0] + simple.split(".")[1], simple + str(self.r.randint(2, 99))]
        )
        return Person(
            first,
            last,
            user_name,
            f"{simple}@acme.example",
            self.r.choice(
                [
                    f"+1 415 555 {self.digits(4)}",
                    f"(312) 555-{self.digits(4)}",
                    f"020 7946 {self.digits(4)}",
                    f"+44 7700 900{self.digits(3)}",
                    f"+49 30 {self.digits(8)}",
                    f"617.555.{self.digits(4)}",
                ]
            ),
            user,
        )

    def name_form(self, p: Person) -> str:
        return self.r.choice([f"{p.first} {p.last}", f"{p.first} {p.last}", f"{p.last}, {p.first}"])

    def ssn(self) -> str:
        a, g, s = f"{self.r.randint(1, 665):03d}", f"{self.r.randint(1, 99):02d}", f"{self.r.randint(1, 9999):04d}"
        return self.r.choice([f"{a}-{g}-{s}", f"{a} {g} {s}", f"{a}{g}{s}", f"{a}.{g}.{s}"])

    def card(self) -> str:
        number = self.luhn_complete(self.r.choice(["4", "51", "55", "2221"]), 16)
        return self.r.choice(
            [
                number,
                " ".join(number[i : i + 4] for i in range(0, 16, 4)),
                "-".join(number[i : i + 4] for i in range(0, 16, 4)),
            ]
        )

    def iban(self) -> str:
        bban = "".join(self.r.choice(string.digits) for _ in range(18))
        check = 98 - int("".join(str(int(c, 36)) for c in bban + "DE00")) % 97
        value = f"DE{check:02d}{bban}"
        return self.r.choice([value, " ".join(value[i : i + 4] for i in range(0, len(value), 4))])

    def routing(self) -> str:
        while True:
            d = [int(c) for c in f"{self.r.choice(['01', '02', '11', '12', '21', '26', '31'])}{self.digits(6)}"]
            for last in range(10):
                full = d + [last]
                if (
                    3 * (full[0] + full[3] + full[6]) + 7 * (full[1] + full[4] + full[7]) + full[2] + full[5] + full[8]
                ) % 10 == 0:
                    return "".join(map(str, full))

    def npi(self) -> str:
        for _ in range(100):
            candidate = "1" + self.digits(9)
            total = 0
            for i, ch in enumerate(reversed("80840" + candidate)):
                d = int(ch)
                if i % 2:
                    d *= 2
                    d -= 9 if d > 9 else 0
                total += d
            if total % 10 == 0:
                return candidate
        return "1234567893"

    def dob(self) -> str:
        y, m, d = self.r.randint(1940, 2004), self.r.randint(1, 12), self.r.randint(1, 28)
        months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return self.r.choice(
            [
                f"{m:02d}/{d:02d}/{y}",
                f"{y}-{m:02d}-{d:02d}",
                f"{d} {months[m - 1]} {y}",
                f"{months[m - 1]} {d}, {y}",
                f"{d:02d}.{m:02d}.{y}",
            ]
        )

    def address(self) -> str:
        city, state, zip_ = self.r.choice(CITIES)
        number = self.r.randint(1, 9999)
        street = self.r.choice(STREETS)
        tail = f"{city}, {state} {zip_}" if state else f"{city} {zip_}"
        return self.r.choice(
            [
                f"{number} {street}, {tail}",
                f"{number} {street}, Apt {self.r.randint(1, 40)}, {tail}",
                f"{number} {street}",
            ]
        )

    def home_ip(self) -> str:
        r = self.r
        return f"{r.choice([73, 98, 24, 86, 81])}.{r.randint(1, 254)}.{r.randint(1, 254)}.{r.randint(1, 254)}"

    def infra_ip(self) -> str:
        return self.r.choice(
            [
                f"10.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}",
                f"192.168.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}",
                f"172.16.{self.r.randint(0, 31)}.{self.r.randint(1, 254)}",
            ]
        )

    def sys_id(self) -> str:
        return "".join(self.r.choice("0123456789abcdef") for _ in range(32))

    def version(self) -> str:
        return self.r.choice(
            [
                f"{self.r.randint(1, 20)}.{self.r.randint(0, 9)}.{self.r.randint(0, 30)}",
                f"v{self.r.randint(1, 9)}.{self.r.randint(0, 9)}.{self.r.randint(0, 99)}",
                f"{self.r.randint(10, 19)}.{self.r.randint(0, 4)}.{self.r.randint(1000, 9999)}.{self.r.randint(1, 9)}",
            ]
        )


def _completed(check: Callable[[str], bool], body: str, tails: list[str]) -> str:
    """`body` with the first of `tails` (check digits or letters) that makes a valid number."""
    return next(body + tail for tail in tails if check(body + tail))


def _national_id(g: _Gen) -> tuple[str, str]:
    """(its word, a valid value in a shape people type) of another country's national id."""
    r, digits = g.r, g.digits
    ten = list(string.digits)
    yymmdd = f"{r.randint(50, 99)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
    word = r.choice(["CPF", "DNI", "NI number", "Aadhaar", "codice fiscale", "PESEL", "personnummer"])
    if word == "CPF":
        n = _completed(cpf.is_valid, digits(9), [f"{i:02d}" for i in range(100)])
        return word, f"{n[:3]}.{n[3:6]}.{n[6:9]}-{n[9:]}"
    if word == "DNI":
        return word, _completed(dni.is_valid, digits(8), list(string.ascii_uppercase))
    if word == "NI number":
        letters = "ABCEHJKLMPRSTWY"
        return word, f"{r.choice(letters)}{r.choice(letters)} {digits(2)} {digits(2)} {digits(2)} {r.choice('ABCD')}"
    if word == "Aadhaar":
        n = _completed(aadhaar.is_valid, str(r.randint(2, 9)) + digits(10), ten)
        return word, f"{n[:4]} {n[4:8]} {n[8:]}"
    if word == "codice fiscale":
        body = "".join(r.choice(string.ascii_uppercase) for _ in range(6)) + yymmdd[:2] + r.choice("ABCDEHLMPRST")
        body += f"{r.randint(1, 28):02d}{r.choice(string.ascii_uppercase)}{digits(3)}"
        return word, _completed(codicefiscale.is_valid, body, list(string.ascii_uppercase))
    if word == "PESEL":
        return word, _completed(pesel.is_valid, yymmdd + digits(4), ten)
    n = _completed(personnummer.is_valid, yymmdd + digits(3), ten)
    return word, f"{n[:6]}-{n[6:]}"


def _relocation(g: _Gen, d: Doc) -> None:
    """An HR case about a transfer abroad: a national id after its word, with an order number, a part number in an
    NRIC's shape and a millisecond timestamp beside it."""
    r = g.r
    word, value = _national_id(g)
    d.parts(
        "HR case ",
        (f"HRC{g.digits(7)}", None, "ticket"),
        f": relocation abroad approved; {word} ",
        (value, "NATIONAL_ID"),
        " added to the payroll record. Laptop order ",
        (f"PO {r.randint(4500000000, 4500999999)}", None, "order number"),
        ", spare part no. ",
        (f"S{g.digits(7)}{r.choice('ABCDEFGHIJZ')}", None, "part number"),
        ", sync at ",
        (str(r.randint(1700000000000, 1760000000000)), None, "timestamp"),
        ".\n",
    )


def _journal(g: _Gen, d: Doc, author: Person, caller: Person) -> None:
    r = g.r
    d.parts(
        f"2025-0{r.randint(1, 9)}-1{r.randint(0, 9)} 1{r.randint(0, 9)}:2{r.randint(0, 9)}:11 - ",
        (f"{author.first} {author.last}", "PERSON"),
        " (Work notes)\n",
    )
    choice = r.randint(0, 5)
    if choice == 0:
        d.parts(
            "Called ",
            (g.name_form(caller), "PERSON"),
            " back on ",
            (caller.phone, "PHONE"),
            "; user ",
            (caller.user_name, "USERNAME"),
            " locked out again. Reset done on ",
            (r.choice(HOSTS), None, "host"),
            ", password expires ",
            (f"0{r.randint(1, 9)}/2{r.randint(6, 9)}", None, "expiry"),
            ". Ticket ",
            (f"INC{g.digits(7)}", None, "ticket"),
            ".",
        )
    elif choice == 1:
        d.parts(
            "Caller verified identity: DOB ",
            (g.dob(), "DATE_OF_BIRTH"),
            ", SSN ",
            (g.ssn(), "US_SSN"),
            ". Home address ",
            (g.address(), "STREET_ADDRESS"),
            ". Job ",
            (r.choice(SERVICE_ACCOUNTS), None, "service account"),
            " not affected.",
        )
    elif choice == 2:
        card = g.card()
        d.parts(
            "Refund for ",
            (g.name_form(caller), "PERSON"),
            ": card ",
            (card, "CREDIT_CARD"),
            " exp ",
            (f"{r.randint(1, 12):02d}/{r.randint(26, 31)}", "CARD_EXPIRY"),
            " CVV ",
            (g.digits(3), "CVV"),
            ". Bank acct ",
            (g.digits(r.randint(8, 12)), "BANK_ACCOUNT"),
            ", routing ",
            (g.routing(), "ABA_ROUTING"),
            ", IBAN ",
            (g.iban(), "IBAN"),
            ". Reply from ",
            (r.choice(ROLE_MAILS), None, "role mailbox"),
            ".",
        )
    elif choice == 3:
        code, words = r.choice(DIAGNOSES)
        d.parts(
            "Patient MRN ",
            (f"MRN{g.digits(7)}", "MRN"),
            " — diagnosis ",
            (code, "DIAGNOSIS"),
            " (",
            (words, "DIAGNOSIS"),
            "), member ID ",
            (f"{r.choice(['XGH', 'W', 'ZQB'])}{g.digits(9)}", "HEALTH_PLAN_ID"),
            ", ordering NPI ",
            (g.npi(), "US_NPI"),
            ". Portal build ",
            (g.version(), None, "version"),
            ".",
        )
    elif choice == 4:
        d.parts(
            "Passport ",
            (f"{r.choice(['', 'C', 'X'])}{g.digits(8)}", "US_PASSPORT"),
            " and driver's license ",
            (f"{r.choice('ABDFGKLMS')}{g.digits(7)}", "US_DRIVER_LICENSE"),
            " scanned for ",
            (g.name_form(caller), "PERSON"),
            ". Mail ",
            (caller.email, "EMAIL"),
            ". Change ",
            (f"CHG{g.digits(7)}", None, "ticket"),
            " on ",
            (g.infra_ip(), None, "infra ip"),
            ".",
        )
    else:
        d.parts(
            "VPN drops for ",
            (caller.user_name, "USERNAME"),
            "; my IP at home is ",
            (g.home_ip(), "IP_ADDRESS"),
            ". Gateway ",
            (g.infra_ip(), None, "infra ip"),
            ", client ",
            (g.version(), None, "version"),
            ", sys_id ",
            (g.sys_id(), None, "sys_id"),
            ", see ",
            (f"OPS-{r.randint(10, 9999)}", None, "jira key"),
            ".",
        )
    d.add("\n")


def _email(g: _Gen, d: Doc, sender: Person, to: Person) -> None:
    r = g.r
    d.parts(
        "From: ",
        (f"{sender.first} {sender.last}", "PERSON"),
        " <",
        (sender.email, "EMAIL"),
        ">\nTo: ",
        (r.choice(ROLE_MAILS), None, "role mailbox"),
        "\nSubject: RE: ",
        (f"INC{g.digits(7)}", None, "ticket"),
        "\n\n",
        r.choice(["Hi ", "Hello ", "Dear "]),
        (to.first, "PERSON"),
        ",\n\n",
        "My laptop still fails to connect. You can reach me on ",
        (sender.phone, "PHONE"),
        " or at home: ",
        (g.address(), "STREET_ADDRESS"),
        ".\n\n",
        r.choice(["Thanks,\n", "Regards,\n", "Best,\n"]),
        (f"{sender.first} {sender.last}", "PERSON"),
        "\n",
        r.choice(["Senior Analyst", "Finance", "HR Ops"]),
        " | Mobile ",
        (sender.phone, "PHONE"),
        "\n",
    )


def _chat(g: _Gen, d: Doc, agent: Person, user: Person) -> None:
    r = g.r
    d.parts(
        "[10:0",
        str(r.randint(0, 9)),
        "] ",
        (agent.first, "PERSON"),
        ": hi, can you confirm your username?\n[10:0",
        str(r.randint(0, 9)),
        "] ",
        (user.first, "PERSON"),
        ": it's ",
        (user.user_name, "USERNAME"),
        ", date of birth ",
        (g.dob(), "DATE_OF_BIRTH"),
        "\n[10:1",
        str(r.randint(0, 9)),
        "] ",
        (agent.first, "PERSON"),
        ": thanks, I've assigned it to ",
        (g.name_form(agent), "PERSON"),
        " — tracking in ",
        (f"RITM{g.digits(7)}", None, "ticket"),
        "\n",
    )


def _log(g: _Gen, d: Doc, user: Person) -> None:
    r = g.r
    d.parts(
        f"2025-03-0{r.randint(1, 9)}T0{r.randint(0, 9)}:1{r.randint(0, 9)}:22.{g.digits(3)}Z ERROR auth ",
        "failed login for user=",
        (user.user_name, "USERNAME"),
        " src=",
        (g.infra_ip(), None, "infra ip"),
        " host=",
        (r.choice(HOSTS), None, "host"),
        " agent=",
        (r.choice(SERVICE_ACCOUNTS), None, "service account"),
        " ver=",
        (g.version(), None, "version"),
        " req=",
        (g.sys_id(), None, "hash"),
        "\n",
    )


def _hl7(g: _Gen, d: Doc, patient: Person) -> None:
    r = g.r
    dob = f"{r.randint(1940, 2004)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
    code, words = r.choice(DIAGNOSES)
    d.parts(
        "MSH|^~\\&|EPIC|HOSP|||2025031",
        str(r.randint(0, 9)),
        "||ADT^A01|",
        (g.digits(8), None, "message id"),
        "|P|2.5\nPID|1||",
        (g.digits(8), "MRN"),
        "^^^HOSP^MR||",
        (patient.last, "PERSON"),
        "^",
        (patient.first, "PERSON"),
        "||",
        (dob, "DATE_OF_BIRTH"),
        "|F|||",
        (g.address(), "STREET_ADDRESS"),
        "||",
        (patient.phone, "PHONE"),
        "\nDG1|1||",
        (code, "DIAGNOSIS"),
        "^",
        (words, "DIAGNOSIS"),
        "^I10\n",
    )


def _csv(g: _Gen, d: Doc, people: list[Person]) -> None:
    d.add("name,email,phone,ssn,ticket\n")
    for p in people:
        d.parts(
            (f"{p.first} {p.last}", "PERSON"),
            ",",
            (p.email, "EMAIL"),
            ",",
            (p.phone, "PHONE"),
            ",",
            (g.ssn(), "US_SSN"),
            ",",
            (f"INC{g.digits(7)}", None, "ticket"),
            "\n",
        )


def corpus(seed: int = 20251203, documents: int = 600) -> Corpus:
    g = _Gen(seed)
    people = [g.person(user=i % 2 == 0) for i in range(240)]
    directory = [
        {
            "name": f"{p.first} {p.last}",
            "first": p.first,
            "last": p.last,
            "user_name": p.user_name,
            "email": p.email,
            "phone": p.phone,
        }
        for p in people
        if p.user
    ]
    directory += [
        {"name": a, "user_name": a, "email": f"{a}@acme.example", "machine": "true"} for a in SERVICE_ACCOUNTS
    ]
    docs = []
    # national ids from a generator of their own, in every tenth document: the other values stay as they were
    abroad = _Gen(seed + 1)
    for n in range(documents):
        d = Doc()
        kind = g.r.randint(0, 9)
        a, b = g.r.sample(people, 2)
        if kind <= 4:
            for _ in range(g.r.randint(1, 3)):
                _journal(g, d, a, b)
        elif kind <= 6:
            _email(g, d, a, b)
        elif kind == 7:
            _chat(g, d, a, b)
        elif kind == 8:
            for _ in range(g.r.randint(2, 5)):
                _log(g, d, g.r.choice(people))
            _hl7(g, d, b)
        else:
            _csv(g, d, g.r.sample(people, 3))
        if n % 10 == 9:
            _relocation(abroad, d)
        docs.append(d)
    return Corpus(directory, docs)
