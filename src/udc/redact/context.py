"""Context words: the whole words (or field names) that make a context-only identifier count.

A nine-digit number is an SSN only after "SSN", a date only a date of birth after "born" or "DOB", a short
alphanumeric only a passport number after "passport". Words are looked for in a short window before the value,
found in the one pass over the lower-cased text that finds all of stream 1's fixed word lists (wordpass.py).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from udc.config import entities as E
from udc.redact import national
from udc.redact.lowercase import lower_case
from udc.redact.wordpass import FIXED

WINDOW = 48  # characters between the end of a context word and the start of the value
# An SSN's word may head a list ("SSNs typed with spaces, e.g. 536 22 8190, … and 287.64.1095"): spaced or dotted
# SSNs (a shape few other numbers have) count this far after it, every one of them
SSN_LIST_REACH = 160

_NUMBER = ["", " no", " no.", " num", " number", " #", "#"]
_PAYERS = ("aetna", "cigna", "bcbs", "blue cross", "blue shield", "anthem", "humana", "uhc", "unitedhealthcare",
           "united healthcare", "kaiser", "tricare", "molina", "centene", "ambetter", "highmark", "wellcare",
           "oscar", "delta dental", "vsp", "bupa", "axa", "vhi", "irish life", "medibank", "nib", "allianz")
_WEAK_BANK = "bank account?"  # (no entity is named so)
# words that make a bare "account" a bank's: "pay into BSB 063-182 account 10493827", "routing …, account ending …"
_BANKING = "banking"  # (no entity is named so either)
_BANKING_REACH = 100  # characters before the word
_LICENCE = ["license", "licence"]
_WORDS: dict[str, list[str]] = {
    E.US_SSN: ["ssn", "ssns", "ss#", "ss #", "social security", "social sec", "sozialversicherungsnummer"],
    E.CREDIT_CARD: ["card", "cards", "cc", "credit", "debit", "visa", "mastercard", "master card", "amex",
                    "american express", "maestro", "discover", "jcb", "diners", "carte", "karte", "tarjeta"],
    E.PHONE: ["phone", "telephone", "tel", "tel.", "mobile", "cell", "cellphone", "fax", "call", "ring", "text",
              "sms", "whatsapp", "contact", "reach", "dial", "landline", "extension", "ext", "ext.", "telefon",
              "téléphone", "tél", "móvil", "handy", "ph", "ph.", "mob", "mob.", "callback", "call-back", "call back",
              "callback number", "cell no", "personal number", "mobile number", "home number", "work number",
              "alternate", "alternate number", "alt number", "other number",
              # other languages' words for a mobile or a call: "son portable 06 …", "Celular: (11) …", "bellen op"
              "portable", "celular", "telefone", "telemóvel", "telefoon", "mobiel", "bellen op", "gsm", "natel",
              "cellulare", "rufnummer", "handynummer", "携帯", "電話",
              # Polish, Scandinavian, Finnish, Korean, Chinese: "kom. 601 …", "Mobil 070-…", "휴대폰: 010-…"
              "kom", "kom.", "komórka", "komórkowy", "mobil", "mobilnummer", "mobiltelefon", "tlf", "puhelin",
              "matkapuhelin", "휴대폰", "핸드폰", "전화", "연락처", "手机", "电话",
              # a desk's line, a call back, a person's own number: "desk (02) 5550 4417", "cb no 555 …", "cep:"
              "desk", "desk phone", "direct line", "direct dial", "cb", "cb no", "c/b", "called back", "rang back",
              "my number", "his number", "her number", "their number", "new number",
              "mera number", "naya number", "cep", "numara"],
    E.UK_NHS: [f"nhs{n}" for n in _NUMBER],
    E.ABA_ROUTING: ["routing", "aba", "rtn", *[f"transit{n}" for n in _NUMBER if n], "wire", "wires", "fedwire",
                    "ach"],  # (the checksum decides: "wires go via 111061116")
    E.US_NPI: ["npi", "national provider"],
    E.CVV: ["cvv", "cvv2", "cvc", "cvc2", "csc", "security code", "card verification", "verification code", " cid",
            "digits on the back", "number on the back", "code on the back"],  # (Amex's " cid": "incident" is no hit)
    E.DATE_OF_BIRTH: ["dob", "d.o.b", "d.o.b.", "date of birth", "birth date", "birthdate", "birthday", "born",
                      "geboren", "né", "née", "fecha de nacimiento",
                      "geburtsdatum", "geb.", "date de naissance", "data de nascimento", "data di nascita",
                      "geboortedatum", "födelsedatum", "生年月日",
                      # more languages: "data urodzenia", "nascido em", "Doğum tarihi", "nato il", "fødselsdato"
                      "data urodzenia", "urodzony", "urodzona", "nascido em", "nascida em", "doğum tarihi",
                      "dogum tarihi", "nato il", "nata il", "data nascita", "fødselsdato", "fodselsdato",
                      "syntymäaika", "fecha nac", "f. nac", "出生日期"],
    E.MRN: ["mrn", *[f"medical record{n}" for n in _NUMBER], "patient id", "patient no", "patient number",
            "chart number", "chart no", "hospital number", "hospital no", "pid-3", "pid 3", "pid.3",
            # a generic reference in a medical setting: "Occupational health ref OH-2290177", "clinic no. 4471"
            *[f"{where} {ref}" for where in ("health", "medical", "clinical", "clinic", "hospital", "patient", "gp")
              for ref in ("ref", "ref.", "ref no", "reference", "id", "number", "no", "no.", "#")]],
    E.US_PASSPORT: [f"passport{n}" for n in _NUMBER],
    E.BANK_ACCOUNT: ["acct", "acct.", "a/c", "acc no", "acc. no", *[f"{a}account{n}" for a in ("", "bank ")
                                                                    for n in _NUMBER if n],
                     "bank account", "bank acct", "checking", "savings", "checking account", "savings account",
                     "account at", "account held at",  # "old account at Chase was 000123456789"
                     "kontonummer", "konto", "numéro de compte", "cuenta"],
    # a bare "account" (or "DDA", "account ending") is a bank account's word only among banking words: _WEAK_BANK
    _WEAK_BANK: ["account", "accounts", "dda", "account ending", "acct ending", "account ending in"],
    _BANKING: ["routing", "aba", "rtn", "iban", "ifsc", "bsb", "sort code", "transit", "institution", "bank", "banking",
               "payroll", "salary", "paid", "pay into", "direct deposit", "deposit", "wire", "ach", "remit",
               "checking", "savings"],
    E.CARD_EXPIRY: ["exp", "exp.", "exp date", "expiry", "expiry date", "expiration date", "card expires",
                    "card expiry", "card exp", "valid thru", "valid through", "good thru", "valid to", "gültig bis"],
    E.HEALTH_PLAN_ID: [*[f"{w}{n}" for w in ("member", "member id", "subscriber", "subscriber id", "policy",
                                             "insurance", "insurance id", "health plan", "health plan id", "plan id",
                                             "beneficiary", "beneficiary id", "medicare", "medicaid", "insured id")
                         for n in _NUMBER], "mbi",
                       # a payer's name before "ID": "secondary Aetna ID W2138…", "BCBS member ID …"
                       *[f"{payer} {w}" for payer in _PAYERS for w in ("id", "id#", "id #", "member id", "#")]],
    E.US_DRIVER_LICENSE: [*[f"{d} {lic}" for d in ("driver's", "drivers", "driver", "driver’s", "driving")
                            for lic in _LICENCE],
                          "dl", "dl#", "dl #", "dl no", "dl number", *[f"{lic} number" for lic in _LICENCE],
                          *[f"{lic} no" for lic in _LICENCE], *[f"{lic} #" for lic in _LICENCE]],
}

# Other countries' national ids, by the schemes (national.py) a value after the word is checked against ("es pt":
# either). Their shapes found anywhere (an NRIC/FIN, a codice fiscale) need no word: "FIN" (finance, Finnish), "CF"
# (CloudFormation, Cloudflare) and "IC" (a chip) are none; a bare "CPR" (resuscitation) is none for a number that
# only a date checks.
_NATIONAL: dict[str, list[str]] = {
    "br": ["cpf", "cadastro de pessoas físicas", "cadastro de pessoa física"],
    "nl": ["bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "sofi nummer"],
    "es": ["dni", "documento nacional de identidad", "número de identidad de extranjero"],
    "es pt": ["nif"],
    "pt": ["contribuinte", "cartão de cidadão", "cartao de cidadao", "citizen card"],
    "sg": ["nric"],
    "za": ["rsa id", "sa id", "south african id"],
    "ca": ["social insurance", "numéro d'assurance sociale", "numéro d’assurance sociale",
           "numero d'assurance sociale"],
    "gb": ["national insurance", "ni number", "ni no", "ni no.", "nino"],
    "in": ["aadhaar", "aadhar", "uidai"],
    "it": ["codice fiscale"],
    "fr": ["nir", "sécurité sociale", "securite sociale", "sécu", "n° ss"],
    "se dk no": ["personnummer", "personnr"],
    "se": ["samordningsnummer"],
    "no": ["fødselsnummer", "fodselsnummer", "fnr"],
    "dk": ["cpr-nr", "cpr-nr.", "cpr nr", "cpr nr.", "cpr-nummer", "cpr number", "cpr no", "cpr no.", "cpr:"],
    "fi": ["henkilötunnus", "henkilotunnus", "hetu", "personal identity code"],
    "pl": ["pesel"],
    "be": ["rijksregisternummer", "rijksregister", "numéro national", "numero national", "insz", "niss"],
    "mx": ["curp"],
    "cn": ["身份证", "身份证号", "身份证号码", "居民身份证", "居民身份证号码", "resident identity card", "resident id"],
    "kr": ["rrn", "resident registration", "주민등록번호", "주민번호"],
    "ie": ["pps", "ppsn", "pps no", "pps number", "personal public service"],
    "nz": ["ird", "ird no", "ird number", "inland revenue number"],
    "ar": ["cuil", "cuit"],
    "at": ["svnr", "sv-nr", "sv-nummer", "sozialversicherungsnr"],
    "au": ["tfn", "tax file number"],
    "ch": ["ahv", "avs", "ahv-nr", "ahv nr", "ahv-nummer", "ahv number", "numéro avs"],
    "cl": ["rut", "rol único tributario"],
    "cz": ["rodné číslo", "rodne cislo", "rč", "r.č."],
    "de": ["steuer-id", "steuerid", "steuer id", "steuer-idnr", "steueridentifikationsnummer",
           "steuer-identifikationsnummer", "identifikationsnummer"],
    "gr": ["amka", "αμκα"],
    "id": ["nik", "ktp", "nomor induk kependudukan"],
    "il": ["ת.ז.", "ת.ז", "תעודת זהות", "teudat zehut", "israeli id"],
    "pk": ["cnic", "nadra"],
    "ro": ["cnp", "cod numeric personal"],
    "th": ["thai id", "เลขประจำตัวประชาชน", "บัตรประชาชน"],
    "jp": ["マイナンバー", "個人番号", "individual number", "mynumber"],
    "tr": ["kimlik no", "kimlik numarası", "tc kimlik", "t.c. kimlik", "tckn", "tc no", "t.c. no"],
    # words of every country
    " ".join(national.ALL): ["national id", "national identity", "national identification", "identity number",
                             "identity no", "identity card", "personal identity number", "citizen id", "national no",
                             "national number"],
    # ...and words as common in IT text as in a form: only the numbers a check says more about (national.LONG)
    " ".join(national.LONG): ["id number", "id no", "id no.", "id nr", "id card"],
}
# words that are often something else (Spanish "sin" is "without", a NAS a storage box, a UID a unix user's): only in
# capitals
_NATIONAL_CAPITALS: dict[str, list[str]] = {"ca": ["SIN", "NAS"], "in": ["UID"]}
_NATIONAL_LABEL = E.NATIONAL_ID + ":"  # a national id word's type: the label, its schemes, its spelling if in capitals


def _entries() -> dict[str, tuple[tuple[int, str], ...]]:
    entries: dict[str, tuple[tuple[int, str], ...]] = {}
    labelled = [*_WORDS.items(), *((f"{_NATIONAL_LABEL}{schemes}", words) for schemes, words in _NATIONAL.items()),
                *((f"{_NATIONAL_LABEL}{schemes}:{word}", [word.lower()])
                  for schemes, words in _NATIONAL_CAPITALS.items() for word in words)]
    for etype, words in labelled:
        for word in words:
            entries[word] = (*entries.get(word, ()), (len(word), etype))
    return entries


_CONTEXT_WORDS = FIXED.add(_entries())

# Field names (lower-cased, non-alphanumerics removed) that are context for the whole value.
_FIELD_HINTS: list[tuple[str, str]] = [
    ("ssn", E.US_SSN), ("socialsecurity", E.US_SSN), ("creditcard", E.CREDIT_CARD), ("cardnumber", E.CREDIT_CARD),
    ("ccnumber", E.CREDIT_CARD), ("phone", E.PHONE), ("mobile", E.PHONE), ("fax", E.PHONE), ("telephone", E.PHONE),
    ("nhs", E.UK_NHS), ("routing", E.ABA_ROUTING), ("aba", E.ABA_ROUTING), ("npi", E.US_NPI), ("cvv", E.CVV),
    ("cvc", E.CVV), ("dob", E.DATE_OF_BIRTH), ("birth", E.DATE_OF_BIRTH), ("mrn", E.MRN), ("medicalrecord", E.MRN),
    ("passport", E.US_PASSPORT), ("driverlicense", E.US_DRIVER_LICENSE), ("driverslicense", E.US_DRIVER_LICENSE),
    ("drivinglicence", E.US_DRIVER_LICENSE), ("licensenumber", E.US_DRIVER_LICENSE),
    ("accountnumber", E.BANK_ACCOUNT), ("bankaccount", E.BANK_ACCOUNT), ("memberid", E.HEALTH_PLAN_ID),
    ("subscriberid", E.HEALTH_PLAN_ID), ("policynumber", E.HEALTH_PLAN_ID), ("expiry", E.CARD_EXPIRY),
    ("cardexp", E.CARD_EXPIRY),
    # (not "sin", "nif", "dni" or "uid": "business", "unified", "midnight", "guid")
    *((hint, E.NATIONAL_ID) for hint in ("nationalid", "nationalidentity", "nationalinsurance", "nino", "cpf", "bsn",
                                         "burgerservice", "socialinsurance", "aadhaar", "codicefiscale", "personnummer",
                                         "fodselsnummer", "henkilotunnus", "pesel", "rijksregister", "nric", "curp",
                                         "residentregistration")),
]


@lru_cache(maxsize=4096)
def field_context(field: str) -> frozenset[str]:
    """Entity types a field's name alone makes likely (`u_patient_mrn` → MRN)."""
    key = re.sub(r"[^a-z0-9]", "", field.lower())
    return frozenset(etype for hint, etype in _FIELD_HINTS if hint in key)


