"""One place answers "yes" and "no" outside a form: to the pending freeze question, to the merchant the
bot asked about, or nothing.

A transfer's yes and no are answered inside transfer_form (actions/transfers.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fraud import ActionOpenFraudCase
from actions.spending import ActionConfirmMerchantGuess


class ActionHandleConfirmation(Action):
    def name(self) -> str:
        return "action_handle_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if tracker.get_slot("fraud_awaiting_freeze"):
            return await ActionOpenFraudCase().run(dispatcher, tracker, domain)
        if tracker.get_slot("spending_guess"):
            if (tracker.latest_message.get("intent") or {}).get("name") == "affirm":
                return await ActionConfirmMerchantGuess().run(dispatcher, tracker, domain)
            dispatcher.utter_message(response="utter_spending_guess_declined")
            return [SlotSet("spending_guess", None)]
        dispatcher.utter_message(response="utter_nothing_to_confirm")
        return []
