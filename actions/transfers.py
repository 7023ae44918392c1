"""transfer_money: a form collects amount, recipient and source; a summary and an explicit yes follow.

The Idempotency-Key is the conversation id plus the form run's id (a slot set when the form starts),
so a retried or duplicated execute action sends the same key and the core moves the money once.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import CoreClient, CoreError, CoreUnavailable, button, core_down, entity, intent, text_of
from actions.formatting import money
from actions.understanding.amounts import format_for_api, parse_amount
from actions.understanding.categories import find_account, find_recipient

FORM_SLOTS = ("transfer_amount", "transfer_currency", "transfer_recipient_id", "transfer_recipient_name",
              "transfer_recipient_kind", "transfer_source_id", "transfer_run_id", "transfer_awaiting_confirmation",
              "transfer_candidates")

ADVICE = {
    "insufficient_funds": "There isn't enough money in that account. You could move money from savings first.",
    "kyc_required": "You need to verify your identity before you can move money: it takes about 2 minutes in the "
                    "app under Profile > Verify identity.",
    "transfer_limit_exceeded": "That's over the per-transfer limit. You can split it, or ask support to raise it.",
    "daily_limit_exceeded": "That would go over your 24-hour transfer limit. Try a smaller amount or wait a day.",
    "account_frozen": "That account is frozen, so money can't move from it. Contact support to unfreeze it.",
    "currency_mismatch": "That account holds a different currency; pick an account in the same currency.",
    "rate_limited": "You've made a lot of transfers in a short time. Please wait a minute and try again.",
}


def reset_slots() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


async def _accounts_and_payees(client: CoreClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return await client.accounts(), await client.payees()


class ValidateTransferForm(FormValidationAction):
    def name(self) -> str:
        return "validate_transfer_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        return ["transfer_amount", "transfer_recipient_id", "transfer_source_id"]

    async def extract_transfer_amount(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                      domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("transfer_amount"):
            return {}
        parsed = parse_amount(entity(tracker, "amount") or text_of(tracker))
        if parsed is None:
            return {}
        return {"transfer_amount": str(parsed.amount), "transfer_currency": parsed.currency,
                "transfer_run_id": tracker.get_slot("transfer_run_id") or uuid.uuid4().hex}

    async def extract_transfer_recipient_id(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                            domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("transfer_recipient_id"):
            return {}
        chosen = entity(tracker, "recipient_id")
        client = CoreClient(tracker.sender_id)
        try:
            accounts, payees = await _accounts_and_payees(client)
        except (CoreUnavailable, CoreError):
            return {}
        if chosen:
            for a in accounts:
                if a["id"] == chosen:
                    return {"transfer_recipient_id": a["id"], "transfer_recipient_name": a["name"],
                            "transfer_recipient_kind": "account"}
            for p in payees:
                if p["id"] == chosen:
                    return {"transfer_recipient_id": p["id"], "transfer_recipient_name": p["name"],
                            "transfer_recipient_kind": "payee"}
            return {}
        text = text_of(tracker)
        kind = find_account(text) if tracker.get_slot("requested_slot") == "transfer_recipient_id" or \
            " to " in f" {text.lower()} " else None
        own = [a for a in accounts if kind and a["type"] == kind]
        if len(own) == 1:
            return {"transfer_recipient_id": own[0]["id"], "transfer_recipient_name": own[0]["name"],
                    "transfer_recipient_kind": "account"}
        names = find_recipient(entity(tracker, "recipient") or text, [p["name"] for p in payees])
        matches = [p for p in payees if p["name"] in names]
        if len(matches) == 1:
            return {"transfer_recipient_id": matches[0]["id"], "transfer_recipient_name": matches[0]["name"],
                    "transfer_recipient_kind": "payee"}
        if len(matches) > 1:
            return {"transfer_candidates": [p["id"] for p in matches]}
        return {}

    async def extract_transfer_source_id(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> dict[str, Any]:
        if tracker.get_slot("transfer_source_id"):
            return {}
        chosen = entity(tracker, "source_id")
        try:
            accounts = await CoreClient(tracker.sender_id).accounts()
        except (CoreUnavailable, CoreError):
            return {}
        if chosen and any(a["id"] == chosen for a in accounts):
            return {"transfer_source_id": chosen}
        recipient = tracker.get_slot("transfer_recipient_id")
        text = text_of(tracker).lower()
        kind = find_account(text.split(" to ")[0]) if " from " in f" {text} " else None
        sources = [a for a in accounts if a["id"] != recipient and (kind is None or a["type"] == kind)]
        if len(sources) == 1 and (kind is not None or recipient is not None):
            return {"transfer_source_id": sources[0]["id"]}
        return {}

    async def validate_transfer_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        try:
            amount = Decimal(str(value))
        except ArithmeticError:
            amount = Decimal(0)
        if amount <= 0:
            dispatcher.utter_message(text="The amount needs to be more than zero.")
            return {"transfer_amount": None}
        return {"transfer_amount": str(value)}


class ActionAskTransferAmount(Action):
    def name(self) -> str:
        return "action_ask_transfer_amount"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="How much would you like to send?")
        return [] if tracker.get_slot("transfer_run_id") else [SlotSet("transfer_run_id", uuid.uuid4().hex)]


class ActionAskTransferRecipientId(Action):
    def name(self) -> str:
        return "action_ask_transfer_recipient_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        client = CoreClient(tracker.sender_id)
        try:
            accounts, payees = await _accounts_and_payees(client)
        except CoreUnavailable:
            return core_down(dispatcher)
        candidates = tracker.get_slot("transfer_candidates") or []
        if candidates:
            options = [p for p in payees if p["id"] in candidates]
            dispatcher.utter_message(text="I found several payees with that name. Which one?",
                                     buttons=[button(f"{p['name']} (…{p.get('iban_last4') or ''})", "transfer_money",
                                                     recipient_id=p["id"]) for p in options])
            return [SlotSet("transfer_candidates", None)]
        spoken = entity(tracker, "recipient")
        intro = f"I can't find \"{spoken}\" among your saved payees. " if spoken else ""
        dispatcher.utter_message(
            text=intro + "Who should receive it? Pick one of your accounts or saved payees "
                         "(new payees are added in the app).",
            buttons=[button(a["name"], "transfer_money", recipient_id=a["id"]) for a in accounts] +
                    [button(p["name"], "transfer_money", recipient_id=p["id"]) for p in payees])
        return []


class ActionAskTransferSourceId(Action):
    def name(self) -> str:
        return "action_ask_transfer_source_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            accounts = await CoreClient(tracker.sender_id).accounts()
        except CoreUnavailable:
            return core_down(dispatcher)
        recipient = tracker.get_slot("transfer_recipient_id")
        dispatcher.utter_message(text="Which account should it come from?", buttons=[
            button(f"{a['name']} ({money(a['available'], a['currency'])} available)", "transfer_money",
                   source_id=a["id"]) for a in accounts if a["id"] != recipient])
        return []


class ActionConfirmTransfer(Action):
    """After the form: say exactly what will happen and wait for an explicit yes."""

    def name(self) -> str:
        return "action_confirm_transfer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            accounts = await CoreClient(tracker.sender_id).accounts()
        except CoreUnavailable:
            return [*core_down(dispatcher), *reset_slots()]
        source = next((a for a in accounts if a["id"] == tracker.get_slot("transfer_source_id")), None)
        if source is None:
            dispatcher.utter_message(text="I couldn't find that account any more, so I've stopped here.")
            return reset_slots()
        currency = tracker.get_slot("transfer_currency") or source["currency"]
        amount = tracker.get_slot("transfer_amount")
        when = "now" if tracker.get_slot("transfer_recipient_kind") == "account" else \
            "by bank transfer (usually arrives the same or next business day)"
        dispatcher.utter_message(
            text=f"Please confirm: send {money(amount, currency)} from {source['name']} to "
                 f"{tracker.get_slot('transfer_recipient_name')}, {when}. Shall I go ahead?",
            buttons=[{"title": "Yes, send it", "payload": "/affirm"}, {"title": "No, cancel", "payload": "/deny"}])
        return [SlotSet("transfer_awaiting_confirmation", True), SlotSet("transfer_currency", currency)]


class ActionExecuteTransfer(Action):
    def name(self) -> str:
        return "action_execute_transfer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if not tracker.get_slot("transfer_awaiting_confirmation") or intent(tracker) != "affirm":
            dispatcher.utter_message(text="There's no transfer waiting for your confirmation.")
            return []
        currency = tracker.get_slot("transfer_currency")
        body: dict[str, Any] = {"from_account_id": tracker.get_slot("transfer_source_id"),
                                "amount": format_for_api(parse_amount(f"{tracker.get_slot('transfer_amount')} "
                                                                      f"{currency}"), currency),
                                "currency": currency, "reference": "Sent with the assistant"}
        if tracker.get_slot("transfer_recipient_kind") == "account":
            body["to_account_id"] = tracker.get_slot("transfer_recipient_id")
        else:
            body["payee_id"] = tracker.get_slot("transfer_recipient_id")
        key = f"chat:{tracker.sender_id}:{tracker.get_slot('transfer_run_id')}"
        try:
            result = await CoreClient(tracker.sender_id).create_transfer(body, key)
        except CoreUnavailable:
            dispatcher.utter_message(text="I couldn't reach the bank's systems, so I can't tell whether the transfer "
                                          "went through. Say \"yes\" again to retry safely: it will never be sent "
                                          "twice.")
            return []
        except CoreError as error:
            advice = ADVICE.get(error.code, error.title or "The bank refused the transfer.")
            dispatcher.utter_message(text=f"The transfer didn't go through. {advice}")
            return reset_slots()
        amount = money(result["amount"], result["currency"])
        if result["status"] == "completed":
            dispatcher.utter_message(text=f"Done: {amount} sent to {tracker.get_slot('transfer_recipient_name')}.")
        else:
            dispatcher.utter_message(text=f"Your transfer of {amount} to {tracker.get_slot('transfer_recipient_name')} "
                                          f"is on its way (status: {result['status']}). I'll show its progress if "
                                          f"you ask \"where is my transfer?\".")
        return reset_slots()


class ActionCancelTransfer(Action):
    def name(self) -> str:
        return "action_cancel_transfer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="OK, I've cancelled it. Nothing was sent.")
        return reset_slots()
