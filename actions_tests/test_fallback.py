"""action_clarify and action_out_of_scope: the conversation's own reading first (a follow-up of the last
spending question, a misspelt transfer request), then the candidates as buttons or what the bot can do."""

from __future__ import annotations

import json

import pytest

from actions.fallback import STREAK_SLOT, ActionClarify, ActionOutOfScope
from actions_tests.conftest import Core
from actions_tests.support import covers, eur, last_month, run, total_sentence, tracker

pytestmark = pytest.mark.anyio

UNSURE = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "card_arrival", "confidence": 0.31},
          {"name": "greet", "confidence": 0.2}, {"name": "card_delivery_estimate", "confidence": 0.18},
          {"name": "lost_or_stolen_card", "confidence": 0.09}, {"name": "top_up_failed", "confidence": 0.04}]


def coffee_last_month() -> str:
    start, end, label = last_month()
    return json.dumps({"merchant": None, "category": "coffee", "start": start, "end": end, "label": label})


@covers(ActionClarify)
async def test_unsure_offers_the_likely_intents_and_a_person(alice: str, domain: dict) -> None:
    out = await run(ActionClarify(), tracker(alice, "my thing hasnt come yet", "nlu_fallback", confidence=0.7,
                                             ranking=UNSURE), domain)
    assert out.said == ["Sorry, I'm not sure I understood. Did you mean one of these?"]
    assert out.buttons == [{"title": "Card arrival", "payload": "/card_arrival"},
                           {"title": "Card delivery estimate", "payload": "/card_delivery_estimate"},
                           {"title": "Lost or stolen card", "payload": "/lost_or_stolen_card"},
                           {"title": "Something else: talk to a person", "payload": "/request_human"}]
    assert out.events == [{"event": "slot", "timestamp": None, "name": STREAK_SLOT, "value": 1}]


@covers(ActionClarify)
async def test_unsure_about_something_out_of_scope_says_what_the_bot_does(alice: str, domain: dict) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "out_of_scope", "confidence": 0.5},
               {"name": "card_arrival", "confidence": 0.1}]
    out = await run(ActionClarify(), tracker(alice, "who won the match", "nlu_fallback", ranking=ranking), domain)
    assert out.responses == ["utter_out_of_scope"]
    assert out.said[0].startswith("That's not something I can help with: I'm the bank's assistant.")


@covers(ActionClarify)
async def test_a_misspelt_transfer_request_goes_to_the_transfer_form(alice: str, domain: dict) -> None:
    out = await run(ActionClarify(), tracker(alice, "transfr 70 to my savigns", "nlu_fallback", ranking=UNSURE),
                    domain)
    assert out.followup() == "transfer_form"
    assert out.messages == []


@covers(ActionClarify)
async def test_unsure_follow_up_of_a_spending_answer_is_answered(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionClarify(), tracker(alice, "and groceries?", "nlu_fallback", ranking=UNSURE,
                                             slots={"spending_context": coffee_last_month()}), domain)
    start, end, label = last_month()
    spent = core.get("alice", "/v1/insights/spending", **{"from": start, "to": end}, category="groceries")
    assert out.said[0].startswith(f"You spent {eur(spent['total'])} on groceries {label} "
                                  f"({spent['count']} payments).")


@covers(ActionOutOfScope)
async def test_out_of_scope_is_told_what_the_bot_can_do(alice: str, domain: dict) -> None:
    out = await run(ActionOutOfScope(), tracker(alice, "what's the weather in Cork", "out_of_scope"), domain)
    assert out.responses == ["utter_out_of_scope"]
    assert "/request_human" in [b["payload"] for b in domain["responses"]["utter_out_of_scope"][0]["buttons"]]
    assert out.events == []


