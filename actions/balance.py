"""check_balance: each account's name with its balance (and available, when a hold reduces it)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import core_for
from actions.core_client import CoreError, CoreUnavailable
from actions.formatting import money

ACCOUNT_WORDS = {"checking": "checking", "savings": "savings", "credit": "credit"}


def balance_lines(accounts: list[dict[str, Any]], only_type: str | None) -> list[str]:
    chosen = [a for a in accounts if only_type is None or a.get("type") == only_type] or accounts
    lines = []
    for a in chosen:
        line = f"{a['name']}: {money(a['balance'], a['currency'])}"
        if a.get("available") not in (None, a["balance"]):
            line += f" ({money(a['available'], a['currency'])} available)"
        lines.append(line)
    return lines


class ActionCheckBalance(Action):
    def name(self) -> str:
        return "action_check_balance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = ACCOUNT_WORDS.get(str(tracker.get_slot("account") or "").lower())
        try:
            accounts = await core_for(tracker).accounts()
        except (CoreUnavailable, CoreError):
            dispatcher.utter_message(response="utter_core_unavailable")
            return []
        if not accounts:
            dispatcher.utter_message(response="utter_no_accounts")
            return []
        lines = balance_lines(accounts, wanted)
        dispatcher.utter_message(response="utter_balance_one" if len(lines) == 1 else "utter_balance_many",
                                 lines="\n".join(lines))
        return []
