"""transfer_money: a form that keeps one transfer draft, says it back, and sends exactly what was confirmed.

Every customer message while the form is active goes through `validate_transfer_form`, which applies it
to the draft (actions/understanding/transfer_request.py decides what the words mean): a detail named
changes the draft and the summary is said again; "no" cancels; a yes to the summary as stated confirms;
anything else is asked again (twice unclear and the transfer is dropped, nothing sent). A clear balance,
spending or search question is answered and the same question is asked again; a request that changes
the situation (freeze a card, a fraud report, a person) stops the transfer, then is answered.

After the form, `action_finish_transfer` sends the summary that was confirmed (its amount, source and
recipient were frozen into `transfer_summary` when it was said), never the slots as they may be later.
The Idempotency-Key is the conversation id plus the summary's run id, so a retried execution sends the
same key and the core moves the money once.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import CoreError, CoreUnavailable, button, core_down, core_for, intent, short_date, text_of
from actions.formatting import money
from actions.understanding.amounts import format_for_api, parse_amount
from actions.understanding.transfer_request import TransferDraft, Turn, apply_turn

FORM_SLOTS = ("transfer_amount", "transfer_recipient_id", "transfer_source_id", "transfer_confirmation",
              "transfer_summary", "transfer_run_id", "transfer_cancelled", "transfer_unclear", "transfer_candidates",
              "transfer_aside")
ASKED_IN_ORDER = ("transfer_amount", "transfer_recipient_id", "transfer_source_id", "transfer_confirmation")
# A clear question while a transfer is being prepared is answered and the transfer stays where it was
# ("what's my savings balance?" at the summary); a request that changes the situation stops it.
ANSWER_AND_RESUME = {"check_balance": "action_check_balance", "spending_query": "action_answer_spending",
                     "search_transactions": "action_search_transactions"}
STOP_FOR = {"freeze_card": "action_freeze_card", "unfreeze_card": "action_unfreeze_card",
            "request_human": "action_request_human", "lost_or_stolen_card": "action_report_fraud",
            "compromised_card": "action_report_fraud"}
SWITCH_CONFIDENCE = 0.8
# Actions that run between a customer's message and the form reading it (action_clarify and
# action_out_of_scope hand a misclassified transfer request over to the form).
FORM_MACHINERY = {"action_listen", "action_extract_slots", "transfer_form", "validate_transfer_form",
                  "action_clarify", "action_out_of_scope"}

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


def draft_of(tracker: Tracker) -> TransferDraft:
    return TransferDraft(amount=tracker.get_slot("transfer_amount"),
                         recipient=tracker.get_slot("transfer_recipient_id"),
                         source=tracker.get_slot("transfer_source_id"),
                         stated=(json.loads(tracker.get_slot("transfer_summary") or "{}") or {}).get("key"),
                         confirmed=tracker.get_slot("transfer_confirmation") == "yes",
                         cancelled=bool(tracker.get_slot("transfer_cancelled")),
                         unclear_turns=int(tracker.get_slot("transfer_unclear") or 0),
                         candidates=tuple(tracker.get_slot("transfer_candidates") or ()))


def draft_slots(draft: TransferDraft) -> list[dict[str, Any]]:
    return [SlotSet("transfer_amount", draft.amount), SlotSet("transfer_recipient_id", draft.recipient),
            SlotSet("transfer_source_id", draft.source),
            SlotSet("transfer_confirmation", "yes" if draft.confirmed else None),
            SlotSet("transfer_cancelled", draft.cancelled or None),
            SlotSet("transfer_unclear", float(draft.unclear_turns)),
            SlotSet("transfer_candidates", list(draft.candidates) or None)]


def next_question(draft: TransferDraft) -> str | None:
    """The slot to ask for next; None when the form is over (confirmed or cancelled)."""
    if draft.cancelled or draft.confirmed:
        return None
    filled = {"transfer_amount": draft.amount, "transfer_recipient_id": draft.recipient,
              "transfer_source_id": draft.source}
    return next((slot for slot in ASKED_IN_ORDER if not filled.get(slot)), None)


def answered_since_message(tracker: Tracker) -> bool:
    """Whether another action answered the latest message already (the form is resuming, not reading it)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in FORM_MACHINERY:
            return True
    return False


def set_aside(tracker: Tracker) -> bool:
    """The form's question waits this once: another question is answered first, then it is asked again."""
    return bool(tracker.get_slot("transfer_aside"))


def latest_turn(tracker: Tracker) -> Turn:
    entities = {str(e.get("entity")): str(e.get("value")) for e in tracker.latest_message.get("entities") or []
                if e.get("entity") and e.get("value") is not None}
    return Turn(text=text_of(tracker), intent=intent(tracker), entities=entities,
                asking=tracker.get_slot("requested_slot") if tracker.active_loop_name == "transfer_form" else None,
                confidence=float((tracker.latest_message.get("intent") or {}).get("confidence") or 0))


