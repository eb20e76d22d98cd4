"""Redaction benchmark: udc's streams against Presidio's pattern recognizers, in one run on one machine.

    python bench/redaction_eval.py [--itsm-kb 300] [--no-presidio] [--no-ner] [--json out.json]

1. Labelled eval set (presidio-synth-v2, 1,500 texts): precision, recall and leak rate (share of gold PII
   characters left readable) per entity type, with overlap matching.
2. PII-free ITSM text (tests/redact/itsm_corpus.py): false hits per 100 KB.
3. Throughput in MB/s per core (CPU time of this single-threaded process).

Presidio runs with a blank spaCy pipeline (no NER): only its pattern recognizers fire. Needs `pip install
'udc[bench]'`; stream 2 needs `pip install 'udc[ner]'`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVAL_SET = ROOT.parent / "shared" / "reference" / "pii-eval" / "presidio-synth-v2.json"
Span = tuple[int, int, str]  # start, end, our entity type

# gold label in the dataset -> our entity type (None: not a type udc redacts, e.g. organisations, job titles)
GOLD_TO_OURS: dict[str, str | None] = {
    "CREDIT_CARD": "CREDIT_CARD", "US_SSN": "US_SSN", "EMAIL_ADDRESS": "EMAIL", "IBAN_CODE": "IBAN",
    "PHONE_NUMBER": "PHONE", "IP_ADDRESS": "IP_ADDRESS", "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "DATE_TIME": "DATE_OF_BIRTH", "PERSON": "PERSON", "STREET_ADDRESS": "LOCATION", "GPE": "LOCATION",
    "ZIP_CODE": "LOCATION", "DOMAIN_NAME": "URL",
    "ORGANIZATION": None, "TITLE": None, "AGE": None, "NRP": None,
}
# Presidio's labels -> ours
PRESIDIO_TO_OURS = {
    "CREDIT_CARD": "CREDIT_CARD", "US_SSN": "US_SSN", "EMAIL_ADDRESS": "EMAIL", "IBAN_CODE": "IBAN",
    "PHONE_NUMBER": "PHONE", "IP_ADDRESS": "IP_ADDRESS", "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "DATE_TIME": "DATE_OF_BIRTH", "PERSON": "PERSON", "LOCATION": "LOCATION", "URL": "URL",
    "US_BANK_NUMBER": "US_BANK_NUMBER", "US_PASSPORT": "US_PASSPORT", "UK_NHS": "UK_NHS", "US_ITIN": "US_ITIN",
    "MEDICAL_LICENSE": "MEDICAL_LICENSE", "CRYPTO": "CRYPTO",
}
ROWS = ["CREDIT_CARD", "US_SSN", "EMAIL_ADDRESS", "IBAN_CODE", "PHONE_NUMBER", "IP_ADDRESS", "US_DRIVER_LICENSE",
        "DATE_TIME", "PERSON", "STREET_ADDRESS"]
TARGETED = ["CREDIT_CARD", "US_SSN", "EMAIL_ADDRESS", "IBAN_CODE"]  # recall >= 0.97, precision >= 0.98
NOT_PII_BY_UDC = {"DATE_OF_BIRTH", "URL"}  # Presidio reports every date and URL; udc only dates of birth


# --- detectors -------------------------------------------------------------------------------------------------------


def udc_detector(context_stream: bool) -> Callable[[str], list[Span]]:
    from udc.config import RedactionConfig
    from udc.redact import Redactor

    redactor = Redactor(RedactionConfig(enabled=True, mode="mask", context_stream=context_stream), "rest")

    def detect(text: str) -> list[Span]:
        return [(f.start, f.end, f.entity) for f in redactor.find(text)]

    return detect


def udc_record_redactor(context_stream: bool) -> Callable[[list[str]], None]:
    """The production path: records redacted in place with tokens, as the sync engine calls it."""
    from pydantic import SecretStr

    from udc.config import RedactionConfig
    from udc.redact import Redactor

    policy = RedactionConfig(enabled=True, key=SecretStr("bench-key-0123456789abcdef"), context_stream=context_stream)
    redactor = Redactor(policy, "servicenow")

    def run(texts: list[str]) -> None:
        for start in range(0, len(texts), 100):
            redactor.redact_records("incident", [{"description": t} for t in texts[start:start + 100]])

    return run


def presidio_analyzer() -> Any:
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers.generic import email_recognizer

    # The e-mail recognizer's tldextract would download the public-suffix list; use the bundled snapshot instead.
    email_recognizer.tldextract = SimpleNamespace(extract=tldextract.TLDExtract(suffix_list_urls=()))  # type: ignore[attr-defined]
    blank = tempfile.mkdtemp(prefix="blank-spacy-")
    spacy.blank("en").to_disk(blank)  # tokenizer only: no tagger, no NER
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": blank}])
    engine.load()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=engine)
    registry.remove_recognizer("SpacyRecognizer")  # the NER-backed one: leave only pattern recognizers
    return AnalyzerEngine(nlp_engine=engine, registry=registry)


def presidio_detector(analyzer: Any, min_score: float) -> Callable[[str], list[Span]]:
    def detect(text: str) -> list[Span]:
        return [(r.start, r.end, PRESIDIO_TO_OURS.get(r.entity_type, r.entity_type))
                for r in analyzer.analyze(text, language="en") if r.score >= min_score]

    return detect


# --- metrics ---------------------------------------------------------------------------------------------------------


def evaluate(dataset: list[dict[str, Any]], predictions: list[list[Span]]) -> dict[str, dict[str, float]]:
    """Per gold label: recall (gold spans overlapped by a prediction of the mapped type), precision (predictions of
    the mapped type that overlap a gold span mapped to that type), leak (gold characters no prediction covers)."""
    gold_n: Counter[str] = Counter()
    gold_hit: Counter[str] = Counter()
    chars: Counter[str] = Counter()
    leaked: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    pred_ok: Counter[str] = Counter()
    for item, preds in zip(dataset, predictions, strict=True):
        spans = [(s["start_position"], s["end_position"], s["entity_type"]) for s in item["spans"]]
        covered = [False] * len(item["full_text"])
        for start, end, _ in preds:
            for i in range(start, min(end, len(covered))):
                covered[i] = True
        for start, end, label in spans:
            ours = GOLD_TO_OURS.get(label)
            gold_n[label] += 1
            if any(p_type == ours and ps < end and start < pe for ps, pe, p_type in preds):
                gold_hit[label] += 1
            chars[label] += end - start
            leaked[label] += sum(1 for i in range(start, end) if not covered[i])
        for ps, pe, p_type in preds:
            pred_n[p_type] += 1
            if any(GOLD_TO_OURS.get(label) == p_type and ps < end and start < pe for start, end, label in spans):
                pred_ok[p_type] += 1
    table: dict[str, dict[str, float]] = {}
    for label in ROWS:
        ours = GOLD_TO_OURS[label] or ""
        table[label] = {
            "gold": gold_n[label],
            "recall": gold_hit[label] / gold_n[label] if gold_n[label] else float("nan"),
            "precision": pred_ok[ours] / pred_n[ours] if pred_n[ours] else float("nan"),
            "predicted": pred_n[ours],
            "leak": leaked[label] / chars[label] if chars[label] else float("nan"),
        }
    return table


def false_hits(detect: Callable[[str], list[Span]], docs: list[str]) -> tuple[float, float, Counter[str]]:
    """False hits per 100 KB on PII-free text: all of them, and without dates/URLs (which udc does not redact)."""
    size = sum(len(d.encode()) for d in docs)
    by_type: Counter[str] = Counter()
    for doc in docs:
        by_type.update(t for _, _, t in detect(doc))
    total = sum(by_type.values())
    shared = sum(n for t, n in by_type.items() if t not in NOT_PII_BY_UDC)
    return total * 100_000 / size, shared * 100_000 / size, by_type


def throughput(run: Callable[[list[str]], None], texts: list[str], min_seconds: float = 2.0) -> float:
    """MB/s per core: bytes over CPU seconds of this (single-threaded) process, repeated to at least min_seconds."""
    size = sum(len(t.encode()) for t in texts)
    done, cpu = 0, 0.0
    while cpu < min_seconds:
        start = time.process_time()
        run(texts)
        cpu += time.process_time() - start
        done += size
    return done / cpu / 1e6


def each(detect: Callable[[str], list[Span]]) -> Callable[[list[str]], None]:
    def run(texts: list[str]) -> None:
        for t in texts:
            detect(t)

    return run


# --- report ----------------------------------------------------------------------------------------------------------


def fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--itsm-kb", type=int, default=300, help="size of the PII-free ITSM corpus")
    parser.add_argument("--no-presidio", action="store_true")
    parser.add_argument("--no-ner", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    os.environ.setdefault("TLDEXTRACT_CACHE", tempfile.mkdtemp(prefix="tldextract-"))

    dataset = json.loads(EVAL_SET.read_text())
    texts = [d["full_text"] for d in dataset]
    spec = importlib.util.spec_from_file_location("itsm_corpus", ROOT / "tests" / "redact" / "itsm_corpus.py")
    assert spec and spec.loader
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    docs: list[str] = corpus.documents(args.itsm_kb * 1000)

    systems: dict[str, tuple[Callable[[str], list[Span]], Callable[[list[str]], None] | None]] = {
        "udc stream 1": (udc_detector(False), udc_record_redactor(False)),
    }
    if not args.no_ner:
        try:
            systems["udc stream 1+2 (NER)"] = (udc_detector(True), udc_record_redactor(True))
        except Exception as exc:  # the model is an optional extra
            print(f"(stream 2 skipped: {exc})", file=sys.stderr)
    if not args.no_presidio:
        analyzer = presidio_analyzer()
        systems["Presidio patterns"] = (presidio_detector(analyzer, 0.0), None)
        systems["Presidio patterns, score>=0.5"] = (presidio_detector(analyzer, 0.5), None)

    results: dict[str, Any] = {}
    for name, (detect, records) in systems.items():
        quality = evaluate(dataset, [detect(t) for t in texts])
        fh_all, fh_shared, fh_types = false_hits(detect, docs)
        if name.endswith("score>=0.5"):
            speed = results["Presidio patterns"]["speed"]  # same engine, filtered afterwards
        else:
            speed = {"eval_detect": throughput(each(detect), texts), "itsm_detect": throughput(each(detect), docs)}
            if records is not None:
                speed["itsm_records"] = throughput(records, docs)
        results[name] = {"quality": quality, "false_hits_100kb": fh_all, "false_hits_100kb_shared": fh_shared,
                         "false_hit_types": dict(fh_types), "speed": speed}
        print(f"measured {name}", file=sys.stderr)

    report(results, len(dataset), sum(len(d.encode()) for d in docs))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float))


def report(results: dict[str, Any], n_texts: int, itsm_bytes: int) -> None:
    names = list(results)
    print(f"\n### Quality on presidio-synth-v2 ({n_texts} texts), overlap matching\n")
    print("| gold type (n) | " + " | ".join(f"{n}: P / R / leak" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    first = results[names[0]]["quality"]
    for label in ROWS:
        cells = []
        for n in names:
            q = results[n]["quality"][label]
            cells.append(f"{fmt(q['precision'])} / {fmt(q['recall'])} / {fmt(q['leak'])}")
        print(f"| {label} ({first[label]['gold']}) | " + " | ".join(cells) + " |")

    print(f"\n### PII-free ITSM text ({itsm_bytes / 1000:.0f} KB) and speed\n")
    print("| system | false hits /100 KB (all) | excl. dates & URLs | by type | eval MB/s/core | ITSM MB/s/core "
          "| records MB/s/core |")
    print("|---|---|---|---|---|---|---|")
    for n in names:
        r = results[n]
        s = r["speed"]
        types = ", ".join(f"{t} {c}" for t, c in sorted(r["false_hit_types"].items(), key=lambda kv: -kv[1])) or "none"
        print(f"| {n} | {r['false_hits_100kb']:.2f} | {r['false_hits_100kb_shared']:.2f} | {types} | "
              f"{s['eval_detect']:.2f} | {s['itsm_detect']:.2f} | {s.get('itsm_records', float('nan')):.2f} |")

    if "Presidio patterns" in results:
        ours, base = results["udc stream 1"], results["Presidio patterns"]
        print("\n### Targets\n")
        for label in TARGETED:
            q = ours["quality"][label]
            ok = q["recall"] >= 0.97 and q["precision"] >= 0.98
            print(f"- {label}: precision {fmt(q['precision'])}, recall {fmt(q['recall'])} "
                  f"(target P>=0.98, R>=0.97): {'met' if ok else 'NOT met'}")
        for key, label in (("false_hits_100kb", "all types"), ("false_hits_100kb_shared", "excl. dates & URLs")):
            ratio = base[key] / ours[key] if ours[key] else float("inf")
            print(f"- false hits on ITSM text ({label}): Presidio {base[key]:.2f} vs udc {ours[key]:.2f} per 100 KB "
                  f"= {ratio:.0f}x fewer (target 10x): {'met' if ratio >= 10 else 'NOT met'}")
        for key in ("eval_detect", "itsm_detect"):
            ratio = ours["speed"][key] / base["speed"][key]
            print(f"- throughput ({key}): {ratio:.0f}x Presidio (target 50x): {'met' if ratio >= 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
