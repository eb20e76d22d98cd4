"""Structured text pasted into tickets, where a value's column says what it is: HL7 v2 segments, CSV extracts, and
the fields of JSON, XML and key=value payloads.

HL7: PID-3 (the first identifier: MRN), PID-5 (name), PID-7 (birth date), PID-11 (address), PID-13/14 (phones),
PID-19 (SSN); NK1 and GT1 names, addresses and phones; IN1 insured name and policy numbers; DG1-3/4 (diagnosis).
CSV (comma, semicolon, tab or pipe): a header line whose labels name a type ("name", "email", "ssn", "dob"...)
makes every cell of that column a value of the type, down to the first line with a different number of cells.
X12 (837, 270/271, 834): a person's NM1 name and member id, DMG birth date and N3 street; HI diagnosis codes.
SQL: an INSERT's values read as their columns' (the column list names their types as a CSV header does).
Payloads: a field's key is context for its value as a record's field name is ('"ssn": "…"', "<dob>…</dob>",
"member_id=…"); the value is then read as that field's would be (its shape still checked).
"""

from __future__ import annotations

import re
from functools import lru_cache

from udc.config import entities as E
from udc.redact import national as N
from udc.redact import validators as V
from udc.redact.positions import NOT_NAMES
from udc.redact.scanner import Finding

# Line patterns begin with the line's newline and run over "\n" + text, so the engine jumps from newline to newline
# ("^" would have it test every position); a match's start() is then its line's start in the text, its end() one more.
_SEGMENT = re.compile(r"\n(PID|NK1|GT1|IN1|DG1|OBR|ORC|PV1)\|[^\r\n]{0,4000}")
_XCN = "XCN"  # a person with an identifier: the first component an id (an NPI when its checksum holds), then names
# segment → {field number: (type, which components: None = each non-empty one, 0 = the first only)}
_HL7: dict[str, dict[int, tuple[str, int | None]]] = {
    "PID": {3: (E.MRN, 0), 5: (E.PERSON, None), 6: (E.PERSON, None), 7: (E.DATE_OF_BIRTH, 0),
            11: (E.STREET_ADDRESS, None), 13: (E.PHONE, 0), 14: (E.PHONE, 0), 18: (E.MRN, 0), 19: (E.US_SSN, 0),
            20: (E.US_DRIVER_LICENSE, 0)},
    "NK1": {2: (E.PERSON, None), 4: (E.STREET_ADDRESS, None), 5: (E.PHONE, 0), 6: (E.PHONE, 0)},
    "GT1": {3: (E.PERSON, None), 5: (E.STREET_ADDRESS, None), 6: (E.PHONE, 0), 12: (E.US_SSN, 0)},
    "IN1": {16: (E.PERSON, None), 19: (E.STREET_ADDRESS, None), 36: (E.HEALTH_PLAN_ID, 0),
            49: (E.HEALTH_PLAN_ID, 0)},
    "DG1": {3: (E.DIAGNOSIS, None), 4: (E.DIAGNOSIS, 0)},
    # clinicians (XCN: id^family^given…, the id often an NPI): ordering provider, entered by, attending, referring…
    "OBR": {16: (_XCN, None), 28: (_XCN, None), 32: (_XCN, None)},
    "ORC": {10: (_XCN, None), 11: (_XCN, None), 12: (_XCN, None)},
    "PV1": {7: (_XCN, None), 8: (_XCN, None), 9: (_XCN, None), 17: (_XCN, None)},
}
_CODE_SYSTEMS = frozenset({"I9", "I9C", "I10", "ICD9", "ICD10", "ICD-10", "SCT", "SNM", "ICD10CM"})

