"""request_human: ask the core for a support agent and pause the bot until the agent hands back.

The core decides everything (one open handoff per conversation, who may claim it); this action only
asks, tells the customer what happens next and pauses. If the core cannot open a handoff, the customer
gets the support contacts instead, and the bot keeps answering.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreError, CoreUnavailable, core_for

REASON = "customer_request"  # a code, never the customer's words: the core stores it unredacted


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            await core_for(tracker).open_handoff(REASON)
        except (CoreUnavailable, CoreError):
            dispatcher.utter_message(response="utter_request_human")
            return []
        dispatcher.utter_message(response="utter_handoff_started")
        # Rasa stops predicting; user messages are still logged (and reach the transcript via the broker)
        # until the agent releases the conversation with a `resume` event.
        return [ConversationPaused()]
