"""One place answers "yes" and "no": to the pending transfer, the pending freeze question, or nothing."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fraud import ActionOpenFraudCase
from actions.transfers import ActionCancelTransfer, ActionExecuteTransfer


class ActionHandleConfirmation(Action):
    def name(self) -> str:
        return "action_handle_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        said_yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        if tracker.get_slot("transfer_awaiting_confirmation"):
            action = ActionExecuteTransfer() if said_yes else ActionCancelTransfer()
            return await action.run(dispatcher, tracker, domain)
        if tracker.get_slot("fraud_awaiting_freeze"):
            return await ActionOpenFraudCase().run(dispatcher, tracker, domain)
        dispatcher.utter_message(text="There's nothing waiting for your confirmation. What can I do for you?")
        return []