class ContextIndex:
    """Where context words occur in one text, by entity type (end offsets, ascending)."""

    __slots__ = ("by_type", "national")

    def __init__(self, text: str) -> None:
        self.by_type: dict[str, list[int]] = {}
        self.national: dict[int, tuple[str, ...]] = {}  # where a national id's word ends → the schemes it names
        lowered, _ = lower_case(text)  # (offsets kept)
        n = len(lowered)
        for last, entries in FIXED.hits(lowered, _CONTEXT_WORDS):
            end = last + 1
            if end < n and (lowered[end].isalnum() or lowered[end] == "_"):
                continue
            for length, etype in entries:
                start = end - length
                if start == 0 or lowered[start] == " " or not (  # (a word given with its space: " cid")
                        lowered[start - 1].isalnum() or lowered[start - 1] == "_" or (
                        lowered[start - 1] == "/" and length <= 3)):  # a unit's "dL" in "mg/dL" is no "DL"
                    self.by_type.setdefault(etype, []).append(end)

        weak, banking = self.by_type.pop(_WEAK_BANK, None), self.by_type.pop(_BANKING, None)
        if weak and banking:  # (both found in the one pass: no pattern runs for the many "account"s of IT text)
            strong = [end for end in weak if (at := bisect_left(banking, end - _BANKING_REACH)) < len(banking)
                      and banking[at] <= end]
            if strong:
                self.by_type[E.BANK_ACCOUNT] = sorted(self.by_type.get(E.BANK_ACCOUNT, []) + strong)
        for label in [label for label in self.by_type if label.startswith(_NATIONAL_LABEL)]:
            self._national(text, label)

    def _national(self, text: str, label: str) -> None:
        _, schemes, *capitals = label.split(":")
        for end in self.by_type.pop(label):
            if not capitals or text[end - len(capitals[0]):end] == capitals[0]:
                self.national[end] = (*self.national.get(end, ()), *schemes.split())
        if self.national:
            self.by_type[E.NATIONAL_ID] = sorted(self.national)

    def __bool__(self) -> bool:
        return bool(self.by_type)
