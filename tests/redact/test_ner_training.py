"""bench/train_ner.py rebuilds stream 2's model: a tiny run (40 documents, one epoch) trains end to end, twice to the
same SHA-256, and the redactor loads that model only under its hash. Its text comes from training seeds only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.errors import ConfigError
from udc.redact import Redactor

pytest.importorskip("spacy")
BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
import train_ner  # noqa: E402  (a script beside the benchmark, not a package)
from itsm_eval_corpus import corpus  # noqa: E402

KEY = SecretStr("ner-key-0123456789abcdef")


def test_a_tiny_model_trains_reproducibly_and_loads_only_under_its_hash(tmp_path: Path) -> None:
    model, digest = train_ner.train(tmp_path / "a", docs=40, epochs=1, seed=train_ner.SEED)
    assert (model / "ner").is_dir() and (model / "tok2vec").is_dir()
    assert str(tmp_path) not in (model / "config.cfg").read_text()  # nothing of where it was built
    assert train_ner.train(tmp_path / "b", docs=40, epochs=1, seed=train_ner.SEED)[1] == digest

    policy = {"enabled": True, "key": KEY, "context_stream": True, "ner_model": str(model)}
    redactor = Redactor(RedactionConfig(**policy, ner_model_sha256=digest), "rest")  # type: ignore[arg-type]
    redactor.redact_text("Laptop handed over to Zofia Kowalczyk at reception.")  # stream 2 runs
    with pytest.raises(ConfigError, match="was not loaded"):
        Redactor(RedactionConfig(**policy, ner_model_sha256="0" * 64), "rest")  # type: ignore[arg-type]


def test_training_text_is_never_evaluation_text() -> None:
    with pytest.raises(SystemExit):
        next(train_ner.documents(20251203, 10))  # the evaluation corpus's seed is refused
    evaluation = {d.text for d in corpus(seed=20251203, documents=600).documents}
    training = [text for text, _ in train_ner.documents(train_ner.SEED, 400)]
    assert not evaluation & set(training)
    assert all(text[a:b].strip() == text[a:b] and b > a for text, spans in train_ner.documents(train_ner.SEED, 400)
               for a, b, _ in spans)  # labels sit on the values, not on the space around them
