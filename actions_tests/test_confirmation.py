"""action_handle_confirmation: a yes or no outside a form goes to what the bot asked, or to nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actions.confirmation import ActionHandleConfirmation
from actions_tests.conftest import Core
from actions_tests.support import covers, last_month, run, total_sentence, tracker

pytestmark = [pytest.mark.anyio, covers(ActionHandleConfirmation)]


async def test_yes_to_the_freeze_question_freezes_and_opens_the_case(core: Core, alice: str, domain: dict,
                                                                     alice_card_active: dict[str, Any]) -> None:
    slots = {"fraud_kind": "lost_or_stolen_card", "fraud_card_id": alice_card_active["id"],
             "fraud_awaiting_freeze": True}
    out = await run(ActionHandleConfirmation(), tracker(alice, "yes please", "affirm", slots=slots), domain)
    assert core.card("alice")["status"] == "frozen"
    case = next(c for c in core.get("compliance", "/v1/fraud-cases", limit=200) if c["id"][:8].upper() in out.text)
    assert (case["kind"], case["card_frozen"]) == ("lost_or_stolen_card", True)
    assert out.slots["fraud_awaiting_freeze"] is None


async def test_yes_to_the_merchant_asked_about_answers_with_that_merchant(core: Core, alice: str,
                                                                          domain: dict) -> None:
    guess = json.dumps({"merchant": "Starbucks", "period": "last month"})
    out = await run(ActionHandleConfirmation(), tracker(alice, "yes", "affirm", slots={"spending_guess": guess}),
                    domain)
    start, end, label = last_month()
    spent = core.get("alice", "/v1/insights/spending", **{"from": start, "to": end}, merchant="Starbucks")
    assert out.said == [total_sentence(spent, "at Starbucks", label)]
    assert out.slots["spending_guess"] is None


async def test_no_to_the_merchant_asked_about_drops_the_guess(alice: str, domain: dict) -> None:
    guess = json.dumps({"merchant": "Starbucks", "period": "last month"})
    out = await run(ActionHandleConfirmation(), tracker(alice, "no", "deny", slots={"spending_guess": guess}),
                    domain)
    assert out.responses == ["utter_spending_guess_declined"]
    assert out.said == ["OK. Tell me the merchant's name as it appears on your statement, or pick a category."]
    assert out.slots == {"spending_guess": None}


async def test_yes_with_nothing_pending_confirms_nothing(core: Core, alice: str, domain: dict,
                                                         alice_card_active: dict[str, Any]) -> None:
    out = await run(ActionHandleConfirmation(), tracker(alice, "yes", "affirm"), domain)
    assert out.said == ["There's nothing waiting for your confirmation. What can I do for you?"]
    assert out.events == []
    assert core.card("alice")["status"] == "active"
