"""MiniLMFeaturizer + BankIntentClassifier inside Rasa's graph API: train, persist, load, predict."""

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bankbot_nlu.classifier import BankIntentClassifier
from bankbot_nlu.minilm import MiniLMFeaturizer

DATA = {
    "freeze_card": ["freeze my card", "block my card please", "lock my debit card", "I lost my card, freeze it"],
    "check_balance": ["what's my balance", "how much money do I have", "show my balance", "balance please"],
    "greet": ["hi", "hello there", "good morning", "hey"],
}


@pytest.fixture(scope="module")
def featurizer(tmp_path_factory: pytest.TempPathFactory) -> MiniLMFeaturizer:
    cache = tmp_path_factory.mktemp("embeddings")
    ctx = ExecutionContext(GraphSchema({}), "test")
    return MiniLMFeaturizer.create(
        {**MiniLMFeaturizer.get_default_config(), "cache_dir": str(cache)}, None, None, ctx
    )


def training_data() -> TrainingData:
    return TrainingData(
        [Message(data={TEXT: t, "intent": intent}) for intent, texts in DATA.items() for t in texts]
    )


def test_featurizer_adds_sentence_features(featurizer: MiniLMFeaturizer) -> None:
    msg = Message(data={TEXT: "freeze my card"})
    featurizer.process([msg])
    seq, sent = msg.get_dense_features(TEXT)
    assert seq is None
    assert sent.features.shape == (1, 384)
    assert abs(np.linalg.norm(sent.features) - 1.0) < 1e-5
    empty = Message(data={"intent": "greet"})
    featurizer.process([empty])  # no text: left alone
    assert empty.get_dense_features(TEXT) == (None, None)


def test_classifier_trains_persists_and_loads(tmp_path: Path, featurizer: MiniLMFeaturizer) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intent_classifier")
    ctx = ExecutionContext(GraphSchema({}), "test")
    config = {**BankIntentClassifier.get_default_config(), "ranking_length": 2, "char_min_df": 1}
    data = featurizer.process_training_data(training_data())
    clf = BankIntentClassifier.create(config, storage, resource, ctx)
    clf.train(data)

    queries = ["please freeze my card", "how much is in my account", "hello!"]
    expected = ["freeze_card", "check_balance", "greet"]
    msgs = featurizer.process([Message(data={TEXT: q}) for q in queries])
    clf.process(msgs)
    for m, want in zip(msgs, expected, strict=True):
        assert m.get("intent")["name"] == want
        ranking = m.get("intent_ranking")
        assert len(ranking) == 2
        assert ranking[0]["confidence"] >= ranking[1]["confidence"]
        assert 0.0 < ranking[0]["confidence"] <= 1.0

    loaded = BankIntentClassifier.load(config, storage, resource, ctx)
    again = featurizer.process([Message(data={TEXT: q}) for q in queries])
    loaded.process(again)
    for a, b in zip(msgs, again, strict=True):
        assert a.get("intent")["name"] == b.get("intent")["name"]
        assert a.get("intent")["confidence"] == pytest.approx(b.get("intent")["confidence"], abs=1e-6)
    probs = loaded.predict_proba(again)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    # the scipy-free path used for a parse gives the same margins as the matrix path
    np.testing.assert_allclose(loaded.scores(again), loaded._scores_matrix(again), atol=1e-5)
    unseen = featurizer.process([Message(data={TEXT: "zzzz qqqq"})])
    np.testing.assert_allclose(loaded.scores(unseen), loaded._scores_matrix(unseen), atol=1e-5)


def test_untrained_classifier_predicts_nothing(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    ctx = ExecutionContext(GraphSchema({}), "test")
    clf = BankIntentClassifier.load(
        BankIntentClassifier.get_default_config(), storage, Resource("missing"), ctx
    )
    msg = Message(data={TEXT: "hello"})
    clf.process([msg])
    assert msg.get("intent")["name"] is None
    assert msg.get("intent_ranking") == []
