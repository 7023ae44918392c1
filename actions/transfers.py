"""transfer_money: a form collects amount, recipient and source; a summary and an explicit yes follow.

The Idempotency-Key is the conversation id plus the form run's id (a slot set when the form starts),
so a retried or duplicated execute action sends the same key and the core moves the money once.
"""

from __future__ import annotations

import uuid
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import CoreClient, CoreError, CoreUnavailable, button, core_down, entity, intent, text_of
from actions.formatting import money
from actions.understanding.amounts import format_for_api, parse_amount
from actions.understanding.categories import find_account, find_recipient

# Rasa keeps only the form's required slots from a validation action, so each slot carries all it
# needs: the amount with its currency ("25 EUR"), the recipient as "account:<id>" or "payee:<id>".
FORM_SLOTS = ("transfer_amount", "transfer_recipient_id", "transfer_source_id", "transfer_run_id",
              "transfer_awaiting_confirmation", "transfer_candidates")

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
        return {"transfer_amount": f"{parsed.amount} {parsed.currency or ''}".strip()}

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
            known = {f"account:{a['id']}" for a in accounts} | {f"payee:{p['id']}" for p in payees}
            return {"transfer_recipient_id": chosen} if chosen in known else {}
        text = text_of(tracker)
        kind = find_account(text) if tracker.get_slot("requested_slot") == "transfer_recipient_id" or \
            " to " in f" {text.lower()} " else None
        own = [a for a in accounts if kind and a["type"] == kind]
        if len(own) == 1:
            return {"transfer_recipient_id": f"account:{own[0]['id']}"}
        names = find_recipient(entity(tracker, "recipient") or text, [p["name"] for p in payees])
        matches = [p for p in payees if p["name"] in names]
        if len(matches) == 1:
            return {"transfer_recipient_id": f"payee:{matches[0]['id']}"}
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
        recipient = (tracker.get_slot("transfer_recipient_id") or ":").split(":", 1)[1]
        text = text_of(tracker).lower()
        kind = find_account(text.split(" to ")[0]) if " from " in f" {text} " else None
        sources = [a for a in accounts if a["id"] != recipient and (kind is None or a["type"] == kind)]
        if len(sources) == 1 and (kind is not None or recipient is not None):
            return {"transfer_source_id": sources[0]["id"]}
        return {}

    async def validate_transfer_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                       domain: DomainDict) -> dict[str, Any]:
        parsed = parse_amount(str(value))
        if parsed is None or parsed.amount <= 0:
            dispatcher.utter_message(text="The amount needs to be more than zero.")
            return {"transfer_amount": None}
        return {"transfer_amount": str(value)}


class ActionAskTransferAmount(Action):
    def name(self) -> str:
        return "action_ask_transfer_amount"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="How much would you like to send?")
        return []


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
                                                     recipient_id=f"payee:{p['id']}") for p in options])
            return [SlotSet("transfer_candidates", None)]
        spoken = entity(tracker, "recipient")
        intro = f"I can't find \"{spoken}\" among your saved payees. " if spoken else ""
        dispatcher.utter_message(
            text=intro + "Who should receive it? Pick one of your accounts or saved payees "
                         "(new payees are added in the app).",
            buttons=[button(a["name"], "transfer_money", recipient_id=f"account:{a['id']}") for a in accounts] +
                    [button(p["name"], "transfer_money", recipient_id=f"payee:{p['id']}") for p in payees])
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
        recipient = (tracker.get_slot("transfer_recipient_id") or ":").split(":", 1)[1]
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
        client = CoreClient(tracker.sender_id)
        try:
            accounts, payees = await _accounts_and_payees(client)
        except CoreUnavailable:
            return [*core_down(dispatcher), *reset_slots()]
        source = next((a for a in accounts if a["id"] == tracker.get_slot("transfer_source_id")), None)
        recipient = recipient_name(tracker.get_slot("transfer_recipient_id"), accounts, payees)
        parsed = parse_amount(tracker.get_slot("transfer_amount") or "")
        if source is None or recipient is None or parsed is None:
            dispatcher.utter_message(text="I couldn't find those details any more, so I've stopped here.")
            return reset_slots()
        currency = parsed.currency or source["currency"]
        when = "now" if tracker.get_slot("transfer_recipient_id").startswith("account:") else \
            "by bank transfer (usually arrives the same or next business day)"
        dispatcher.utter_message(
            text=f"Please confirm: send {money(str(parsed.amount), currency)} from {source['name']} to {recipient}, "
                 f"{when}. Shall I go ahead?",
            buttons=[{"title": "Yes, send it", "payload": "/affirm"}, {"title": "No, cancel", "payload": "/deny"}])
        # One run id per confirmed summary: retries of the execute action reuse it, so one key, one transfer.
        return [SlotSet("transfer_awaiting_confirmation", True),
                SlotSet("transfer_amount", f"{parsed.amount} {currency}"),
                SlotSet("transfer_run_id", uuid.uuid4().hex)]


def recipient_name(recipient: str | None, accounts: list[dict[str, Any]], payees: list[dict[str, Any]]) -> str | None:
    kind, _, ident = (recipient or "").partition(":")
    pool = accounts if kind == "account" else payees if kind == "payee" else []
    return next((x["name"] for x in pool if x["id"] == ident), None)


class ActionExecuteTransfer(Action):
    def name(self) -> str:
        return "action_execute_transfer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if not tracker.get_slot("transfer_awaiting_confirmation") or intent(tracker) != "affirm":
            dispatcher.utter_message(text="There's no transfer waiting for your confirmation.")
            return []
        parsed = parse_amount(tracker.get_slot("transfer_amount") or "")
        kind, _, recipient_id = (tracker.get_slot("transfer_recipient_id") or "").partition(":")
        assert parsed is not None and parsed.currency and kind in ("account", "payee"), "confirmed slots are complete"
        body: dict[str, Any] = {"from_account_id": tracker.get_slot("transfer_source_id"),
                                "amount": format_for_api(parsed, parsed.currency), "currency": parsed.currency,
                                "reference": "Sent with the assistant",
                                ("to_account_id" if kind == "account" else "payee_id"): recipient_id}
        key = f"chat:{tracker.sender_id}:{tracker.get_slot('transfer_run_id')}"
        client = CoreClient(tracker.sender_id)
        try:
            result = await client.create_transfer(body, key)
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
        to = (result.get("counterparty") or {}).get("name")
        if to is None:
            try:
                to = recipient_name(f"account:{result['to_account_id']}", await client.accounts(), []) or "you"
            except (CoreUnavailable, CoreError):
                to = "your account"
        if result["status"] == "completed":
            dispatcher.utter_message(text=f"Done: {amount} sent to {to}.")
        else:
            dispatcher.utter_message(text=f"Your transfer of {amount} to {to} is on its way (status: "
                                          f"{result['status']}). Ask \"where is my transfer?\" to follow it.")
        return reset_slots()


class ActionCancelTransfer(Action):
    def name(self) -> str:
        return "action_cancel_transfer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="OK, I've cancelled it. Nothing was sent.")
        return reset_slots()
