"""Rasa 3.6 intent classifier: one linear model over dense sentence embeddings + TF-IDF n-grams.

Features, concatenated (each block L2-normalised):

* the dense sentence features of the message (MiniLMFeaturizer), times ``dense_weight``;
* TF-IDF of word n-grams and of char n-grams of the lower-cased text (sublinear tf, smooth idf),
  computed by this component from the text itself (so it does not depend on CountVectorsFeaturizer).

A linear SVM (liblinear, one-vs-rest) is trained on them; its margins are turned into
calibrated-ish probabilities with a softmax at ``temperature`` (fitted by negative log-likelihood
on 5-fold out-of-fold margins of BANKING77 train, see docs/nlu.md). The output has ``intent`` and the top
``ranking_length`` of ``intent_ranking``, so a FallbackClassifier after it can act on low
confidence and the bot can offer the top candidates.

Persisted as plain arrays (npz) + JSON: no pickle.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

logger = logging.getLogger(__name__)

_ARRAYS = "arrays.npz"
_META = "meta.json"


class _Tfidf:
    """sklearn's TfidfVectorizer(sublinear_tf=True, smooth_idf=True, norm="l2"), persisted as a
    vocabulary list + idf array instead of a pickle."""

    def __init__(self, analyzer: str, ngram_range: tuple[int, int], min_df: int = 1) -> None:
        self.analyzer = analyzer
        self.ngram_range = tuple(ngram_range)
        self.min_df = min_df
        self.vocab: list[str] = []
        self.idf = np.zeros(0, dtype=np.float32)
        self._cv: CountVectorizer | None = None
        self._analyze: Any = None

    def _make_cv(self, vocabulary: dict[str, int] | None = None) -> CountVectorizer:
        return CountVectorizer(
            analyzer=self.analyzer,
            ngram_range=self.ngram_range,
            min_df=self.min_df if vocabulary is None else 1,
            lowercase=True,
            vocabulary=vocabulary,
            dtype=np.float32,
        )

    def fit_transform(self, texts: list[str]) -> sp.csr_matrix:
        cv = self._make_cv()
        counts = cv.fit_transform(texts).tocsr()
        terms = sorted(cv.vocabulary_, key=cv.vocabulary_.__getitem__)
        self.vocab = terms
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self.idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        self._cv = self._make_cv({t: i for i, t in enumerate(terms)})
        return self._weight(counts)

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        if self._cv is None:
            self._cv = self._make_cv({t: i for i, t in enumerate(self.vocab)})
        return self._weight(self._cv.transform(texts).tocsr())

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """transform([text]) as (column indices, values), without scipy: ~10x faster for the
        single message of a parse (sklearn's own analyzer, so the n-grams are the same)."""
        if self._cv is None:
            self._cv = self._make_cv({t: i for i, t in enumerate(self.vocab)})
        if self._analyze is None:
            self._analyze = self._cv.build_analyzer()
        vocabulary = self._cv.vocabulary
        counts: dict[int, int] = {}
        for gram in self._analyze(text):
            j = vocabulary.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        val = (np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts))) + 1.0) * self.idf[idx]
        return idx, (val / np.linalg.norm(val)).astype(np.float32)

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf * idf, rows L2-normalised; in place on the CSR arrays (scipy's matrix
        products cost ~1 ms per call, too much at parse time)."""
        counts = counts.astype(np.float32)
        n = counts.shape[0]
        rows = np.repeat(np.arange(n), np.diff(counts.indptr))
        data = (np.log(counts.data) + np.float32(1.0)) * self.idf[counts.indices]
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n))
        norms[norms == 0] = 1.0
        counts.data = (data / norms[rows]).astype(np.float32)
        return counts


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BankIntentClassifier(IntentClassifier, GraphComponent):
    """Linear SVM on [MiniLM sentence embedding | word TF-IDF | char TF-IDF], softmax-calibrated."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # weight of the (L2-normalised) dense sentence features against the TF-IDF blocks
            "dense_weight": 2.0,
            # word n-grams; [0, 0] disables the block
            "word_ngram_range": [1, 2],
            # char n-grams inside word boundaries; [0, 0] disables the block
            "char_ngram_range": [2, 5],
            "char_min_df": 2,
            # also use sparse sentence features of other featurizers (e.g. RegexFeaturizer)
            "use_sparse_features": False,
            # SVM regularisation (liblinear)
            "C": 1.0,
            "class_weight": None,
            # softmax temperature on the SVM margins -> confidences
            "temperature": 0.24,
            "ranking_length": 10,
            "random_state": 0,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "scipy"]

    def __init__(
        self, config: dict[str, Any], name: str, model_storage: ModelStorage, resource: Resource
    ) -> None:
        self.name = name
        self.component_config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.classes: list[str] = []
        self.coef = np.zeros((0, 0), dtype=np.float32)  # (n_features, n_classes)
        self.intercept = np.zeros(0, dtype=np.float32)
        self.word = self._make_tfidf("word", self.component_config["word_ngram_range"], 1)
        self.char = self._make_tfidf(
            "char_wb", self.component_config["char_ngram_range"], int(self.component_config["char_min_df"])
        )

    @staticmethod
    def _make_tfidf(analyzer: str, ngram_range: list[int], min_df: int) -> _Tfidf | None:
        if not ngram_range or int(ngram_range[1]) <= 0:
            return None
        return _Tfidf(analyzer, (int(ngram_range[0]), int(ngram_range[1])), min_df)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BankIntentClassifier:
        return cls(config, execution_context.node_name, model_storage, resource)

    # --- features ------------------------------------------------------------------------------
    def _dense_block(self, messages: list[Message]) -> np.ndarray | None:
        """The messages' dense sentence features, L2-normalised and times dense_weight."""
        dense_rows = []
        for m in messages:
            feats = m.get_dense_features(TEXT)[1]
            dense_rows.append(None if feats is None else np.asarray(feats.features, dtype=np.float32).reshape(-1))
        dims = {len(r) for r in dense_rows if r is not None}
        if len(dims) > 1:
            raise ValueError(f"inconsistent dense sentence feature sizes {dims}")
        if not dims:
            return None
        dense = np.zeros((len(messages), dims.pop()), dtype=np.float32)
        for i, r in enumerate(dense_rows):
            if r is not None:
                dense[i] = r
        norms = np.linalg.norm(dense, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return dense * (np.float32(self.component_config["dense_weight"]) / norms)

    def _blocks(self, messages: list[Message], fit: bool = False) -> list[np.ndarray | sp.csr_matrix]:
        """Feature blocks in a fixed order: dense sentence features (ndarray), sparse sentence
        features of other featurizers (optional), word TF-IDF, char TF-IDF (CSR)."""
        blocks: list[np.ndarray | sp.csr_matrix] = []
        dense = self._dense_block(messages)
        if dense is not None:
            blocks.append(dense)
        if self.component_config["use_sparse_features"]:
            rows = [m.get_sparse_features(TEXT)[1] for m in messages]
            widths = {r.features.shape[1] for r in rows if r is not None}
            if widths:
                width = widths.pop()
                mat = sp.vstack(
                    [
                        sp.csr_matrix(r.features, dtype=np.float32)
                        if r is not None
                        else sp.csr_matrix((1, width), dtype=np.float32)
                        for r in rows
                    ],
                    format="csr",
                )
                blocks.append(normalize(mat))
        texts = [m.get(TEXT) or "" for m in messages]
        for vec in (self.word, self.char):
            if vec is not None:
                blocks.append(vec.fit_transform(texts) if fit else vec.transform(texts))
        if not blocks:
            raise ValueError("BankIntentClassifier has no features: add MiniLMFeaturizer or enable n-grams")
        return blocks

    def _features(self, messages: list[Message], fit: bool = False) -> sp.csr_matrix:
        return sp.hstack(
            [sp.csr_matrix(b) if isinstance(b, np.ndarray) else b for b in self._blocks(messages, fit)],
            format="csr",
            dtype=np.float32,
        )

    # --- training ------------------------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.svm import LinearSVC

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        labels = sorted({e.get(INTENT) for e in examples})
        if len(labels) < 2:
            logger.warning("BankIntentClassifier needs at least two intents; skipping training.")
            return self._resource
        index = {name: i for i, name in enumerate(labels)}
        y = np.array([index[e.get(INTENT)] for e in examples])
        started = time.perf_counter()
        x = self._features(examples, fit=True)
        svm = LinearSVC(
            C=float(self.component_config["C"]),
            class_weight=self.component_config["class_weight"],
            random_state=int(self.component_config["random_state"]),
            max_iter=5000,
        )
        svm.fit(x, y)
        logger.info(
            f"BankIntentClassifier: {x.shape[0]} examples, {len(labels)} intents, {x.shape[1]} features, "
            f"trained in {time.perf_counter() - started:.1f} s"
        )
        self.classes = labels
        coef = svm.coef_.T.astype(np.float32)
        intercept = svm.intercept_.astype(np.float32)
        if len(labels) == 2:  # liblinear returns one column for two classes
            coef = np.hstack([-coef, coef])
            intercept = np.array([-intercept[0], intercept[0]], dtype=np.float32)
        self.coef = np.ascontiguousarray(coef)
        self.intercept = intercept
        self.persist()
        return self._resource

    # --- inference -----------------------------------------------------------------------------
    def scores(self, messages: list[Message]) -> np.ndarray:
        """Raw margins, (n_messages, n_classes)."""
        if self.component_config["use_sparse_features"] or len(messages) > 8:
            return self._scores_matrix(messages)
        # a parse: one message, no scipy
        out = np.tile(self.intercept, (len(messages), 1))
        dense = self._dense_block(messages)
        width = 0 if dense is None else dense.shape[1]
        if width:
            out += dense @ self.coef[:width]
        for i, m in enumerate(messages):
            offset = width
            text = m.get(TEXT) or ""
            for vec in (self.word, self.char):
                if vec is not None:
                    idx, val = vec.row(text)
                    out[i] += val @ self.coef[offset + idx]
                    offset += len(vec.vocab)
            if offset != self.coef.shape[0]:
                raise ValueError(f"feature width {offset} does not match the trained model's {self.coef.shape[0]}")
        return out

    def _scores_matrix(self, messages: list[Message]) -> np.ndarray:
        """Raw margins block by block, without stacking the features."""
        out = np.tile(self.intercept, (len(messages), 1))
        offset = 0
        for block in self._blocks(messages):
            width = block.shape[1]
            out += np.asarray(block @ self.coef[offset : offset + width])
            offset += width
        if offset != self.coef.shape[0]:
            raise ValueError(f"feature width {offset} does not match the trained model's {self.coef.shape[0]}")
        return out

    def predict_proba(self, messages: list[Message]) -> np.ndarray:
        z = self.scores(messages) / float(self.component_config["temperature"])
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def process(self, messages: list[Message]) -> list[Message]:
        if not self.classes:
            for m in messages:
                m.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                m.set("intent_ranking", [], add_to_output=True)
            return messages
        todo = [m for m in messages if m.get(TEXT)]
        probs = self.predict_proba(todo) if todo else np.zeros((0, len(self.classes)))
        k = int(self.component_config["ranking_length"]) or len(self.classes)
        for m, p in zip(todo, probs, strict=True):
            order = np.argsort(-p, kind="stable")[:k]
            ranking = [
                {INTENT_NAME_KEY: self.classes[i], PREDICTED_CONFIDENCE_KEY: float(p[i])} for i in order
            ]
            m.set(INTENT, ranking[0], add_to_output=True)
            m.set("intent_ranking", ranking, add_to_output=True)
        return messages

    # --- persistence ---------------------------------------------------------------------------
    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            arrays = {"coef": self.coef, "intercept": self.intercept}
            meta: dict[str, Any] = {"classes": self.classes, "format": 1}
            for key, vec in (("word", self.word), ("char", self.char)):
                if vec is not None:
                    arrays[f"{key}_idf"] = vec.idf
                    meta[f"{key}_vocab"] = vec.vocab
            np.savez_compressed(directory / _ARRAYS, **arrays)
            (directory / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BankIntentClassifier:
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / _META).read_text(encoding="utf-8"))
                with np.load(directory / _ARRAYS, allow_pickle=False) as arrays:
                    component.coef = np.ascontiguousarray(arrays["coef"])
                    component.intercept = arrays["intercept"]
                    for key in ("word", "char"):
                        vec = getattr(component, key)
                        if vec is not None:
                            vec.idf = arrays[f"{key}_idf"]
                            vec.vocab = meta[f"{key}_vocab"]
                component.classes = meta["classes"]
        except (ValueError, FileNotFoundError, KeyError) as exc:
            logger.debug(f"BankIntentClassifier: no trained model in '{resource.name}' ({exc}).")
        return component

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
