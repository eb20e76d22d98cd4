"""Stream 2 loads only the model the organisation vetted: `ner_model` (a directory or an installed package) and
`ner_model_sha256`. A pipeline is built here with real spaCy (an entity ruler: no download, deterministic),
saved, hashed and pinned; a changed file, a missing hash or a wrong one stops the redactor before it loads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from udc.config import RedactionConfig
from udc.errors import ConfigError
from udc.redact import Redactor
from udc.redact.ner import model_digest, model_path

spacy = pytest.importorskip("spacy")
KEY = SecretStr("ner-key-0123456789abcdef")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Zanele Mokoena"},
                        {"label": "GPE", "pattern": "Durban"}])
    path = tmp_path / "vetted-model"
    nlp.to_disk(path)
    return path


def redactor(**policy: object) -> Redactor:
    return Redactor(RedactionConfig(enabled=True, key=KEY, context_stream=True, **policy), "rest")  # type: ignore[arg-type]


def test_a_pinned_model_runs_stream_2(model: Path) -> None:
    digest = model_digest(model)
    assert model_digest(model_path(str(model))) == digest and len(digest) == 64
    r = redactor(ner_model=str(model), ner_model_sha256=digest.upper())  # case does not matter
    text, counts = r.redact_text("Laptop handed to Zanele Mokoena at the Durban office; Zanele Mokoena signed.")
    assert "Zanele" not in text and "Durban" not in text and counts == {"PERSON": 2, "LOCATION": 1}


def test_a_changed_model_is_refused(model: Path) -> None:
    digest = model_digest(model)
    patterns = next(model.rglob("patterns.jsonl"))
    patterns.write_text(patterns.read_text().replace("Zanele Mokoena", "Nobody Atall"))
    with pytest.raises(ConfigError) as err:
        redactor(ner_model=str(model), ner_model_sha256=digest)
    assert f"has SHA-256 {model_digest(model)}" in err.value.message and "was not loaded" in err.value.message
    assert digest in err.value.message  # both hashes are named: what was expected and what is there


def test_no_hash_no_model(model: Path) -> None:
    with pytest.raises(ConfigError) as err:
        redactor(ner_model=str(model))
    assert "ner_model_sha256 is not set" in err.value.message
    with pytest.raises(ValueError):  # not 64 hex digits: the config refuses it
        RedactionConfig(enabled=True, context_stream=True, ner_model=str(model), ner_model_sha256="abc")


def test_byte_code_caches_do_not_change_the_hash(model: Path) -> None:
    digest = model_digest(model)
    (model / "__pycache__").mkdir()
    (model / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0" * 16)
    assert model_digest(model) == digest


def test_a_model_span_never_uncovers_what_stream_1_found(tmp_path: Path) -> None:
    # a model span longer than stream 1's finding that it overlaps: on its own it would win the overlap and leave
    # the rest of that finding readable ("Kwame"); clipped to what stream 1 left, both are hidden
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "PERSON", "pattern": "Asante,Retain Obi"}])
    path = tmp_path / "overlapping-model"
    nlp.to_disk(path)
    r = redactor(ner_model=str(path), ner_model_sha256=model_digest(path))
    found = r.find("Hi Kwame Asante,Retain Obi joined.")
    assert [(f.start, f.end, f.entity) for f in found] == [(3, 15, "PERSON"), (16, 26, "PERSON")], found
    text, counts = r.redact_text("Hi Kwame Asante,Retain Obi joined.")
    assert "Kwame" not in text and "Asante" not in text and "Retain" not in text and counts == {"PERSON": 2}, text


def test_a_place_may_be_a_street_address_a_name_has_no_digits(tmp_path: Path) -> None:
    from udc.redact.ner import NerStream

    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "LOC", "pattern": "Flat 3, 14 Acacia Road, Leeds LS1 4DY"},
                                                {"label": "PERSON", "pattern": "Agent 47"}])
    nlp.to_disk(tmp_path / "m")
    text = "Ship it to Flat 3, 14 Acacia Road, Leeds LS1 4DY for Agent 47."
    found = NerStream(str(tmp_path / "m"), model_digest(tmp_path / "m")).find([text], frozenset({"PERSON", "LOCATION"}))
    assert [(text[s:e], t) for s, e, t in found[0]] == [("Flat 3, 14 Acacia Road, Leeds LS1 4DY", "LOCATION")]