_HEADER_HINTS: list[tuple[str, str]] = [
    ("email", E.EMAIL), ("mail", E.EMAIL), ("phone", E.PHONE), ("mobile", E.PHONE), ("tel", E.PHONE),
    ("ssn", E.US_SSN), ("socialsecurity", E.US_SSN), ("dob", E.DATE_OF_BIRTH), ("birth", E.DATE_OF_BIRTH),
    ("nationalid", E.NATIONAL_ID), ("cpf", E.NATIONAL_ID), ("bsn", E.NATIONAL_ID), ("nino", E.NATIONAL_ID),
    ("aadhaar", E.NATIONAL_ID), ("pesel", E.NATIONAL_ID), ("personnummer", E.NATIONAL_ID),
    ("mrn", E.MRN), ("medicalrecord", E.MRN), ("address", E.STREET_ADDRESS), ("street", E.STREET_ADDRESS),
    ("postcode", E.STREET_ADDRESS), ("nhsno", E.UK_NHS), ("nhsnumber", E.UK_NHS),
    ("username", E.USERNAME), ("userid", E.USERNAME), ("login", E.USERNAME), ("logon", E.USERNAME),
    ("samaccount", E.USERNAME), ("upn", E.EMAIL),
    ("iban", E.IBAN), ("accountnumber", E.BANK_ACCOUNT), ("bankaccount", E.BANK_ACCOUNT), ("card", E.CREDIT_CARD),
    ("memberid", E.HEALTH_PLAN_ID), ("subscriber", E.HEALTH_PLAN_ID), ("policy", E.HEALTH_PLAN_ID),
    ("diagnos", E.DIAGNOSIS), ("passport", E.US_PASSPORT), ("license", E.US_DRIVER_LICENSE),
    ("licence", E.US_DRIVER_LICENSE), ("name", E.PERSON), ("caller", E.PERSON), ("employee", E.PERSON),
    ("patient", E.PERSON), ("contact", E.PERSON), ("requester", E.PERSON), ("assignee", E.PERSON),
    ("associate", E.PERSON), ("staff", E.PERSON), ("worker", E.PERSON), ("holder", E.PERSON),
    ("assignedto", E.PERSON), ("traveller", E.PERSON), ("traveler", E.PERSON), ("passenger", E.PERSON),
    ("attendee", E.PERSON), ("dependant", E.PERSON), ("dependent", E.PERSON), ("spouse", E.PERSON),
    ("beneficiary", E.PERSON), ("claimant", E.PERSON), ("applicant", E.PERSON), ("candidate", E.PERSON),
    ("starter", E.PERSON), ("leaver", E.PERSON), ("recipient", E.PERSON),
]
_NOT_PERSON_HEADERS = ("host", "server", "group", "company", "org", "product", "file", "app", "service", "ciname",
                       "cmdbci", "configurationitem",
                       "queue", "team", "dept", "department", "category", "device")
_LABEL = r"[A-Za-z][A-Za-z0-9 _.#/\-]{0,40}+"  # possessive: a label never gives back what a separator needs
_HEADER = re.compile(rf"\n(?m:[ \t]{{0,4}}{_LABEL}(?:([,;\t|])[ ]?{_LABEL}){{1,40}}[ \t]{{0,4}}\r?$)")


def hl7(text: str) -> list[Finding]:
    if "|" not in text:
        return []
    found: list[Finding] = []
    for m in _SEGMENT.finditer("\n" + text):
        fields = _HL7[m.group(1)]
        offset = m.start()
        for number, field in enumerate(m.group()[1:].split("|")):
            rule = fields.get(number)
            if rule is not None and field:
                found.extend(_components(field, offset, *rule))
                if m.group(1) == "PID" and number == 3 and "~" in field:
                    found.extend(_more_identifiers(field, offset))
            offset += len(field) + 1
    return found


# PID-3's identifier type (CX.5) says what a repetition after the first is: "XEH771230045^^^BCBS^MB" a member id
_ID_TYPES = {"MB": E.HEALTH_PLAN_ID, "MI": E.HEALTH_PLAN_ID, "MC": E.HEALTH_PLAN_ID, "MA": E.HEALTH_PLAN_ID,
             "SS": E.US_SSN, "DL": E.US_DRIVER_LICENSE, "PPN": E.US_PASSPORT}


