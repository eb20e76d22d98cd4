"""Stream 2: person names and places from a spaCy NER model the organisation has vetted, pinned by its hash.

The model is `redaction.ner_model` — an installed spaCy pipeline package's name or a directory saved with
`nlp.to_disk` — and is loaded only when its files hash to `redaction.ner_model_sha256` (`model_digest`: SHA-256 over
every file's relative path and bytes, in path order; byte-code caches left out). The hash is checked before anything
of the model is imported, a package's own code included; nothing is fetched at run time. Without spaCy, the model,
or a matching hash, construction raises ConfigError: the stream never runs unverified or skips silently.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
from pathlib import Path
from typing import Any

from udc.config import entities as E
from udc.errors import ConfigError
from udc.redact.lookalikes import LOOKALIKE
from udc.redact.positions import MACHINE_VOCABULARY

INSTALL_HINT = "install spaCy with: pip install 'udc[ner]' (or set redaction.context_stream: false)"
MODEL_HINT = ("set redaction.ner_model to a vetted spaCy pipeline (an installed package's name or a directory saved "
              "with nlp.to_disk) and redaction.ner_model_sha256 to its hash; README, 'Stream 2', shows how")

_LABELS = {"PERSON": E.PERSON, "GPE": E.LOCATION, "LOC": E.LOCATION, "FAC": E.LOCATION}
_NOT_A_NAME = re.compile(r"[\d@_/\\<>{}\[\]=#|]")
_NOT_A_PLACE = re.compile(r"[@_\\<>{}\[\]=|]")  # a place may be a street address: numbers, "#4", "3/12"
_HAS_UPPER = re.compile(r"[A-Z\u00C0-\u00DE]")
_CODE_IDENTIFIER = re.compile(r"^[^\s]{3,}[a-z][A-Z]|^[a-z]+[A-Z]")


def model_path(model: str) -> Path:
    """The directory of a model: a path as given, or the installed package's directory (found without importing
    it). ConfigError when neither exists."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    spec = importlib.util.find_spec(model) if model.isidentifier() else None
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"redaction.ner_model: '{model}' is neither a directory nor an installed spaCy model "
                          "package", MODEL_HINT)
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def model_digest(path: Path) -> str:
    """SHA-256 over every file of the model directory: relative POSIX path, a NUL, the bytes, in path order.
    `python -c "from udc.redact.ner import model_digest, model_path; print(model_digest(model_path('NAME')))"`"""
    digest = hashlib.sha256()
    for file in sorted((f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts
                        and f.suffix not in (".pyc", ".pyo")), key=lambda f: f.relative_to(path).as_posix()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


class NerStream:
    """Thread-safe wrapper: spaCy pipelines are not safe to call from several threads at once."""

    def __init__(self, model: str | None, sha256: str | None) -> None:
        try:
            import spacy
        except ImportError:
            raise ConfigError("redaction.context_stream requires spaCy", INSTALL_HINT) from None
        if not model:
            raise ConfigError("redaction.context_stream requires redaction.ner_model", MODEL_HINT)
        path = model_path(model)
        actual = model_digest(path)
        if sha256 is None or actual != sha256.lower():
            said = "is not set" if sha256 is None else f"is {sha256.lower()}"
            raise ConfigError(
                f"redaction.ner_model: the model at {path} has SHA-256 {actual}, but redaction.ner_model_sha256 "
                f"{said}; the model was not loaded",
                "set ner_model_sha256 to the hash of the model your organisation vetted; a different hash means "
                "different files (another version, a re-upload, or tampering)")
        try:
            # a package is loaded by its name (its verified code finds its data), a directory as it is
            source = path if Path(model).expanduser().is_dir() else model
            self._nlp: Any = spacy.load(source, exclude=["parser", "lemmatizer", "senter", "tagger",
                                                         "attribute_ruler"])
        except (OSError, ImportError, ValueError) as exc:
            raise ConfigError(f"redaction.ner_model: spaCy could not load the model at {path} "
                              f"({type(exc).__name__})", MODEL_HINT) from None
        if not {"ner", "entity_ruler", "span_ruler"} & set(self._nlp.pipe_names):
            raise ConfigError(f"redaction.ner_model: the model at {path} finds no entities (no ner or "
                              "entity_ruler component)", MODEL_HINT)
        self._lock = threading.Lock()

    def find(self, texts: list[str], wanted: frozenset[str]) -> list[list[tuple[int, int, str]]]:
        """(start, end, entity) per text for the wanted entity types (PERSON, LOCATION)."""
        results: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        todo = [i for i, t in enumerate(texts) if _HAS_UPPER.search(t)]  # names are capitalised
        if not todo or not wanted & {E.PERSON, E.LOCATION}:
            return results
        with self._lock:
            docs = list(self._nlp.pipe((texts[i] for i in todo), batch_size=64))
        for i, doc in zip(todo, docs, strict=True):
            text = texts[i]
            machine = [m.span() for m in LOOKALIKE.finditer(text)] if any(c.isdigit() or c == "." for c in text) else []
            for ent in doc.ents:
                entity = _LABELS.get(ent.label_)
                if entity is None or entity not in wanted or not _plausible(ent.text, entity):
                    continue
                start, end = ent.start_char, ent.end_char
                if any(s < end and start < e for s, e in machine):  # part of a host name, stack frame, version...
                    continue
                results[i].append((start, end, entity))
        return results


# Words of IT operations a small news-trained model takes for people or places ("Upgrade Kafka", "Backout").
_MACHINE_WORDS = frozenset(MACHINE_VOCABULARY.split())


def _plausible(span: str, entity: str) -> bool:
    letters = sum(ch.isalpha() for ch in span)
    odd = (_NOT_A_PLACE if entity == E.LOCATION else _NOT_A_NAME).search(span)
    if letters < 2 or odd or _HAS_UPPER.search(span) is None:
        return False
    words = span.split()
    if all(len(w) > 1 and w.isupper() for w in words):  # ECONNRESET, GC, SSO: acronyms, not names
        return False
    if any(_CODE_IDENTIFIER.search(w) for w in words):  # KafkaException, getUserName (but McDonald, MacLeod)
        return False
    return not any(w.casefold().strip(".,;:'\"()") in _MACHINE_WORDS for w in words)
