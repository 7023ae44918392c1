"""The engine runs offline: blank English pipeline by default, a model only if installed, no network."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import spacy
import tldextract

from api.privacy import recognizers
from api.privacy.engine import build_engines, get_engines
from api.privacy.nlp import BLANK, DEFAULT_MODEL, OfflineSpacyNlpEngine


def test_default_is_the_installed_ner_model() -> None:
    """Issue 13: unknown names need NER; the model comes from requirements/core-models.txt (pinned by hash)."""
    engines = get_engines()
    assert engines.model == DEFAULT_MODEL and engines.has_ner


def test_blank_pipeline_gives_lemmas_for_context_words() -> None:
    engine = OfflineSpacyNlpEngine(BLANK)
    engine.load()
    artifacts = engine.process_text("My Checking Account is 123456789012", "en")
    assert artifacts.lemmas[:3] == ["my", "checking", "account"]
    assert "account" in artifacts.keywords


def test_no_network_at_build_or_run_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """tldextract's default extractor would fetch the public suffix list here."""
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access attempted")

    # A fresh extractor, so its suffix list is loaded while the network is refused.
    monkeypatch.setattr(recognizers, "_OFFLINE_TLD", tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None))
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    engines = build_engines(BLANK)
    results = engines.analyzer.analyze("mail me at someone@example.co.uk", language="en")
    assert [r.entity_type for r in results] == ["EMAIL_ADDRESS"]


def test_missing_model_falls_back_without_download(monkeypatch: pytest.MonkeyPatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(spacy.cli, "download", lambda *_a, **_k: pytest.fail("download attempted"))
    engines = build_engines("en_core_web_does_not_exist")
    assert not engines.has_ner
    assert "not installed" in caplog.text


def test_installed_model_adds_names(tmp_path: Path) -> None:
    """A pipeline on disk with an entity ruler stands in for a real NER model (no weights here)."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Zanzibar Quux"},
                        {"label": "ORG", "pattern": "Tesco"}, {"label": "DATE", "pattern": "12 March"}])
    nlp.to_disk(tmp_path / "model")
    engines = build_engines(str(tmp_path / "model"))
    assert engines.has_ner
    text = "I met Zanzibar Quux at Tesco on 12 March"
    found = {(r.entity_type, text[r.start:r.end]) for r in engines.analyzer.analyze(text, language="en")}
    assert found == {("PERSON", "Zanzibar Quux")}  # ORG and DATE labels are ignored on purpose


def test_presidio_debug_logs_cannot_carry_text(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from api.privacy import redact

    with caplog.at_level(logging.DEBUG):
        redact("my checking account 123456789012 and my phone 07700 900123")
    assert "123456789012" not in caplog.text and "900123" not in caplog.text
