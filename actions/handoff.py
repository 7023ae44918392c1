"""request_human: ask the core for a support agent and pause the bot until the agent hands back.

The core decides everything (one open handoff per conversation, who may claim it); this action only
asks, tells the customer what happens next and pauses. If the core cannot open a handoff, the customer
gets the support contacts instead, and the bot keeps answering. Other flows escalate the same way
(`escalate`), each with its reason: two fallbacks in a row (actions/fallback.py) and a fraud report the
bot cannot settle (actions/fraud.py).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreClient, CoreError, CoreUnavailable, core_for

# Codes, never the customer's words: the core stores them unredacted (api/handoffs/service.py REASONS).
REASON = "customer_request"
REPEATED_FALLBACK = "repeated_fallback"
FRAUD_ESCALATION = "fraud_escalation"


async def escalate(dispatcher: CollectingDispatcher, client: CoreClient, reason: str, *, response: str,
                   **values: Any) -> list[dict[str, Any]] | None:
    """Open a handoff for `reason`, say `response` filled with `values`, pause the bot; None if the core cannot."""
    try:
        await client.open_handoff(reason)
    except (CoreUnavailable, CoreError):
        return None
    dispatcher.utter_message(response=response, **values)
    # Rasa stops predicting; user messages are still logged (and reach the transcript via the broker)
    # until the agent releases the conversation with a `resume` event.
    return [ConversationPaused()]


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        paused = await escalate(dispatcher, core_for(tracker), REASON, response="utter_handoff_started")
        if paused is None:
            dispatcher.utter_message(response="utter_request_human")
            return []
        return paused
