"""Cards: freeze, unfreeze, delivery status. Which card: the one named, the only one, or ask."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    CoreError,
    CoreUnavailable,
    button,
    core_down,
    core_for,
    entity,
    short_date,
    text_of,
)
from actions.understanding.card_wish import card_wish
from actions.understanding.categories import find_card_last4


def pick_card(tracker: Tracker, cards: list[dict[str, Any]], usable: set[str]) -> tuple[dict | None, list[dict]]:
    """The card the customer means, or None and the candidates to ask about."""
    wanted = entity(tracker, "card_last4") or find_card_last4(text_of(tracker))
    candidates = [c for c in cards if c["status"] in usable]
    if wanted:
        named = [c for c in cards if c["last4"] == wanted]
        return (named[0], []) if named else (None, candidates)
    return (candidates[0], []) if len(candidates) == 1 else (None, candidates)


class _SetFrozen:
    """Shared run() of freeze and unfreeze (a mixin: rasa_sdk registers every Action subclass)."""

    frozen: bool

    def name(self) -> str:
        raise NotImplementedError

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        verb = "freeze" if self.frozen else "unfreeze"
        wish = card_wish(text_of(tracker))
        if wish is not None and wish != verb:  # the words say the opposite of the intent: the words win
            other: _SetFrozen = ActionUnfreezeCard() if self.frozen else ActionFreezeCard()
            return await other.run(dispatcher, tracker, domain)
        client = core_for(tracker)
        card: dict[str, Any] | None = None
        try:
            cards = await client.cards()
            card, candidates = pick_card(tracker, cards, {"active"} if self.frozen else {"frozen"})
            if card is None:
                if not candidates:
                    all_already = "utter_cards_all_frozen" if self.frozen else "utter_cards_all_active"
                    dispatcher.utter_message(response=all_already if cards else "utter_no_card")
                    return []
                dispatcher.utter_message(response=f"utter_ask_card_to_{verb}", buttons=[
                    button(f"{c['brand'].title()} ending {c['last4']}", self.name().removeprefix("action_"),
                           card_last4=c["last4"]) for c in candidates])
                return []
            result = await client.set_card_frozen(card["id"], self.frozen)
        except CoreUnavailable:
            return core_down(dispatcher)
        except CoreError as error:
            if error.code == "card_blocked_after_report" and card is not None:
                dispatcher.utter_message(response="utter_card_blocked_after_report", last4=card["last4"])
            else:
                dispatcher.utter_message(response=f"utter_card_{verb}_failed", reason=error.title or error.code)
            return []
        dispatcher.utter_message(response="utter_card_frozen" if self.frozen else "utter_card_unfrozen",
                                 last4=result["last4"])
        return []


class ActionFreezeCard(_SetFrozen, Action):
    frozen = True

    def name(self) -> str:
        return "action_freeze_card"


class ActionUnfreezeCard(_SetFrozen, Action):
    frozen = False

    def name(self) -> str:
        return "action_unfreeze_card"


class ActionCardStatus(Action):
    """card_arrival / card_delivery_estimate, from the card's shipping dates."""

    def name(self) -> str:
        return "action_card_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            client = core_for(tracker)
            cards, me = await asyncio.gather(client.cards(), client.me())
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        tz = me.get("timezone") or "UTC"
        if not cards:
            dispatcher.utter_message(response="utter_no_card_ordered")
            return []
        # The delivery promise (`arrives_by`) is the core's (api/cards/delivery.py); this only words it.
        lines = []
        for c in cards:
            if c.get("delivered_at"):
                lines.append(f"Your card ending {c['last4']} was delivered on {short_date(c['delivered_at'], tz)}"
                             f" and is {c['status']}.")
            elif c.get("shipped_at"):
                lines.append(f"Your card ending {c['last4']} was posted on {short_date(c['shipped_at'], tz)} "
                             f"and should arrive by {short_date(c['arrives_by'], tz)}.")
            else:
                lines.append(f"Your card ending {c['last4']} is being made and should arrive by "
                             f"{short_date(c['arrives_by'], tz)}.")
        on_its_way = any(not c.get("delivered_at") for c in cards)
        dispatcher.utter_message(response="utter_card_status_on_its_way" if on_its_way else "utter_card_status",
                                 lines="\n".join(lines))
        return []
