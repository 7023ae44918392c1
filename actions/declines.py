"""Why was my payment declined: the real reason code of the latest decline, with what to do about it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreError, CoreUnavailable, core_down, core_for, intent, short_date
from actions.formatting import failure_words, money


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
            dispatcher.utter_message(response="utter_no_declines")
            return []
        d = declines[0]
        what = "withdrawal" if d.get("category") == "cash" else "payment"
        # The advice is the core's, for every decline reason it knows (api/cards/views.py DECLINE_ADVICE).
        dispatcher.utter_message(
            response="utter_decline_explained" if d.get("advice") else "utter_decline_explained_no_advice",
            what=what, amount=money(d["amount"], d["currency"]), merchant=d["merchant"],
            date=short_date(d["created_at"], tz), code=d["decline_reason"], advice=d.get("advice") or "")
        return []

    @staticmethod
    def _transfer(dispatcher: CollectingDispatcher, failed: dict[str, Any] | None, tz: str) -> list[dict[str, Any]]:
        if failed is None:
            dispatcher.utter_message(response="utter_no_failed_transfers")
            return []
        to = (failed.get("counterparty") or {}).get("name") or "your other account"
        reason = failed.get("failure_reason") or "unknown"
        dispatcher.utter_message(
            response="utter_transfer_failed", amount=money(failed["amount"], failed["currency"]), recipient=to,
            date=short_date(failed["created_at"], tz), code=reason, why=failure_words(reason))
        return []
