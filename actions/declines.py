"""Why was my payment declined: the real reason code of the latest decline, with what to do about it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreError, CoreUnavailable, core_down, core_for, intent, short_date
from actions.formatting import money

# Said only when the core sends no advice of its own for the reason code.
REASON_WORDS = {
    "insufficient_funds": "There wasn't enough money in the account.",
    "card_frozen": "The card was frozen.",
    "limit_exceeded": "It was over the card's spending limit.",
    "suspected_fraud": "Our fraud checks flagged it as unusual.",
    "expired_card": "The card had expired.",
    "incorrect_pin": "The PIN was entered incorrectly.",
}
TRANSFER_FAILURES = {
    "beneficiary_account_closed": "the recipient's bank says that account is closed. Check the details with the "
                                  "recipient; the money was not taken from your account.",
    "beneficiary_bank_rejected": "the recipient's bank rejected it. The money is back in your account.",
    "insufficient_funds": "there wasn't enough money in the account when it was due.",
}


class ActionExplainDecline(Action):
    def name(self) -> str:
        return "action_explain_decline"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        client = core_for(tracker)
        try:
            tz = (await client.me()).get("timezone") or "UTC"
            if intent(tracker) == "declined_transfer":
                failed = await client.transfers(status="failed", limit=1)
                return self._transfer(dispatcher, failed[0] if failed else None, tz)
            cash = intent(tracker) == "declined_cash_withdrawal"
            declines = await client.authorizations(status="declined", limit=1,
                                                   kind="cash_withdrawal" if cash else None)
        except (CoreUnavailable, CoreError):  # a refused read is no answer either
            return core_down(dispatcher)
        if not declines:
            dispatcher.utter_message(text="I can't see any declined payment on your cards recently. If a shop says "
                                          "it was declined, try again; if it fails again, tell me the shop's name.")
            return []
        d = declines[0]
        what = "withdrawal" if d.get("category") == "cash" else "payment"
        dispatcher.utter_message(
            text=f"Your {what} of {money(d['amount'], d['currency'])} at {d['merchant']} on "
                 f"{short_date(d['created_at'], tz)} was declined (reason code {d['decline_reason']}). "
                 f"{d.get('advice') or REASON_WORDS.get(d['decline_reason'], '')}".strip())
        return []

    @staticmethod
    def _transfer(dispatcher: CollectingDispatcher, failed: dict[str, Any] | None, tz: str) -> list[dict[str, Any]]:
        if failed is None:
            dispatcher.utter_message(text="None of your recent transfers failed. Ask me \"where is my transfer\" "
                                          "to see the ones on their way.")
            return []
        to = (failed.get("counterparty") or {}).get("name") or "your other account"
        reason = failed.get("failure_reason") or "unknown"
        dispatcher.utter_message(
            text=f"Your transfer of {money(failed['amount'], failed['currency'])} to {to} on "
                 f"{short_date(failed['created_at'], tz)} failed because "
                 f"{TRANSFER_FAILURES.get(reason, reason.replace('_', ' ') + '.')} (reason code {reason})")
        return []
