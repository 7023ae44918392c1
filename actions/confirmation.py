"""One place answers "yes" and "no" outside a form: to the pending freeze question, or nothing.

A transfer's yes and no are answered inside transfer_form (actions/transfers.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fraud import ActionOpenFraudCase


class ActionHandleConfirmation(Action):
    def name(self) -> str:
        return "action_handle_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if tracker.get_slot("fraud_awaiting_freeze"):
            return await ActionOpenFraudCase().run(dispatcher, tracker, domain)
        dispatcher.utter_message(text="There's nothing waiting for your confirmation. What can I do for you?")
        return []
