"""bankbot_graph.py: the trained model's prediction graph, run node by node, gives what dask's run gives."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.engine.exceptions import GraphRunError
from rasa.engine.loader import load_predict_graph_runner
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import bankbot_graph

MODEL = Path(__file__).resolve().parents[2] / "var" / "models" / "current.tar.gz"
DASK_RUN = DaskGraphRunner.__dict__["run"]  # before install() replaces it
bankbot_graph.install()


@pytest.fixture(scope="module")
def model() -> Iterator[tuple[Any, DaskGraphRunner]]:
    if not MODEL.exists():
        pytest.skip("no trained model (make train)")
    with tempfile.TemporaryDirectory() as tmp:
        yield load_predict_graph_runner(Path(tmp), MODEL, LocalModelStorage, DaskGraphRunner)


def _tracker(slots: list[Any], intent: str, text: str) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
              UserUttered(text, intent={"name": intent, "confidence": 1.0})]
    return DialogueStateTracker.from_events("c", events, slots=slots)


def test_nlu_and_policies_give_what_dask_gives(model: tuple[Any, DaskGraphRunner]) -> None:
    metadata, runner = model
    assert DaskGraphRunner.run is bankbot_graph.run
    slots = list(metadata.domain.slots)
    for text in ("what's my balance?", "how much did I spend on coffee in october", "send 30 euros to savings",
                 "I lost my card", "how long does a card delivery take", "asdf qwerty"):
        tracker = _tracker(slots, "greet", text)
        inputs = {PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: tracker}
        ours = runner.run(inputs=inputs, targets=[metadata.nlu_target])
        theirs = DASK_RUN(runner, inputs={PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: tracker},
                          targets=[metadata.nlu_target])
        assert list(ours) == list(theirs) == [metadata.nlu_target]
        parsed = ours[metadata.nlu_target][0].as_dict(only_output_properties=True)
        assert parsed == theirs[metadata.nlu_target][0].as_dict(only_output_properties=True)
        assert parsed["intent"]["name"]
        intent = parsed["intent"]["name"]
        tracker = _tracker(slots, intent, text)
        ours = runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[metadata.core_target])
        theirs = DASK_RUN(runner, inputs={PLACEHOLDER_TRACKER: tracker}, targets=[metadata.core_target])
        mine, dasks = ours[metadata.core_target], theirs[metadata.core_target]
        assert (mine.max_confidence_index, mine.policy_name, mine.probabilities) == \
            (dasks.max_confidence_index, dasks.policy_name, dasks.probabilities)


def test_plan_puts_every_node_after_what_it_needs(model: tuple[Any, DaskGraphRunner]) -> None:
    metadata, runner = model
    for target in (metadata.nlu_target, metadata.core_target):
        steps = bankbot_graph.plan(runner._graph_schema, [target])
        names = [name for name, _ in steps]
        assert names[-1] == target and len(names) == len(set(names)) > 2
        for position, (_, needs) in enumerate(steps):
            assert all(need not in names or names.index(need) < position for need in needs)


def test_an_input_named_like_a_node_is_refused_as_in_rasa(model: tuple[Any, DaskGraphRunner]) -> None:
    metadata, runner = model
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        runner.run(inputs={"x": metadata.nlu_target}, targets=[metadata.nlu_target])
