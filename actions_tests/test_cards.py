"""Freeze, unfreeze and card delivery status: the card's state read back from the core."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from actions.cards import ActionCardStatus, ActionFreezeCard, ActionUnfreezeCard
from actions_tests.conftest import Core
from actions_tests.support import covers, day, run, tracker

pytestmark = pytest.mark.anyio


@covers(ActionFreezeCard, ActionUnfreezeCard)
async def test_freeze_then_unfreeze_the_only_card(core: Core, alice: str, domain: dict,
                                                  alice_card_active: dict[str, Any]) -> None:
    last4 = alice_card_active["last4"]
    frozen = await run(ActionFreezeCard(), tracker(alice, "freeze my card", "freeze_card"), domain)
    assert core.card("alice")["status"] == "frozen"
    assert frozen.said[0].startswith(f"Your card ending {last4} is frozen: no new payments")
    assert frozen.events == []

    again = await run(ActionFreezeCard(), tracker(alice, "freeze my card", "freeze_card"), domain)
    assert again.said == ["All your cards are already frozen."]
    assert core.card("alice")["status"] == "frozen"

    active = await run(ActionUnfreezeCard(), tracker(alice, "unfreeze my card", "unfreeze_card"), domain)
    assert active.said == [f"Your card ending {last4} is active again."]
    assert core.card("alice")["status"] == "active"


@covers(ActionFreezeCard)
async def test_freeze_the_card_named_by_its_last_digits(core: Core, alice: str, domain: dict,
                                                        alice_card_active: dict[str, Any]) -> None:
    last4 = alice_card_active["last4"]
    out = await run(ActionFreezeCard(), tracker(alice, f"freeze the card ending {last4}", "freeze_card",
                                                entities={"card_last4": last4}), domain)
    assert out.said[0].startswith(f"Your card ending {last4} is frozen")
    assert core.card("alice")["status"] == "frozen"
    assert core.card("bob")["status"] == "active"  # the conversation acts for alice only


@covers(ActionUnfreezeCard)
async def test_unfreeze_when_nothing_is_frozen_changes_nothing(core: Core, alice: str, domain: dict,
                                                               alice_card_active: dict[str, Any]) -> None:
    out = await run(ActionUnfreezeCard(), tracker(alice, "unfreeze my card", "unfreeze_card"), domain)
    assert out.said == ["All your cards are already active."]
    assert core.card("alice")["status"] == "active"


@covers(ActionFreezeCard)
async def test_a_card_number_that_is_not_the_customers_is_asked_back(core: Core, alice: str, domain: dict,
                                                                     alice_card_active: dict[str, Any]) -> None:
    bobs = core.card("bob")["last4"]
    out = await run(ActionFreezeCard(), tracker(alice, f"freeze card {bobs}", "freeze_card",
                                                entities={"card_last4": bobs}), domain)
    assert out.said == ["Which card should I freeze?"]
    assert [b["title"] for b in out.buttons] == [f"Visa ending {alice_card_active['last4']}"]
    assert out.buttons[0]["payload"] == f'/freeze_card{{"card_last4":"{alice_card_active["last4"]}"}}'
    assert core.card("alice")["status"] == "active" and core.card("bob")["status"] == "active"


@covers(ActionCardStatus)
async def test_card_status_says_when_it_was_delivered(core: Core, alice: str, domain: dict,
                                                      alice_card_active: dict[str, Any]) -> None:
    out = await run(ActionCardStatus(), tracker(alice, "has my card arrived?", "card_arrival"), domain)
    card = core.card("alice")
    assert card["delivered_at"]
    assert out.said == [f"Your card ending {card['last4']} was delivered on {day(card['delivered_at'])} and is "
                        "active."]
    assert out.events == []


@covers(ActionCardStatus)
async def test_a_card_in_the_post_gets_the_cores_promised_day(core: Core, alice: str, domain: dict,
                                                               alice_card_active: dict[str, Any]) -> None:
    """The day is the core's (five business days after posting), and the customer hears what to do after it."""
    core.set_card_delivered("alice", False)
    try:
        out = await run(ActionCardStatus(), tracker(alice, "where is my new card?", "card_arrival"), domain)
        card = core.card("alice")
    finally:
        core.set_card_delivered("alice", True)
    assert card["delivered_at"] is None and card["arrives_by"]
    posted = date.fromisoformat(card["shipped_at"][:10])
    promised = date.fromisoformat(card["arrives_by"])
    assert (promised - posted).days in (5, 6, 7)  # five business days: a weekend in between or not
    assert out.said == [f"Your card ending {card['last4']} was posted on {day(card['shipped_at'])} and should "
                        f"arrive by {day(card['arrives_by'])}.\nIf a card hasn't arrived by then, tell me: I can "
                        "freeze it and order a new one."]


@covers(ActionUnfreezeCard)
async def test_a_card_blocked_after_a_report_is_not_unfrozen(core: Core, alice: str, domain: dict,
                                                             alice_card_active: dict) -> None:
    """After "my card was stolen" the block is the bank's: the assistant says how to replace or review it."""
    conversation = core.message("alice", alice, "my card was stolen")
    core.post("alice", "/v1/fraud-reports", {"kind": "lost_or_stolen_card", "card_id": alice_card_active["id"],
                                             "freeze_card": True, "description": "stolen on the bus"})
    out = await run(ActionUnfreezeCard(), tracker(conversation, "unfreeze my card", "unfreeze_card"), domain)
    assert out.responses == ["utter_card_blocked_after_report"], out.messages
    assert alice_card_active["last4"] in out.text
    assert core.card("alice")["status"] == "frozen"


@covers(ActionUnfreezeCard)
async def test_freeze_words_misread_as_unfreeze_still_freeze(core: Core, alice: str, domain: dict,
                                                             alice_card_active: dict[str, Any]) -> None:
    # A fraud victim's "pls freeze card asap" was once classified unfreeze_card: the words win.
    out = await run(ActionUnfreezeCard(), tracker(alice, "pls freeze card asap", "unfreeze_card"), domain)
    assert out.said[0].startswith(f"Your card ending {alice_card_active['last4']} is frozen")
    assert core.card("alice")["status"] == "frozen"