# X12 healthcare claims and eligibility (837, 270/271, 834): "NM1*IL*1*REYES*CARMEN****MI*ZGP918273645~" names a
# person (NM102 = 1) with an identifier its qualifier types; "DMG*D8*19890417*F~" is their birth date; "N3*…~" the
# street of the entity named last (a person's only: a billing provider's or payer's stays); "HI*ABK:J45.909~" the
# claim's diagnoses
_X12 = re.compile(r"(?:^|~)[ \t\r\n]*(NM1|DMG|N3|HI)\*([^~\n]{1,300})")
_X12_DIAGNOSIS = re.compile(r"(?:ABK|ABF|ABJ|APR|ABN|BK|BF|BJ):([A-TV-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?)(?![\w.])")
_X12_IDS = {"MI": E.HEALTH_PLAN_ID, "XX": E.US_NPI, "34": E.US_SSN}


def x12(text: str) -> list[Finding]:
    found: list[Finding] = []
    person = False
    for m in _X12.finditer(text):
        segment, at = m.group(1), m.start(2)
        elements = m.group(2).split("*")
        if segment == "NM1":
            person = len(elements) > 2 and elements[1] == "1"
            names = [i for i in (2, 3, 4) if i < len(elements) and elements[i].strip()]
            if person and names:
                start = at + len("*".join(elements[:names[0]])) + 1
                end = at + len("*".join(elements[:names[-1] + 1]))
                found.append(Finding(start, end, E.PERSON, " ".join(
                    [*(elements[i] for i in names[1:]), elements[names[0]]]).casefold()))
            if person and len(elements) > 8 and (entity := _X12_IDS.get(elements[7])) and (
                    value := elements[8].strip()) and (entity != E.US_NPI or V.us_npi(value)):
                start = at + len("*".join(elements[:8])) + 1
                found.append(Finding(start, start + len(value), entity, value.upper()))
        elif person and segment == "DMG" and len(elements) > 1 and elements[0] == "D8" and elements[1].isdigit():
            start = at + len(elements[0]) + 1
            found.append(Finding(start, start + len(elements[1]), E.DATE_OF_BIRTH, elements[1]))
        elif segment == "HI":  # a claim's diagnosis codes ("HI*ABK:J45.909*ABF:J30.1"): the patient's
            found += [Finding(at + d.start(1), at + d.end(1), E.DIAGNOSIS, d.group(1).replace(".", ""))
                      for d in _X12_DIAGNOSIS.finditer(m.group(2))]
        elif person and segment == "N3" and elements[0].strip():
            found.append(Finding(at, at + len(elements[0]), E.STREET_ADDRESS, " ".join(elements[0].split()).casefold()))
    return found


def x12_organisations_street(text: str, start: int) -> bool:
    """Whether `start` begins an X12 street ("N3*…") after an organisation's name segment ("NM1*85*2*…")."""
    if text[max(0, start - 3):start] != "N3*":
        return False
    segment = text.rfind("NM1*", 0, start)
    return segment >= 0 and text[segment:segment + 12].split("*")[2:3] == ["2"]


def _more_identifiers(field: str, offset: int) -> list[Finding]:
    """The identifiers of PID-3's repetitions after the first (the first is the record number), typed by CX.5."""
    out = []
    position = offset + field.index("~") + 1
    for repeat in field.split("~")[1:]:
        parts = repeat.split("^")
        value = parts[0].strip()
        if value:
            entity = _ID_TYPES.get(parts[4].strip().upper() if len(parts) > 4 else "", E.MRN)
            start = position + repeat.index(value)
            out.append(Finding(start, start + len(value), entity, value.upper()))
        position += len(repeat) + 1
    return out


