"""The five fraud intents: find the card or transaction, offer to freeze the card, open a case.

A case the bot cannot settle escalates to a person: when the core refuses to open the case (a card or
transaction it cannot take the report for, a rule the bot cannot explain its way around), a handoff
opens with reason `fraud_escalation` and the bot pauses, instead of only giving the phone number. When
the core cannot be reached at all, no handoff can open either: the customer gets the 24/7 number.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.cards import pick_card
from actions.common import (
    CoreClient,
    CoreError,
    CoreUnavailable,
    button,
    core_down,
    core_for,
    entity,
    intent,
    short_date,
)
from actions.formatting import money
from actions.handoff import FRAUD_ESCALATION, escalate

CARD_KINDS = ("lost_or_stolen_card", "compromised_card")
TRANSACTION_KINDS = ("card_payment_not_recognised", "cash_withdrawal_not_recognised",
                     "direct_debit_payment_not_recognised")
FRAUD_SLOTS = ("fraud_kind", "fraud_card_id", "fraud_transaction_id", "fraud_awaiting_freeze")
CANDIDATES = 4


class ActionReportFraud(Action):
    def name(self) -> str:
        return "action_report_fraud"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        kind = intent(tracker)
        client = core_for(tracker)
        try:
            cards = await client.cards()
            card, options = pick_card(tracker, cards, {"active", "frozen"})
            transaction_id = entity(tracker, "transaction_id")
            if kind in TRANSACTION_KINDS and not transaction_id:
                me = await client.me()
                recent = await client.report_candidates(kind, CANDIDATES)
                if recent:
                    tz = me.get("timezone") or "UTC"
                    dispatcher.utter_message(response="utter_ask_transaction_not_recognised", buttons=[
                        button(f"{i.get('merchant') or i.get('description')} {money(i['amount'][1:], i['currency'])}"
                               f" on {short_date(i['posted_at'], tz)}", kind, transaction_id=i["id"])
                        for i in recent])
                    return [SlotSet("fraud_kind", kind)]
            if card is None and options:
                dispatcher.utter_message(response="utter_ask_fraud_card", buttons=[
                    button(f"Card ending {c['last4']}", kind, card_last4=c["last4"]) for c in options])
                return [SlotSet("fraud_kind", kind)]
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        events = [SlotSet("fraud_kind", kind), SlotSet("fraud_card_id", card["id"] if card else None),
                  SlotSet("fraud_transaction_id", transaction_id)]
        if card is None:
            return [*events, *await _open_case(dispatcher, client, kind, None, transaction_id, freeze=False)]
        if card["status"] == "frozen":
            dispatcher.utter_message(response="utter_card_already_frozen", last4=card["last4"])
            return [*events, *await _open_case(dispatcher, client, kind, card["id"], transaction_id, freeze=False)]
        dispatcher.utter_message(response="utter_ask_freeze_for_fraud", last4=card["last4"])
        return [*events, SlotSet("fraud_awaiting_freeze", True)]


async def _open_case(dispatcher: CollectingDispatcher, client: CoreClient, kind: str, card_id: str | None,
                     transaction_id: str | None, *, freeze: bool) -> list[dict[str, Any]]:
    body = {"kind": kind, "card_id": card_id, "transaction_id": transaction_id, "freeze_card": freeze}
    try:
        case = await client.report_fraud({k: v for k, v in body.items() if v is not None})
    except CoreUnavailable:
        dispatcher.utter_message(response="utter_fraud_systems_unavailable")
        return [SlotSet(s, None) for s in FRAUD_SLOTS]
    except CoreError as error:
        reset = [SlotSet(s, None) for s in FRAUD_SLOTS]
        problem = error.title or error.code
        paused = await escalate(dispatcher, client, FRAUD_ESCALATION, response="utter_fraud_case_failed_escalated",
                                problem=problem)
        if paused is not None:
            return [*reset, *paused]
        dispatcher.utter_message(response="utter_fraud_case_failed", problem=problem)
        return reset
    dispatcher.utter_message(response="utter_fraud_case_opened_card_frozen" if case["card_frozen"]
                             else "utter_fraud_case_opened", case=case["id"][:8].upper(), next_steps=case["next_steps"])
    return [SlotSet(s, None) for s in FRAUD_SLOTS]


class ActionOpenFraudCase(Action):
    """After the freeze question: yes freezes the card in the same step as opening the case."""

    def name(self) -> str:
        return "action_open_fraud_case"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        kind = tracker.get_slot("fraud_kind")
        if not tracker.get_slot("fraud_awaiting_freeze") or not kind:
            dispatcher.utter_message(response="utter_nothing_awaiting_answer")
            return []
        return await _open_case(dispatcher, core_for(tracker), kind, tracker.get_slot("fraud_card_id"),
                                tracker.get_slot("fraud_transaction_id"), freeze=intent(tracker) == "affirm")
