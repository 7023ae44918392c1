"""Low confidence: ask which of the top candidate intents was meant, as buttons."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

CANDIDATES = 3
MIN_CANDIDATE_CONFIDENCE = 0.05
SKIP = {"nlu_fallback", "affirm", "deny", "greet", "goodbye", "thank_you"}


def title_for(intent_name: str) -> str:
    return intent_name.rstrip("?").replace("_", " ").capitalize()


class ActionClarify(Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        options = [r["name"] for r in ranking
                   if r.get("name") not in SKIP and float(r.get("confidence") or 0) >= MIN_CANDIDATE_CONFIDENCE]
        if not options:
            dispatcher.utter_message(text="Sorry, that's not something I can help with. I can answer questions about "
                                          "your accounts, spending, transfers and cards, or connect you to a person.")
            return []
        dispatcher.utter_message(text="Sorry, I'm not sure I understood. Did you mean one of these?",
                                 buttons=[{"title": title_for(n), "payload": f"/{n}"} for n in options[:CANDIDATES]]
                                 + [{"title": "Something else: talk to a person", "payload": "/request_human"}])
        return []