def _components(field: str, offset: int, entity: str, which: int | None) -> list[Finding]:
    first_repeat = field.split("~", 1)[0]
    parts = first_repeat.split("^")
    out: list[Finding] = []
    names: list[Finding] = []  # a clinician's name parts, one value
    position = offset
    for i, part in enumerate(parts):
        value = part.strip()
        if entity == _XCN:  # id, family, given, middle names; suffixes, degrees and code systems after them
            kind = (E.US_NPI if len(value) == 10 and V.us_npi(value) else None) if i == 0 else (
                E.PERSON if i <= 3 and value.replace("-", "").replace("'", "").isalpha() and (
                    len(value) > 1 or (i == 3 and names)) else None)  # (a middle initial after a name)
            if kind:
                start = position + part.index(value)
                (names if kind == E.PERSON else out).append(Finding(start, start + len(value), kind, value.casefold()))
            position += len(part) + 1
            continue
        # (a code system names the coding after the code and its text: "I10^hypertension^I10", the first I10 a code)
        usable = value and (which is None or i == which) and not (i >= 2 and value.upper() in _CODE_SYSTEMS) and not (
            entity == E.PERSON and i >= 3)  # a name's suffix, prefix and degree ("Jr", "Ms", "MD") after its parts
        if usable and not (entity == E.STREET_ADDRESS and len(value) <= 3) and not (  # the country or state part
                entity == E.PERSON and len(value) == 1):  # a middle initial alone says nothing
            start = position + part.index(value)
            out.append(Finding(start, start + len(value), entity, " ".join(value.split()).casefold()))
        position += len(part) + 1
    if names:  # "ABERNATHY^CLAIRE^M"
        out.append(_one_name(names, names[-1].end))
    if len(out) > 1 and entity == E.PERSON:
        end = out[-1].end
        if len(parts) > 2 and len(parts[2].strip()) == 1:  # a middle initial: "…^BRENDAN^T"
            end = offset + len("^".join(parts[:3]))
        return [_one_name(out, end)]
    if len(out) > 1 and entity == E.STREET_ADDRESS:  # one value, one token, no separator of the field left
        return [Finding(out[0].start, out[-1].end, entity, " ".join(f.key for f in out))]
    return out


def _one_name(parts: list[Finding], end: int) -> Finding:
    """A name's parts (family first, HL7's order) as one value, keyed as the person's name is elsewhere:
    "KOWALSKA^DOROTA" is "dorota kowalska" of the rest of the record; no separator of the field is left between."""
    keys = [f.key for f in parts if len(f.key) > 1]
    return Finding(parts[0].start, end, E.PERSON, " ".join([*keys[1:], keys[0]]))


def csv_columns(text: str) -> list[Finding]:
    """Cells under a header naming their type, to the end of the table."""
    found: list[Finding] = []
    for header in _HEADER.finditer("\n" + text):
        sep = header.group(1)
        found += _table(text, header.end(), header.group()[1:].split(sep), sep)
    return found


# A Markdown table (GitHub, Confluence): "| Name | Passport | DOB |", its "|---|---|" line, then its rows; or a
# table pasted without that line, Jira's "||Name||Passport||" header among them
_MD_HEADER = re.compile(
    r"\n[ \t]{0,4}\|\|?([^\n]{3,400}?)\|\|?[ \t]*(\r?\n[ \t]{0,4}\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[^\n]*)?)?"
    r"\r?(?=\n[ \t]{0,4}\|)")


def markdown_tables(text: str) -> list[Finding]:
    """Cells under a Markdown table's header naming their type, to the table's last row."""
    found: list[Finding] = []
    for header in _MD_HEADER.finditer("\n" + text):
        if header.group(2) is None and any(ch.isdigit() for ch in header.group(1)):
            continue  # (without its "---" line, a row of values may look like a header: a header has no digits)
        found += _table(text, header.end(), header.group(1).replace("||", "|").split("|"), None)
    return found


