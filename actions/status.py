"""Live answers for transfer status, identity verification and pending payments."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreError, CoreUnavailable, core_down, core_for, intent, short_date
from actions.formatting import money

STATUS_WORDS = {"completed": "arrived", "pending": "is on its way", "failed": "failed"}


def _to(t: dict[str, Any]) -> str:
    return (t.get("counterparty") or {}).get("name") or "your own account"


class ActionTransferStatus(Action):
    """pending_transfer, transfer_timing, transfer_not_received_by_recipient, failed_transfer, cancel_transfer."""

    def name(self) -> str:
        return "action_transfer_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        client = core_for(tracker)
        try:
            tz = (await client.me()).get("timezone") or "UTC"
            recent = await client.transfers(limit=5)
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        asked = intent(tracker)
        external = [t for t in recent if t.get("counterparty")]
        latest = (external or recent or [None])[0]
        if latest is None:
            dispatcher.utter_message(text="You haven't made any transfers recently.")
            return []
        head = (f"Your latest transfer, {money(latest['amount'], latest['currency'])} to {_to(latest)} on "
                f"{short_date(latest['created_at'], tz)}, {STATUS_WORDS.get(latest['status'], latest['status'])}.")
        if latest["status"] == "pending":
            tail = ("Transfers to other banks usually arrive the same or next business day (instant SEPA in seconds)."
                    if asked != "cancel_transfer" else
                    "It hasn't been sent to the recipient's bank yet, so support can still stop it: ask me to "
                    "connect you to a person.")
        elif latest["status"] == "failed":
            tail = f"Reason: {(latest.get('failure_reason') or 'unknown').replace('_', ' ')}. The money was not taken."
        elif asked == "transfer_not_received_by_recipient":
            tail = ("On our side it's complete. Ask the recipient to check with their bank, quoting the reference; "
                    "if it's still missing after 2 business days, we can trace it.")
        elif asked == "cancel_transfer":
            tail = "It has already arrived, so it can't be cancelled; you could ask the recipient to send it back."
        else:
            tail = ""
        dispatcher.utter_message(text=f"{head} {tail}".strip())
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
        why = ("We're required by law (EU anti-money-laundering rules) to confirm who our customers are before "
               "money can move. " if intent(tracker) == "why_verify_identity" else "")
        dispatcher.utter_message(text=f"{why}Your identity verification status: {kyc['status'].replace('_', ' ')}. "
                                      f"{kyc['advice']}")
        return []


class ActionPendingPayments(Action):
    """pending_card_payment, balance_not_updated_after_bank_transfer: what is still pending, and why."""

    def name(self) -> str:
        return "action_pending_payments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        client = core_for(tracker)
        try:
            tz = (await client.me()).get("timezone") or "UTC"
            pending = await client.authorizations(status="pending", limit=10)
            transfers = await client.transfers(status="pending", limit=5)
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        lines = []
        if pending:
            lines.append("Card payments still pending (the money is reserved, not yet taken):")
            lines += [f"• {p['merchant']} {money(p['amount'], p['currency'])} on {short_date(p['created_at'], tz)}"
                      for p in pending]
            lines.append("Shops usually complete them within 1-3 days; if a shop cancels, the money is released.")
        if transfers:
            lines.append("Transfers on their way:")
            lines += [f"• {money(t['amount'], t['currency'])} to {_to(t)}" for t in transfers]
        if intent(tracker) == "balance_not_updated_after_bank_transfer":
            lines.append("Incoming bank transfers show up once the sender's bank releases them: SEPA transfers "
                         "within 1 business day, instant transfers in seconds.")
        dispatcher.utter_message(text="\n".join(lines) if lines else "Nothing is pending on your accounts right now.")
        return []