class ValidateTransferForm(FormValidationAction):
    """Applies each message to the draft and names the next question; never leaves the form without a step."""

    def name(self) -> str:
        return "validate_transfer_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        client = core_for(tracker)
        try:
            accounts, payees = await client.accounts(), await client.payees()
        except (CoreUnavailable, CoreError):
            core_down(dispatcher)
            return [*reset_slots(), SlotSet("transfer_cancelled", True), SlotSet("requested_slot", None)]
        before = draft_of(tracker)
        if answered_since_message(tracker):
            # Back in the form after answering something else: ask again, there is no new message.
            return [SlotSet("requested_slot", next_question(before))]
        turn = latest_turn(tracker)
        confident = float((tracker.latest_message.get("intent") or {}).get("confidence") or 0) >= SWITCH_CONFIDENCE
        if turn.asking and confident and turn.intent in ANSWER_AND_RESUME:
            return [SlotSet("transfer_aside", True), SlotSet("requested_slot", turn.asking),
                    FollowupAction(ANSWER_AND_RESUME[turn.intent])]
        if turn.asking and confident and turn.intent in STOP_FOR:
            dispatcher.utter_message(response="utter_transfer_set_aside")
            return [*reset_slots(), SlotSet("requested_slot", None), FollowupAction(STOP_FOR[turn.intent])]
        draft = apply_turn(before, turn, accounts, payees)
        if turn.asking and draft.unclear_turns > before.unclear_turns and not draft.cancelled:
            dispatcher.utter_message(response="utter_out_of_scope_in_transfer" if turn.intent == "out_of_scope"
                                     else "utter_transfer_unclear")
        return [*draft_slots(draft), SlotSet("requested_slot", next_question(draft))]


class ActionAskTransferAmount(Action):
    def name(self) -> str:
        return "action_ask_transfer_amount"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if set_aside(tracker):
            return [SlotSet("transfer_aside", None)]
        dispatcher.utter_message(response="utter_ask_transfer_amount")
        return []


class ActionAskTransferRecipientId(Action):
    def name(self) -> str:
        return "action_ask_transfer_recipient_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if set_aside(tracker):
            return [SlotSet("transfer_aside", None)]
        client = core_for(tracker)
        try:
            accounts, payees = await client.accounts(), await client.payees()
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        candidates = tracker.get_slot("transfer_candidates") or []
        if candidates:
            options = [p for p in payees if p["id"] in candidates]
            dispatcher.utter_message(response="utter_ask_which_payee",
                                     buttons=[button(f"{p['name']} (…{p.get('iban_last4') or ''})", "transfer_money",
                                                     recipient_id=f"payee:{p['id']}") for p in options])
            return []
        source = tracker.get_slot("transfer_source_id")
        dispatcher.utter_message(
            response="utter_ask_transfer_recipient_id",
            buttons=[button(a["name"], "transfer_money", recipient_id=f"account:{a['id']}") for a in accounts
                     if a["id"] != source] +
                    [button(p["name"], "transfer_money", recipient_id=f"payee:{p['id']}") for p in payees])
        return []


class ActionAskTransferSourceId(Action):
    def name(self) -> str:
        return "action_ask_transfer_source_id"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if set_aside(tracker):
            return [SlotSet("transfer_aside", None)]
        try:
            accounts = await core_for(tracker).accounts()
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        recipient = (tracker.get_slot("transfer_recipient_id") or ":").split(":", 1)[1]
        dispatcher.utter_message(response="utter_ask_transfer_source_id", buttons=[
            button(f"{a['name']} ({money(a['available'], a['currency'])} available)", "transfer_money",
                   source_id=a["id"]) for a in accounts if a["id"] != recipient])
        return []


