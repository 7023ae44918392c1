"""search_transactions: last N, at a merchant, in a period, above an amount."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreError, CoreUnavailable, core_down, core_for, short_date, text_of
from actions.formatting import money
from actions.spending import filters_from
from actions.understanding.amounts import parse_amount

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20}
DEFAULT_COUNT, MAX_COUNT, SCAN_LIMIT = 5, 20, 200
_LAST_N = re.compile(r"\b(?:last|latest|recent|past)\s+(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")\b", re.I)
_ABOVE = re.compile(r"\b(?:over|above|more than|greater than|bigger than|at least)\b", re.I)
# "payments over 50", "what did I buy": money out only (not salary, not money moved in).
_MONEY_OUT = re.compile(r"\b(?:payments?|paid|pay|spent|spend|purchases?|bought|buy|charges?|charged|card)\b", re.I)


def wanted_count(text: str) -> int:
    match = _LAST_N.search(text)
    if not match or re.match(r"(?<!\s)\s*(days?|weeks?|months?|years?)\b", text[match.end():], re.I):
        return DEFAULT_COUNT
    word = match.group(1).lower()
    return max(1, min(MAX_COUNT, int(word) if word.isdigit() else NUMBER_WORDS[word]))


def minimum_amount(text: str) -> tuple[Decimal, str | None] | None:
    """The amount after "over"/"above"..., with its currency if said."""
    match = _ABOVE.search(text)
    if not match:
        return None
    parsed = parse_amount(text[match.end():])
    return (parsed.amount, parsed.currency) if parsed else None


class ActionSearchTransactions(Action):
    def name(self) -> str:
        return "action_search_transactions"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        text = text_of(tracker)
        client = core_for(tracker)
        try:
            f = await filters_from(tracker, client)
            tz, merchant, category, period = f.tz, f.merchant, f.category, f.period
            minimum = minimum_amount(text)
            floor = minimum[0] if minimum else None
            count = wanted_count(text)
            page = await client.transactions(
                start=period.start.isoformat() if period else None, end=period.end.isoformat() if period else None,
                merchant=merchant, category=category, limit=SCAN_LIMIT if floor is not None else count)
        except CoreUnavailable:
            return core_down(dispatcher)
        except CoreError as error:
            dispatcher.utter_message(response="utter_search_failed", reason=error.title or error.code)
            return []
        items = page.get("items", [])
        if _MONEY_OUT.search(text):
            items = [i for i in items if Decimal(i["amount"]) < 0]
        if floor is not None:
            items = [i for i in items if abs(Decimal(i["amount"])) >= floor]
        items = items[:count]
        currency = items[0]["currency"] if items else (minimum[1] if minimum and minimum[1] else None)
        what = " ".join(filter(None, [f"at {merchant}" if merchant else None,
                                      f"in {category}" if category else None,
                                      period.label if period else None,
                                      (f"of {money(str(floor), currency) if currency else floor} or more"
                                       if floor is not None else None)]))
        if not items:
            if what:
                dispatcher.utter_message(response="utter_no_transactions_matching", filters=what)
            else:
                dispatcher.utter_message(response="utter_no_transactions")
            return []
        lines = [f"Your last {len(items)} transaction{'s' if len(items) != 1 else ''}" + (f" {what}" if what else "")
                 + ":"]
        for item in items:
            label = item.get("merchant") or item.get("description") or item.get("kind", "").replace("_", " ")
            lines.append(f"• {short_date(item['posted_at'], tz)}  {label}  {money(item['amount'], item['currency'])}")
        dispatcher.utter_message(text="\n".join(lines))
        return []