def _table(text: str, position: int, header: list[str], sep: str | None) -> list[Finding]:
    """The cells of the rows from `position` (one past the header's end in the text: the first row's start) whose
    column's header names a type, to the first row of another number of cells. `sep`: the CSV separator, or None for
    a Markdown table (cells between bars)."""
    types = _column_types(header)
    found: list[Finding] = []
    while any(types) and position < len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        line = text[position:end].rstrip("\r")
        if sep is not None:
            cells, cell_start = _cells(line, sep), position
        elif (inner := line.strip()).startswith("|") and inner.endswith("|"):
            cells, cell_start = inner[1:-1].split("|"), position + line.index("|") + 1
        else:
            break
        if len(cells) != len(types):
            break
        for cell, entity in zip(cells, types, strict=True):
            value = cell.strip().strip('"').strip()
            if entity and value and (f := _cell(cell_start + cell.index(value), value, entity)):
                found.append(f)
            cell_start += len(cell) + 1
        position = end + 1
    return found


# SQL pasted into a ticket: "INSERT INTO patient (mrn, surname, dob) VALUES ('RJ1-009', 'ADEYEMI', '1966-11-23'), …"
# (each value read as its column's, as a CSV cell under its header is)
_INSERT = re.compile(r"(?i:insert[ \t]+into)[ \t]+[\w.\"`\[\]]{1,80}[ \t]*\(([^()]{1,800})\)[ \t\r\n]*(?i:values)")
_SQL_ROW = re.compile(r"[ \t\r\n]*,?[ \t\r\n]*\(((?:'(?:[^'\n]|'')*'|[^'()\n])*)\)")
_SQL_VALUE = re.compile(r"'((?:[^'\n]|'')*)'|([^,'\s][^,]*?)(?=[ \t]*(?:,|$))")


def sql_inserts(text: str) -> list[Finding]:
    found: list[Finding] = []
    for insert in _INSERT.finditer(text):
        types = _column_types(insert.group(1).split(","))
        at = insert.end()
        while any(types) and (row := _SQL_ROW.match(text, at)):
            values = list(_SQL_VALUE.finditer(row.group(1)))
            if len(values) == len(types):
                for value, entity in zip(values, types, strict=True):
                    group = 1 if value.group(1) is not None else 2
                    if entity and (cell := value.group(group)) and (
                            f := _cell(row.start(1) + value.start(group), cell, entity)):
                        found.append(f)
            at = row.end()
    return found


def _cells(line: str, sep: str) -> list[str]:
    """A CSV line's cells as written, a quoted cell whole with the separators inside it ('"Hernandez, Luis",CA')."""
    if '"' not in line:
        return line.split(sep)
    cells: list[str] = []
    at = 0
    while True:
        close = at
        if line.startswith('"', at):  # to the closing quote ("" inside is one quote)
            close = line.find('"', at + 1)
            while close >= 0 and line.startswith('""', close):
                close = line.find('"', close + 2)
        end = line.find(sep, max(at, close))
        if end < 0:
            cells.append(line[at:])
            return cells
        cells.append(line[at:end])
        at = end + 1


def _cell(start: int, value: str, entity: str) -> Finding | None:
    """A table's cell at `start` as a value of its column's type, if it fits that type."""
    if entity == E.USERNAME and " " in value and _fits(E.PERSON, value):
        entity = E.PERSON  # a "user_name" column may hold display names: "Ana Lima-Souza"
    if not _fits(entity, value):
        return None
    key = N.normal(value) if entity == E.NATIONAL_ID else " ".join(value.split()).casefold()
    return Finding(start, start + len(value), entity, key)


def _column_types(labels: list[str]) -> list[str | None]:
    return [_column_type(re.sub(r"[^a-z0-9]", "", label.lower())) for label in labels]


def _column_type(label: str) -> str | None:
    if label in ("account", "user", "principal"):  # an access review's "account" column holds logins
        return E.USERNAME
    for hint, entity in _HEADER_HINTS:
        if hint in label:
            if entity == E.PERSON and any(word in label for word in _NOT_PERSON_HEADERS):
                return None
            return entity
    return None


