"""The fraud intents: find the card or payment, offer to freeze the card, open a case (read back as compliance)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actions.fraud import ActionOpenFraudCase, ActionReportFraud
from actions_tests.conftest import Core
from actions_tests.support import covers, run, tracker, with_events

pytestmark = pytest.mark.anyio


def case_said(core: Core, text: str) -> dict[str, Any]:
    """The fraud case whose short id the assistant told the customer, as compliance sees it."""
    cases = [c for c in core.get("compliance", "/v1/fraud-cases", limit=200) if c["id"][:8].upper() in text]
    assert len(cases) == 1, text
    return cases[0]


@covers(ActionReportFraud, ActionOpenFraudCase)
async def test_lost_card_yes_to_freezing_opens_the_case_and_freezes(core: Core, alice: str, domain: dict,
                                                                    alice_card_active: dict[str, Any]) -> None:
    card = alice_card_active
    asked = await run(ActionReportFraud(), tracker(alice, "I lost my card", "lost_or_stolen_card"), domain)
    assert asked.said[0].startswith(f"To keep your money safe, shall I freeze your card ending {card['last4']} "
                                    "right now?")
    assert [b["payload"] for b in asked.buttons] == ["/affirm", "/deny"]
    assert asked.slots == {"fraud_kind": "lost_or_stolen_card", "fraud_card_id": card["id"],
                           "fraud_transaction_id": None, "fraud_awaiting_freeze": True}
    assert core.card("alice")["status"] == "active"  # nothing happens before the customer answers

    slots = with_events({}, asked.events)
    opened = await run(ActionOpenFraudCase(), tracker(alice, "yes", "affirm", slots=slots), domain)
    case = case_said(core, opened.text)
    assert (case["kind"], case["card_id"], case["card_frozen"], case["status"]) == \
        ("lost_or_stolen_card", card["id"], True, "open")
    assert core.card("alice")["status"] == "frozen"
    assert opened.said == [f"I've opened fraud case {case['id'][:8].upper()}. Your card is frozen. "
                           f"{case['next_steps']}"]
    assert all(value is None for value in opened.slots.values())
    assert set(opened.slots) == {"fraud_kind", "fraud_card_id", "fraud_transaction_id", "fraud_awaiting_freeze"}


@covers(ActionOpenFraudCase)
async def test_no_to_freezing_opens_the_case_and_keeps_the_card(core: Core, alice: str, domain: dict,
                                                                alice_card_active: dict[str, Any]) -> None:
    slots = {"fraud_kind": "compromised_card", "fraud_card_id": alice_card_active["id"],
             "fraud_awaiting_freeze": True}
    out = await run(ActionOpenFraudCase(), tracker(alice, "no, keep it active", "deny", slots=slots), domain)
    case = case_said(core, out.text)
    assert (case["kind"], case["card_frozen"]) == ("compromised_card", False)
    assert "Your card is frozen" not in out.text
    assert core.card("alice")["status"] == "active"


@covers(ActionOpenFraudCase)
async def test_open_case_with_nothing_asked_opens_nothing(core: Core, alice: str, domain: dict) -> None:
    before = len(core.get("compliance", "/v1/fraud-cases", limit=200))
    out = await run(ActionOpenFraudCase(), tracker(alice, "yes", "affirm"), domain)
    assert out.said == ["There's nothing waiting for your answer."]
    assert out.events == []
    assert len(core.get("compliance", "/v1/fraud-cases", limit=200)) == before


@covers(ActionReportFraud)
async def test_a_payment_not_recognised_offers_the_recent_card_payments(core: Core, alice: str, domain: dict,
                                                                        alice_card_active: dict[str, Any]) -> None:
    out = await run(ActionReportFraud(), tracker(alice, "I don't recognise a payment", "card_payment_not_recognised"),
                    domain)
    assert out.said == ["I'm sorry. Which one don't you recognise?"]
    assert out.slots == {"fraud_kind": "card_payment_not_recognised"}
    recent = [t for t in core.get("alice", "/v1/transactions", limit=50)["items"]
              if t["kind"] == "card_payment" and t["amount"].startswith("-") and t["category"] != "cash"][:4]
    offered = [json.loads(b["payload"].removeprefix("/card_payment_not_recognised"))["transaction_id"]
               for b in out.buttons]
    assert offered == [t["id"] for t in recent]
    assert all(b["payload"].startswith("/card_payment_not_recognised{") for b in out.buttons)

    # The customer picks one: with the card still active, the freeze question comes next.
    chosen = recent[0]["id"]
    then = await run(ActionReportFraud(), tracker(alice, "", "card_payment_not_recognised",
                                                  entities={"transaction_id": chosen}), domain)
    assert then.slots["fraud_transaction_id"] == chosen and then.slots["fraud_awaiting_freeze"] is True
    opened = await run(ActionOpenFraudCase(), tracker(alice, "no", "deny", slots=with_events({}, then.events)),
                       domain)
    case = case_said(core, opened.text)
    assert (case["transaction_id"], case["card_frozen"]) == (chosen, False)


@covers(ActionReportFraud)
async def test_an_already_frozen_card_gets_its_case_at_once(core: Core, alice: str, domain: dict,
                                                            alice_card_active: dict[str, Any]) -> None:
    core.set_card("alice", "frozen")
    out = await run(ActionReportFraud(), tracker(alice, "my card was stolen", "lost_or_stolen_card"), domain)
    assert out.said[0] == f"Your card ending {alice_card_active['last4']} is already frozen."
    case = case_said(core, out.said[1])
    assert (case["kind"], case["card_id"]) == ("lost_or_stolen_card", alice_card_active["id"])
    assert out.slots["fraud_awaiting_freeze"] is None
    assert core.card("alice")["status"] == "frozen"


@covers(ActionOpenFraudCase)
async def test_a_case_the_core_refuses_escalates_to_a_person(core: Core, alice: str, domain: dict) -> None:
    """The core will not open the case (a card it does not know for this customer): a handoff opens with
    reason fraud_escalation and the bot pauses, rather than leaving the customer with a phone number."""
    slots = {"fraud_kind": "compromised_card", "fraud_card_id": "3f0e7c1a-3333-4222-8333-444455556666",
             "fraud_awaiting_freeze": True}
    out = await run(ActionOpenFraudCase(), tracker(alice, "yes", "affirm", slots=slots), domain)
    assert out.said[0].startswith("I couldn't open the case (No such card), so I've asked a colleague")
    assert out.kinds()[-1] == "pause"
    assert set(out.slots) == {"fraud_kind", "fraud_card_id", "fraud_transaction_id", "fraud_awaiting_freeze"}
    queued = [h for h in core.get("agent", "/v1/handoffs", status="waiting") if h["conversation_id"] == alice]
    assert [h["reason"] for h in queued] == ["fraud_escalation"]
