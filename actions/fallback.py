"""Messages the intent classifier was unsure of, or found to be about something other than banking.

Before saying so, the conversation is asked what the words can mean in context: a yes to the merchant
the bot asked about, a follow-up that changes one filter of the last spending question ("and spotify?",
"what about September?"), a transfer request with a misspelt verb ("transfr 70 to my savings"), or a
whole spending question (a category or merchant and a period) when spending is among the top intents.
Otherwise an out-of-scope message gets the plain answer of what the assistant can do, and an unsure one
the top candidate intents as buttons. The bot's fallback (action_clarify finding no meaning) twice in a
row opens a handoff to a person instead (reason `repeated_fallback`), counted in the `fallback_streak`
slot; an answer in context, or any other action in between, starts the count again.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreError, CoreUnavailable, core_for, text_of
from actions.handoff import REPEATED_FALLBACK, escalate
from actions.spending import (
    ActionAnswerSpending,
    ActionConfirmMerchantGuess,
    context_of,
    customer_merchants,
)
from actions.understanding.categories import find_category, find_merchant
from actions.understanding.periods import asks_for_period_before, find_period_phrase
from actions.understanding.spending_request import asks_about_money, follow_up_period_text, is_follow_up
from actions.understanding.transfer_request import is_affirmative_text, looks_like_transfer

CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.05
SKIP = {"nlu_fallback", "affirm", "deny", "greet", "goodbye", "thank_you", "out_of_scope"}
STREAK_SLOT = "fallback_streak"
FALLBACKS_BEFORE_HANDOFF = 2


def fallbacks_before(tracker: Tracker) -> int:
    """How many fallbacks in a row came right before this message: the slot, if the bot's last action
    before the message was the fallback itself (anything else in between breaks the streak)."""
    events = tracker.events
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    previous = next((e.get("name") for e in reversed(events[:last_user])
                     if e.get("event") == "action" and e.get("name") != "action_listen"), None)
    if previous != "action_clarify":
        return 0
    try:
        return max(0, int(float(tracker.get_slot(STREAK_SLOT) or 0)))
    except (TypeError, ValueError):
        return 0


def title_for(intent_name: str) -> str:
    return intent_name.rstrip("?").replace("_", " ").capitalize()


async def meaning_in_context(dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The events of answering the message as the conversation so far reads it, or None if it does not."""
    text = text_of(tracker)
    guess = tracker.get_slot("spending_guess")
    client = core_for(tracker)
    merchants: list[str] | None = None

    async def names_a_merchant() -> bool:
        """Whether the text names one of the customer's merchants exactly (their list fetched once)."""
        nonlocal merchants
        if merchants is None:
            merchants = await customer_merchants(client)
        return find_merchant(text, merchants, fuzzy=False) is not None

    try:
        if guess and (is_affirmative_text(text) or await names_a_merchant()):
            return await ActionConfirmMerchantGuess().run(dispatcher, tracker, domain)
        previous = context_of(tracker)
        if previous and is_follow_up(text) and (
                find_period_phrase(text) or find_category(text) or asks_for_period_before(text)
                or follow_up_period_text(text, previous.get("label")) or await names_a_merchant()):
            return await ActionAnswerSpending().run(dispatcher, tracker, domain)
        if looks_like_transfer(text, await client.accounts()):
            return [FollowupAction("transfer_form")]
        ranking = tracker.latest_message.get("intent_ranking") or []
        candidates = [r.get("name") for r in ranking if r.get("name") != "nlu_fallback"][:CANDIDATES]
        if ("spending_query" in candidates or asks_about_money(text)) and find_period_phrase(text) and (
                find_category(text, typos=False) or await names_a_merchant()):
            # Unsure of the intent, but the words are a whole spending question ("cash withdrawals in the
            # past 30 days", "what did Electric Ireland charge me in September", which BANKING77's
            # direct-debit intent took): the answer names its filter and period, so a misreading shows.
            return await ActionAnswerSpending().run(dispatcher, tracker, domain)
    except (CoreUnavailable, CoreError):
        return None
    return None


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        answered = await meaning_in_context(dispatcher, tracker, domain)
        if answered is not None:
            return [SlotSet(STREAK_SLOT, 0), *answered]
        streak = fallbacks_before(tracker) + 1
        if streak >= FALLBACKS_BEFORE_HANDOFF:
            paused = await escalate(dispatcher, core_for(tracker), REPEATED_FALLBACK,
                                    response="utter_handoff_after_fallbacks")
            if paused is not None:
                return [SlotSet(STREAK_SLOT, 0), *paused]
        ranking = tracker.latest_message.get("intent_ranking") or []
        top = next((r.get("name") for r in ranking if r.get("name") != "nlu_fallback"), None)
        options = [r["name"] for r in ranking
                   if r.get("name") not in SKIP and float(r.get("confidence") or 0) >= MIN_CANDIDATE_CONFIDENCE]
        if top == "out_of_scope" or not options:
            dispatcher.utter_message(response="utter_out_of_scope")
            return [SlotSet(STREAK_SLOT, streak)]
        dispatcher.utter_message(response="utter_clarify",
                                 buttons=[{"title": title_for(n), "payload": f"/{n}"} for n in options[:CANDIDATES]]
                                 + [{"title": "Something else: talk to a person", "payload": "/request_human"}])
        return [SlotSet(STREAK_SLOT, streak)]


class ActionOutOfScope(Action):
    """Not about banking, unless the conversation says otherwise ("and spotify?" after a spending answer)."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        answered = await meaning_in_context(dispatcher, tracker, domain)
        if answered is not None:
            return answered
        dispatcher.utter_message(response="utter_out_of_scope")
        return []
