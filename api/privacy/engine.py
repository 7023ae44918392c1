"""The Presidio analyzer and anonymizer, built once per process and shared by all threads."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_anonymizer import AnonymizerEngine

from api.privacy.names import ModelNameRecognizer
from api.privacy.nlp import OfflineSpacyNlpEngine
from api.privacy.recognizers import builtin_recognizers, rule_recognizers

log = logging.getLogger(__name__)

# Below this a result is dropped: weak built-in patterns (a bare 9-digit number as US_BANK_NUMBER at
# 0.05) pass only once a context word lifts them to 0.4; phone numbers start at 0.4.
SCORE_THRESHOLD = 0.4


class SelectiveContextEnhancer(LemmaContextAwareEnhancer):
    """Hands the lemma enhancer only the results that context can change.

    The stock enhancer deep-copies every result first, which costs more than the matching itself
    on a long message; results of recognizers without context words, or already at full score,
    cannot change, so they skip it.
    """

    def enhance_using_context(self, text: str, raw_results: list[RecognizerResult], nlp_artifacts: NlpArtifacts,
                              recognizers: list[EntityRecognizer],
                              context: list[str] | None = None) -> list[RecognizerResult]:
        with_context = {r.id for r in recognizers if r.context}
        todo: list[RecognizerResult] = []
        keep: list[RecognizerResult] = []
        for result in raw_results:
            rid = (result.recognition_metadata or {}).get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY)
            (todo if rid in with_context and result.score < 1.0 else keep).append(result)
        if todo:
            keep += super().enhance_using_context(text, todo, nlp_artifacts, recognizers, context)
        return keep


@dataclass(frozen=True)
class Engines:
    analyzer: AnalyzerEngine
    anonymizer: AnonymizerEngine
    model: str
    has_ner: bool


_lock = threading.Lock()
_engines: Engines | None = None


def _quiet_presidio_loggers() -> None:
    # Presidio's context enhancer logs the words around each match at DEBUG: raw customer text.
    # Whatever level the application runs at, these loggers stay at WARNING.
    for name in ("presidio-analyzer", "presidio-anonymizer"):
        logging.getLogger(name).setLevel(logging.WARNING)


def build_engines(model: str | None = None) -> Engines:
    _quiet_presidio_loggers()
    nlp_engine = OfflineSpacyNlpEngine(model)
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in builtin_recognizers() + rule_recognizers():
        registry.add_recognizer(recognizer)
    if nlp_engine.has_ner:
        # Unknown names come from the model (PERSON, and ORG spans shaped like a name: names.py); its
        # other labels are ignored, they would redact merchants, dates and amounts (see nlp.py).
        registry.add_recognizer(ModelNameRecognizer())
    analyzer = AnalyzerEngine(
        registry=registry, nlp_engine=nlp_engine, supported_languages=["en"],
        default_score_threshold=SCORE_THRESHOLD,
        # Context words within 6 tokens before or 2 after the value ("12345678901 is my checking
        # account"); whole words only: in substring mode "cell" lights up on "cancelled".
        context_aware_enhancer=SelectiveContextEnhancer(context_prefix_count=6, context_suffix_count=2,
                                                        context_matching_mode="whole_word"))
    for recognizer in registry.recognizers:
        recognizer.load()
        recognizer.is_loaded = True
    log.info("PII engine ready: model=%s ner=%s recognizers=%d", nlp_engine.model_name,
             nlp_engine.has_ner, len(registry.recognizers))
    return Engines(analyzer, AnonymizerEngine(), nlp_engine.model_name, nlp_engine.has_ner)


def get_engines() -> Engines:
    global _engines
    if _engines is None:
        with _lock:
            if _engines is None:
                _engines = build_engines()
    return _engines


def reset_engines() -> None:
    """Forget the engines (tests that change PII_SPACY_MODEL); the next call rebuilds them."""
    global _engines
    with _lock:
        _engines = None
