"""spending_query: the exact total from /v1/insights/spending, the period said back in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreClient, CoreError, CoreUnavailable, button, core_down, entity, text_of
from actions.formatting import money
from actions.understanding.categories import find_category, find_merchant
from actions.understanding.periods import Period, resolve_period

COMMON_CATEGORIES = ("coffee", "groceries", "restaurants", "transport", "subscriptions", "shopping")
COMMON_PERIODS = ("this month", "last month", "this year")
MERCHANT_LOOKBACK_DAYS = 400
BREAKDOWN_ROWS = 3


async def customer_merchants(client: CoreClient) -> list[str]:
    """The merchants this customer paid in the last year: the only names a merchant can match."""
    since = (datetime.now(timezone.utc) - timedelta(days=MERCHANT_LOOKBACK_DAYS)).date().isoformat()
    result = await client.spending(start=since, group_by="merchant")
    return [g["key"] for g in result.get("groups", []) if g.get("key")]


@dataclass(frozen=True)
class Filters:
    """What the customer asked about: merchant or category, and the period, in their time zone."""

    tz: str
    merchant: str | None
    category: str | None
    period: Period | None


async def filters_from(tracker: Tracker, client: CoreClient) -> Filters:
    """Entities from buttons win; otherwise the text, matched against the customer's own merchants."""
    text = text_of(tracker)
    tz = (await client.me()).get("timezone") or "UTC"
    merchant = entity(tracker, "merchant") or find_merchant(text, await customer_merchants(client))
    category = entity(tracker, "category") or find_category(text)
    if merchant and category and category in merchant.lower() and merchant.lower() not in text.lower() \
            and not entity(tracker, "merchant"):
        merchant = None  # "transport" alone is the category, not "Transport for London"
    if merchant:
        category = None
    period = resolve_period(entity(tracker, "period") or text, datetime.now(timezone.utc), tz)
    return Filters(tz, merchant, category, period)


def _subject(category: str | None, merchant: str | None) -> str:
    if merchant:
        return f" at {merchant}"
    return f" on {category}" if category else ""


class ActionAnswerSpending(Action):
    def name(self) -> str:
        return "action_answer_spending"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        client = CoreClient(tracker.sender_id)
        try:
            f = await filters_from(tracker, client)
            merchant, category, period = f.merchant, f.category, f.period
            if period is None and category is None and merchant is None:
                dispatcher.utter_message(text="What would you like to know? Pick a category, or ask e.g. "
                                              "\"how much did I spend at Starbucks last month\".",
                                         buttons=[button(c.capitalize(), "spending_query", category=c,
                                                         period="this month") for c in COMMON_CATEGORIES])
                return []
            if period is None:
                dispatcher.utter_message(text=f"For which period should I add up your spending"
                                              f"{_subject(category, merchant)}?",
                                         buttons=[button(p.capitalize(), "spending_query", period=p,
                                                         **({"merchant": merchant} if merchant else
                                                            {"category": category} if category else {}))
                                                  for p in COMMON_PERIODS])
                return []
            group_by = "category" if not (category or merchant) else ("merchant" if category else None)
            result = await client.spending(start=period.start.isoformat(), end=period.end.isoformat(),
                                           category=category, merchant=merchant, group_by=group_by)
        except CoreUnavailable:
            return core_down(dispatcher)
        except CoreError as error:
            dispatcher.utter_message(text=f"Sorry, I couldn't work that out ({error.title or error.code}).")
            return []
        dispatcher.utter_message(text=spending_sentence(result, category, merchant, period.label))
        return []


def spending_sentence(result: dict[str, Any], category: str | None, merchant: str | None, label: str) -> str:
    total, currency, count = result["total"], result["currency"], int(result.get("count", 0))
    if count == 0:
        return f"You didn't spend anything{_subject(category, merchant)} {label}."
    payments = "payment" if count == 1 else "payments"
    lines = [f"You spent {money(total, currency)}{_subject(category, merchant)} {label} ({count} {payments})."]
    groups = [g for g in result.get("groups", []) if g.get("key")]
    if len(groups) > 1:
        top = sorted(groups, key=lambda g: -Decimal(g["total"]))[:BREAKDOWN_ROWS]
        lines.append("Biggest: " + ", ".join(f"{g['key']} {money(g['total'], currency)}" for g in top) + ".")
    return "\n".join(lines)