def _fits(entity: str, value: str) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    if entity == E.EMAIL:
        return "@" in value
    if entity in (E.PHONE, E.US_SSN, E.CREDIT_CARD, E.BANK_ACCOUNT, E.NATIONAL_ID):
        return digits >= 7
    if entity == E.PERSON:  # not a role's or a kiosk's display name: "Kiosk - ED Triage", "Okta Sync"
        return digits == 0 and any(ch.isalpha() for ch in value) and " - " not in value and not any(
            w in NOT_NAMES for w in value.casefold().split())
    if entity == E.USERNAME:  # a "last_login" column holds times, not logins: "2024-12-03 16:20"
        return any(ch.isalpha() for ch in value) and not any(ch.isspace() for ch in value)
    return True


# A payload field's key and value: JSON ("key": "value" or a number), XML (<key>value</key>) and key=value (logs, URLs)
# (a list's first string too: FHIR's '"given":["Mireille"]')
_JSON_FIELD = re.compile(
    r'"([A-Za-z_][\w.\-]{0,40})"[ \t]*:[ \t]*(?:\[[ \t]*)?(?:"([^"\\\n]{1,80})"|(-?[0-9][0-9./\-]{0,30}))')
_XML_NS = r"(?:[A-Za-z_][\w\-]{0,20}:)?"  # a namespace's prefix: SOAP's "<req:LastName>"
_XML_FIELD = re.compile(rf"<{_XML_NS}([A-Za-z_][\w.\-]{{0,40}})>([^<\n]{{1,80}})</{_XML_NS}\1>")
# key=value: each word read once (possessive: no word is tried again from inside), a key if "=" follows it
_KV_FIELD = re.compile(r'(?<![\w.\-])([A-Za-z_][\w.\-]*+)=(?:"([^"\n]{1,80})"|([^\s"&;,]{1,80}))')


def payload_fields(text: str) -> list[tuple[str, int, int]]:
    """(key, value start, value end) of each field of a JSON, XML or key=value payload in the text."""
    out: list[tuple[str, int, int]] = []
    for pattern, hints in ((_JSON_FIELD, ('":', '" :')), (_XML_FIELD, ("</",)), (_KV_FIELD, ("=",))):
        if any(hint in text for hint in hints):
            for m in pattern.finditer(text):
                group = 2 if m.group(2) is not None else 3
                if len(m.group(1)) <= 41:  # (the key=value pattern reads a word whole: its key may be longer)
                    out.append((m.group(1), m.start(group), m.end(group)))
    return out


# Keys of a person's name parts (FHIR's "family" and "given", directory exports' "givenName", "sn"…) and of a card's
# expiry written as two fields ('"exp_month": "03", "exp_year": "2029"')
_PERSON_KEYS = frozenset({"family", "given", "givenname", "familyname", "firstname", "lastname", "surname", "forename",
                          "fullname", "displayname", "middlename", "sn"})
_EXPIRY_PART = re.compile(r"(?:card)?(?:exp|expiry|expiration|expires)(?:month|year|mm|yy|yyyy)")
_MONTH_OR_YEAR = re.compile(r"0?[1-9]|1[0-2]|(?:19|20)?[0-9]{2}")
_NOT_LETTERS = re.compile(r"[^a-z]")


@lru_cache(maxsize=4096)
def _key_kind(key: str) -> str | None:
    """The type a payload field's key gives its value, for keys no record field is named: a card expiry's part or a
    person's name part."""
    name = _NOT_LETTERS.sub("", key.lower())
    return E.CARD_EXPIRY if _EXPIRY_PART.fullmatch(name) else E.PERSON if name in _PERSON_KEYS else None


def person_part(key: str, value: str) -> bool:
    """Whether a payload field is a person's name or a part of it."""
    return _key_kind(key) == E.PERSON and value[:1].isupper() and _fits(E.PERSON, value)


def expiry_part(key: str, value: str) -> bool:
    """Whether a payload field is a card expiry's month or year."""
    return _key_kind(key) == E.CARD_EXPIRY and _MONTH_OR_YEAR.fullmatch(value) is not None
