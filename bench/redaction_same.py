"""Same findings, same redacted text: stream 1 of this tree against another revision's, on every labelled set.

    python bench/redaction_same.py [--against main] [--show 5]
    python bench/redaction_same.py --against main --speed 4      # throughput instead, the two trees alternating

For speed work, which must change nothing: both seeds of the generated ITSM corpus (bench/itsm_eval_corpus.py, with
its directory), the PII-free ITSM text of the false-positive tests, the hand-written held-out set (with its directory)
and presidio-synth-v2 (no directory) are redacted by `redact_records` in pages of 100, as a sync does, once as
`work_notes` and once under field names that are context for the whole value (`u_phone`, `u_ssn`...), and each text's
findings are read with `Redactor.find`. The revision's `src/` is exported with `git archive` and run in a child
process; any difference is printed (the first `--show` of each set) and the exit status is 1.

`--speed ROUNDS` times the two trees instead, alternating (each round runs both, in fresh processes, in turn): MB/s
per core (CPU time) of `redact_records` in pages of 100 on both seeds of the corpus and on the PII-free text (with
the corpus's directory), 5 runs per set and round, each with a new `Redactor`, after one untimed run that loads what
is loaded once per process (the diagnosis lexicon, phone metadata); median and min-max of all runs, and the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
FIELDS = ["work_notes", "u_phone", "u_ssn", "u_dob", "u_member_id", "u_card_number", "u_mrn", "u_passport",
          "u_account_number", "u_expiry", "u_routing", "u_npi", "u_cvv", "u_nhs", "u_drivers_license"]


def outputs() -> Iterator[tuple[str, list[Any]]]:
    """(set name, what stream 1 made of it), computed with whichever udc is on the path."""
    sys.path.insert(0, str(BENCH))
    from redaction_eval import SYNTH, corpus, heldout, pii_free_documents, udc_system

    sets: list[tuple[str, list[str], list[dict[str, str]]]] = []
    for seed in (20251203, 7):
        generated = corpus(seed=seed, documents=600)
        sets.append((f"itsm seed {seed}", [d.text for d in generated.documents], generated.directory))
    sets.append(("PII-free", pii_free_documents(200_000), []))
    held_texts, _, _, held_directory = heldout()
    sets.append(("held-out", held_texts, held_directory))
    for path in sorted((BENCH / "data").glob("itsm-heldout-*.txt")):  # later hand-written sets
        texts, _, _, directory = heldout(path)
        sets.append((path.name, texts, directory))
    sets.append(("presidio-synth-v2", [d["full_text"] for d in json.loads(SYNTH.read_text())], []))
    for name, texts, directory in sets:
        out: list[Any] = []
        redactor, detect = udc_system(False, directory)
        out += [detect(t) for t in texts]
        for fields in (["work_notes"], FIELDS):
            redactor = udc_system(False, directory)[0]
            records = [{fields[i % len(fields)]: t} for i, t in enumerate(texts)]
            for i in range(0, len(records), 100):
                out.append(redactor.redact_records("incident", records[i:i + 100]))
            out += records
        yield name, out


def rates() -> dict[str, list[float]]:
    """MB/s per core of each timed run, by set, with whichever udc is on the path."""
    sys.path.insert(0, str(BENCH))
    from redaction_eval import corpus, pii_free_documents, udc_system

    generated = {seed: corpus(seed=seed, documents=600) for seed in (20251203, 7)}
    sets = {f"labelled ITSM corpus, seed {seed}": ([d.text for d in c.documents], c.directory)
            for seed, c in generated.items()}
    sets["PII-free ITSM text"] = (pii_free_documents(200_000), generated[20251203].directory)
    out: dict[str, list[float]] = {}
    for name, (texts, directory) in sets.items():
        size = sum(len(t.encode()) for t in texts)
        out[name] = []
        for run in range(6):
            redactor = udc_system(False, directory)[0]
            records = [{"work_notes": t} for t in texts]
            start = time.process_time()
            for i in range(0, len(records), 100):
                redactor.redact_records("incident", records[i:i + 100])
            if run:  # (the first run loads what a process loads once)
                out[name].append(size / (time.process_time() - start) / 1e6)
    return out


def run_with(src: Path, mode: str, out: Path) -> Any:
    env = {**os.environ, "PYTHONPATH": str(src)}
    subprocess.run([sys.executable, __file__, mode, str(out)], env=env, check=True)
    return json.loads(out.read_text())


def speed(trees: dict[str, Path], rounds: int, tmp: Path) -> None:
    print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    results: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for n in range(rounds):
        for name in (list(trees) if n % 2 == 0 else list(trees)[::-1]):
            for set_name, values in run_with(trees[name], "--time", tmp / "rates.json").items():
                results[name].setdefault(set_name, []).extend(values)
    for set_name in next(iter(results.values())):
        cells = []
        for name, by_set in results.items():
            values = by_set[set_name]
            cells.append(f"{name} {statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})")
        print(f"{set_name}: " + ", ".join(cells))
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--against", default="main", help="the git revision to compare with")
    parser.add_argument("--show", type=int, default=5, help="differences shown per set")
    parser.add_argument("--speed", type=int, metavar="ROUNDS", help="time the two trees instead, alternating")
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # a child's modes: write the outputs here
    parser.add_argument("--time", type=Path, help=argparse.SUPPRESS)  # ... or the rates
    args = parser.parse_args()
    if args.dump:
        args.dump.write_text(json.dumps(dict(outputs())))
        return
    if args.time:
        args.time.write_text(json.dumps(rates()))
        return
    root = BENCH.parent
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        archive = subprocess.run(["git", "-C", str(root), "archive", args.against, "src"], check=True,
                                 capture_output=True).stdout
        archive_path = Path(tmp) / "base.tar"
        archive_path.write_bytes(archive)
        with tarfile.open(archive_path) as tar:
            tar.extractall(base, filter="data")
        if args.speed:
            speed({args.against: base / "src", "here": root / "src"}, args.speed, Path(tmp))
            return
        theirs = run_with(base / "src", "--dump", Path(tmp) / "theirs.json")
        ours = run_with(root / "src", "--dump", Path(tmp) / "ours.json")
    differ = False
    for name, their_out in theirs.items():
        our_out = ours[name]
        diffs = [i for i, (a, b) in enumerate(zip(their_out, our_out, strict=True)) if a != b]
        print(f"{name}: {len(our_out)} outputs, {len(diffs)} different")
        for i in diffs[:args.show]:
            print(f"  #{i}\n    {args.against}: {json.dumps(their_out[i])[:600]}")
            print(f"    here: {json.dumps(our_out[i])[:600]}")
        differ = differ or bool(diffs)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