@covers(ActionOutOfScope)
async def test_out_of_scope_follow_up_with_a_merchant_is_answered(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionOutOfScope(), tracker(alice, "and spotify?", "out_of_scope",
                                                slots={"spending_context": coffee_last_month()}), domain)
    start, end, label = last_month()
    spent = core.get("alice", "/v1/insights/spending", **{"from": start, "to": end}, merchant="Spotify")
    assert spent["count"] == 1  # one subscription payment a month
    assert out.said == [f"You spent {eur(spent['total'])} at Spotify {label} (1 payment)."]
    assert json.loads(out.slots["spending_context"])["merchant"] == "Spotify"


@covers(ActionOutOfScope)
async def test_out_of_scope_yes_to_a_merchant_guess_answers_it(core: Core, alice: str, domain: dict) -> None:
    guess = json.dumps({"merchant": "Netflix", "period": "last month"})
    out = await run(ActionOutOfScope(), tracker(alice, "yeah", "out_of_scope", slots={"spending_guess": guess}),
                    domain)
    start, end, label = last_month()
    spent = core.get("alice", "/v1/insights/spending", **{"from": start, "to": end}, merchant="Netflix")
    assert out.said == [total_sentence(spent, "at Netflix", label)]


def after_a_fallback(sender: str, text: str, streak: float, previous_action: str = "action_clarify") -> dict:
    """The events of a conversation whose last bot turn was `previous_action`, then the customer's `text`."""
    latest = {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.7}, "entities": [],
              "intent_ranking": UNSURE}
    return {"events": [{"event": "action", "name": "action_listen"}, {"event": "user", "text": "blah"},
                       {"event": "action", "name": previous_action},
                       {"event": "slot", "name": STREAK_SLOT, "value": streak},
                       {"event": "action", "name": "action_listen"}, {"event": "user", "text": text,
                                                                      "parse_data": latest}],
            "slots": {STREAK_SLOT: streak}}


def waiting_handoffs(core: Core, conversation_id: str) -> list[dict]:
    return [h for h in core.get("agent", "/v1/handoffs", status="waiting") if h["conversation_id"] == conversation_id]


@covers(ActionClarify)
async def test_a_second_fallback_in_a_row_opens_a_handoff(core: Core, alice: str, domain: dict) -> None:
    assert waiting_handoffs(core, alice) == []
    previous = after_a_fallback(alice, "my thing hasnt come yet", 1)
    out = await run(ActionClarify(), tracker(alice, "my thing hasnt come yet", "nlu_fallback", confidence=0.7,
                                             ranking=UNSURE, **previous), domain)
    assert out.responses == ["utter_handoff_after_fallbacks"]
    assert "asked a colleague" in out.text
    assert out.kinds() == ["slot", "pause"] and out.slots == {STREAK_SLOT: 0}
    queued = waiting_handoffs(core, alice)
    assert [(h["reason"], h["customer_name"]) for h in queued] == [("repeated_fallback", "Alice Martin")]


@covers(ActionClarify)
async def test_a_fallback_after_another_answer_starts_counting_again(core: Core, alice: str, domain: dict) -> None:
    # A stale streak in the slot, but the bot's last turn was something else: this is the first fallback.
    previous = after_a_fallback(alice, "my thing hasnt come yet", 1, previous_action="action_check_balance")
    out = await run(ActionClarify(), tracker(alice, "my thing hasnt come yet", "nlu_fallback", confidence=0.7,
                                             ranking=UNSURE, **previous), domain)
    assert out.responses == ["utter_clarify"] and out.slots == {STREAK_SLOT: 1}
    assert "pause" not in out.kinds()
    assert waiting_handoffs(core, alice) == []


@covers(ActionClarify)
async def test_a_second_fallback_without_the_core_asks_as_usual(domain: dict) -> None:
    unknown = "3f0e7c1a-2222-4222-8333-444455556666"  # no conversation the core knows: no handoff opens
    previous = after_a_fallback(unknown, "my thing hasnt come yet", 1)
    out = await run(ActionClarify(), tracker(unknown, "my thing hasnt come yet", "nlu_fallback", confidence=0.7,
                                             ranking=UNSURE, **previous), domain)
    assert out.responses == ["utter_clarify"] and out.slots == {STREAK_SLOT: 2}
    assert "pause" not in out.kinds()