class ActionAskTransferConfirmation(Action):
    """The summary: exactly what will happen, frozen into `transfer_summary` so a yes confirms only this."""

    def name(self) -> str:
        return "action_ask_transfer_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if set_aside(tracker):
            return [SlotSet("transfer_aside", None)]
        client = core_for(tracker)
        try:
            accounts, payees = await client.accounts(), await client.payees()
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return [*core_down(dispatcher), *reset_slots(), SlotSet("requested_slot", None)]
        draft = draft_of(tracker)
        source = next((a for a in accounts if a["id"] == draft.source), None)
        recipient = recipient_name(draft.recipient, accounts, payees)
        parsed = parse_amount(draft.amount or "")
        if source is None or recipient is None or parsed is None:
            dispatcher.utter_message(response="utter_transfer_details_gone")
            return [*reset_slots(), SlotSet("requested_slot", None)]
        currency = parsed.currency or source["currency"]
        amount = f"{parsed.amount} {currency}"
        stated = TransferDraft(amount=amount, recipient=draft.recipient, source=draft.source)
        summary = {"key": stated.summary_key(), "amount": format_for_api(parsed, currency), "currency": currency,
                   "from_account_id": source["id"], "recipient": draft.recipient}
        # The core executes money leaving the customer (and, on a messaging channel, any transfer) only after
        # a later message answered this summary: every summary is stated to it.
        try:
            stated_by_core = await client.state_transfer(transfer_body(summary))
        except (CoreUnavailable, CoreError):
            return [*core_down(dispatcher), *reset_slots(), SlotSet("requested_slot", None)]
        summary["confirmation_id"] = stated_by_core["confirmation_id"]
        # How and when it arrives is the core's promise (api/transfers/arrival.py); this only words it.
        instant = stated_by_core["arrival"] == "instant"
        dispatcher.utter_message(response="utter_transfer_summary" if instant else "utter_transfer_summary_bank",
                                 amount=money(str(parsed.amount), currency), source=source["name"],
                                 recipient=recipient,
                                 arrives_by=short_date(stated_by_core["arrives_by"]))  # a day: no zone to move to
        # One run id per summary said: retries of the execution reuse it, so one key, one transfer.
        return [SlotSet("transfer_amount", amount), SlotSet("transfer_summary", json.dumps(summary)),
                SlotSet("transfer_run_id", uuid.uuid4().hex)]


def recipient_name(recipient: str | None, accounts: list[dict[str, Any]], payees: list[dict[str, Any]]) -> str | None:
    kind, _, ident = (recipient or "").partition(":")
    pool = accounts if kind == "account" else payees if kind == "payee" else []
    return next((x["name"] for x in pool if x["id"] == ident), None)


class ActionFinishTransfer(Action):
    """After the form: send the confirmed summary, or say that nothing was sent."""

    def name(self) -> str:
        return "action_finish_transfer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        draft = draft_of(tracker)
        summary = json.loads(tracker.get_slot("transfer_summary") or "{}") or {}
        # apply_turn confirms only a yes to the summary as stated, so the frozen summary is what was agreed.
        if not draft.confirmed or not summary:
            if draft.cancelled:
                dispatcher.utter_message(response="utter_transfer_cancelled")
            return reset_slots()
        return await execute(dispatcher, tracker, summary)


def transfer_body(summary: dict[str, Any]) -> dict[str, Any]:
    """The core's transfer body for a summary, as stated (the confirmation the core recorded is not part of it)."""
    kind, _, recipient_id = str(summary["recipient"]).partition(":")
    assert kind in ("account", "payee"), "a summary names an account or a payee"
    return {"from_account_id": summary["from_account_id"], "amount": summary["amount"],
            "currency": summary["currency"], "reference": "Sent with the assistant",
            ("to_account_id" if kind == "account" else "payee_id"): recipient_id}


async def execute(dispatcher: CollectingDispatcher, tracker: Tracker, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """POST the confirmed summary to the core, once per summary (its run id is in the key)."""
    body = transfer_body(summary)
    if summary.get("confirmation_id"):
        body["confirmation_id"] = summary["confirmation_id"]
    key = f"chat:{tracker.sender_id}:{tracker.get_slot('transfer_run_id')}"
    client = core_for(tracker)
    try:
        result = await client.create_transfer(body, key)
    except CoreUnavailable:
        dispatcher.utter_message(response="utter_transfer_outcome_unknown")
        return reset_slots()
    except CoreError as error:
        advice = ADVICE.get(error.code, error.title or "The bank refused the transfer.")
        dispatcher.utter_message(response="utter_transfer_refused", advice=advice)
        return reset_slots()
    if result.get("status") == "awaiting_approval":  # asked for on a messaging channel, above the app's limit
        expires_at = datetime.fromisoformat(str(result["expires_at"]).replace("Z", "+00:00"))  # Python 3.10
        minutes = max(1, round((expires_at - datetime.now(timezone.utc)).total_seconds() / 60))
        dispatcher.utter_message(response="utter_transfer_awaits_app_approval",
                                 amount=money(summary["amount"], summary["currency"]), minutes=minutes)
        return reset_slots()
    amount = money(result["amount"], result["currency"])
    to = (result.get("counterparty") or {}).get("name")
    if to is None:
        try:
            to = recipient_name(f"account:{result['to_account_id']}", await client.accounts(), []) or "you"
        except (CoreUnavailable, CoreError):
            to = "your account"
    if result["status"] == "completed":
        dispatcher.utter_message(response="utter_transfer_done", amount=amount, recipient=to)
    else:
        dispatcher.utter_message(response="utter_transfer_on_its_way", amount=amount, recipient=to,
                                 status=result["status"])
    return reset_slots()
