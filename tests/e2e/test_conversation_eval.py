"""The conversation evaluation set's tuned half, end to end through POST /v1/chat/messages, against the
targets of `make bench-conversations` (which reports the held-out half as well)."""

from __future__ import annotations

import pytest

from scripts import environment
from tests.conversations import runner
from tests.e2e.conftest import PORTS, Stack

pytestmark = pytest.mark.e2e

TARGETS = {"transfer_exact": 1.0, "spending_exact": 0.98, "followup_exact": 0.95, "intent_accuracy": 0.97,
           "oos_recall": 0.90, "oos_precision": 0.95}


def test_tuned_half_meets_the_targets(stack: Stack) -> None:
    client = runner.Client(stack.core_url, f"http://127.0.0.1:{PORTS['rasa']}",
                           environment.value("RASA_API_TOKEN"))
    client.sign_in()
    report = runner.evaluate(client, *runner.load("tuned"))
    figures = report.figures()
    failures = "\n".join(f"{o.kind} {o.item} {o.text!r}: {o.detail}" for o in report.failures())
    missed = {name: figures[name] for name, target in TARGETS.items() if figures[name] < target}
    assert not missed, f"{runner.format_figures(figures)}\nbelow target: {missed}\n{failures}"
    assert figures["wrong_figures"] == 0, failures
    # A check that cannot fail proves nothing: the set has enough of each kind to move the figures.
    assert report.count("transfer") >= 40 and report.count("spending") >= 60 and report.count("followup") >= 12
