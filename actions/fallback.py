"""Low confidence: a follow-up to the last spending question is answered; something that is not about
banking gets the out-of-scope answer; otherwise ask which of the top candidate intents was meant."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import text_of
from actions.spending import ActionAnswerSpending, context_of, is_follow_up
from actions.understanding.categories import find_category
from actions.understanding.periods import asks_for_period_before, find_period_phrase

CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.05
SKIP = {"nlu_fallback", "affirm", "deny", "greet", "goodbye", "thank_you", "out_of_scope"}


def title_for(intent_name: str) -> str:
    return intent_name.rstrip("?").replace("_", " ").capitalize()


def changes_a_spending_filter(text: str) -> bool:
    """ "and in October?", "what about groceries?", "and the one before that?" """
    return is_follow_up(text) and bool(find_period_phrase(text) or find_category(text) or asks_for_period_before(text))


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = text_of(tracker)
        if context_of(tracker) and changes_a_spending_filter(text):
            return await ActionAnswerSpending().run(dispatcher, tracker, domain)
        ranking = tracker.latest_message.get("intent_ranking") or []
        top = next((r.get("name") for r in ranking if r.get("name") != "nlu_fallback"), None)
        if top == "out_of_scope":
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        options = [r["name"] for r in ranking
                   if r.get("name") not in SKIP and float(r.get("confidence") or 0) >= MIN_CANDIDATE_CONFIDENCE]
        if not options:
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        dispatcher.utter_message(text="Sorry, I'm not sure I understood. Did you mean one of these?",
                                 buttons=[{"title": title_for(n), "payload": f"/{n}"} for n in options[:CANDIDATES]]
                                 + [{"title": "Something else: talk to a person", "payload": "/request_human"}])
        return []
