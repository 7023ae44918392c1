"""Live answers for transfer status, identity verification and pending payments."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreError, CoreUnavailable, core_down, core_for, intent, short_date
from actions.formatting import failure_words, money

# What follows where the transfer is, for the intent asked (None: any other intent).
ADVICE = {
    ("sending", "cancel_transfer"): "utter_transfer_status_can_stop",
    ("sending", None): "utter_transfer_status_usual_timing",
    ("sent", "cancel_transfer"): "utter_transfer_status_cannot_stop",
    ("sent", None): "utter_transfer_status_usual_timing",
    ("delayed", "cancel_transfer"): "utter_transfer_status_delayed_stop",
    ("arrived", "cancel_transfer"): "utter_transfer_status_cannot_cancel",
    ("completed", "cancel_transfer"): "utter_transfer_status_cannot_cancel",
    ("arrived", "transfer_not_received_by_recipient"): "utter_transfer_status_ask_their_bank",
    ("completed", "transfer_not_received_by_recipient"): "utter_transfer_status_ask_their_bank",
}


def _to(t: dict[str, Any]) -> str:
    return (t.get("counterparty") or {}).get("name") or "your own account"


def _moment(at: str, tz: str) -> str:
    """'14:32 on 20 Nov', in the customer's zone."""
    when = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(ZoneInfo(tz))
    return f"{when:%H:%M} on {short_date(when, tz)}"


def where_it_is(transfer: dict[str, Any], tz: str) -> tuple[str, dict[str, str]]:
    """Where the transfer is (sending, sent, delayed, arrived, completed, rejected, returned, failed) and the
    details said with it, from its status and its saga's steps (GET /v1/transfers/{id})."""
    at = {step["name"]: step["at"] for step in transfer.get("steps") or []}
    if transfer["status"] == "completed":  # settled by the rails, or posted at once between own accounts
        done = at.get("settled") or at.get("completed")
        return ("arrived", {"arrived_at": _moment(done, tz)}) if done else ("completed", {})
    if transfer["status"] == "failed":
        reason = {"reason": failure_words(transfer.get("failure_reason"))}
        if "returned" in at:  # settled, then sent back: the money came back
            return "returned", {**reason, "returned_on": short_date(at["returned"], tz)}
        if "rejected" in at:  # refused by the receiving bank: the hold was released
            return "rejected", reason
        return "failed", reason
    if "dead_lettered" in at:  # the saga gave up: still pending, money reserved, operators alerted
        return "delayed", {}
    if "sent" in at:
        return "sent", {"sent_at": _moment(at["sent"], tz)}
    return "sending", {}


class ActionTransferStatus(Action):
    """pending_transfer, transfer_timing, transfer_not_received_by_recipient, failed_transfer, cancel_transfer."""

    def name(self) -> str:
        return "action_transfer_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        client = core_for(tracker)
        try:
            me, recent = await asyncio.gather(client.me(), client.transfers(limit=5))
            tz = me.get("timezone") or "UTC"
            external = [t for t in recent if t.get("counterparty")]
            latest = (external or recent or [None])[0]
            detail = await client.transfer(latest["id"]) if latest is not None else None
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        if detail is None:
            dispatcher.utter_message(response="utter_no_recent_transfers")
            return []
        where, details = where_it_is(detail, tz)
        dispatcher.utter_message(response=f"utter_transfer_status_{where}",
                                 amount=money(detail["amount"], detail["currency"]), recipient=_to(detail),
                                 date=short_date(detail["created_at"], tz), **details)
        asked = intent(tracker)
        advice = ADVICE.get((where, asked), ADVICE.get((where, None)))
        if advice:
            dispatcher.utter_message(response=advice)
        return []


class ActionKycStatus(Action):
    """verify_my_identity, unable_to_verify_identity, why_verify_identity."""

    def name(self) -> str:
        return "action_kyc_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            kyc = await core_for(tracker).kyc()
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        dispatcher.utter_message(response="utter_kyc_status_why" if intent(tracker) == "why_verify_identity"
                                 else "utter_kyc_status", status=kyc["status"].replace("_", " "), advice=kyc["advice"])
        return []


class ActionPendingPayments(Action):
    """pending_card_payment, balance_not_updated_after_bank_transfer: what is still pending, and why."""

    def name(self) -> str:
        return "action_pending_payments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        client = core_for(tracker)
        try:
            me, pending, transfers = await asyncio.gather(
                client.me(), client.authorizations(status="pending", limit=10),
                client.transfers(status="pending", limit=5))
            tz = me.get("timezone") or "UTC"
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        if pending:
            dispatcher.utter_message(response="utter_pending_card_payments", payments="\n".join(
                f"• {p['merchant']} {money(p['amount'], p['currency'])} on {short_date(p['created_at'], tz)}"
                for p in pending))
        if transfers:
            dispatcher.utter_message(response="utter_pending_transfers", transfers="\n".join(
                f"• {money(t['amount'], t['currency'])} to {_to(t)}" for t in transfers))
        if not pending and not transfers:
            dispatcher.utter_message(response="utter_nothing_pending")
        if intent(tracker) == "balance_not_updated_after_bank_transfer":
            dispatcher.utter_message(response="utter_incoming_transfer_timing")
        return []
