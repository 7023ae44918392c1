"""spending_query: the exact total from /v1/insights/spending, said with the filter and the period it used.

Meaning is never guessed: a merchant is taken only when its name (or a known alias) is in the message
and it is meant as the merchant; a close spelling ("starbuks") or a name that is also a word ("boots")
is asked back with buttons. Follow-ups ("and in October?", "what about groceries?", "and the one
before that?") keep the other filters of the conversation's last spending question (slot
`spending_context`); a full new question starts afresh.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import CoreClient, CoreError, CoreUnavailable, button, core_down, core_for, entity, text_of
from actions.formatting import money
from actions.understanding.categories import find_category, find_merchant, merchant_is_certain
from actions.understanding.periods import (
    Period,
    asks_for_period_before,
    find_period_phrase,
    local_today,
    period_before,
    resolve_period,
)
from actions.understanding.spending_request import (
    follow_up_period_text,
    is_everyday_request,
    is_follow_up,
    unknown_subject,
)

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
    merchant_guess: str | None = None  # a merchant the words may mean: confirm before answering
    unknown_subject: str | None = None  # "on apples": a subject that is neither a category nor a merchant


def context_of(tracker: Tracker) -> dict[str, Any] | None:
    raw = tracker.get_slot("spending_context")
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def context_slot(f: Filters) -> SlotSet:
    assert f.period is not None, "only an answered question becomes the context"
    return SlotSet("spending_context", json.dumps({
        "merchant": f.merchant, "category": f.category, "start": f.period.start.isoformat(),
        "end": f.period.end.isoformat(), "label": f.period.label}))


async def filters_from(tracker: Tracker, client: CoreClient) -> Filters:
    """Entities from buttons win; then the text, matched against the customer's own merchants; then the
    previous question's filters when this message is a follow-up."""
    text = text_of(tracker)
    me, merchants = await asyncio.gather(client.me(), customer_merchants(client))  # side by side: one wait
    tz = me.get("timezone") or "UTC"
    merchant, guess = entity(tracker, "merchant"), None
    category = entity(tracker, "category") or find_category(text)
    if merchant is None:
        exact = find_merchant(text, merchants, fuzzy=False)
        if exact and merchant_is_certain(text, exact):
            merchant = exact
        elif category is None:  # a category named outright wins over a merchant that is only a guess
            guess = exact or find_merchant(text, merchants)
    if merchant and category and category in merchant.lower() and merchant.lower() not in text.lower() \
            and not entity(tracker, "merchant"):
        merchant = None  # "transport" alone is the category, not "Transport for London"
    if merchant:
        category = None
    now = datetime.now(timezone.utc)
    period = resolve_period(entity(tracker, "period") or text, now, tz)
    previous = context_of(tracker)
    if previous and not entity(tracker, "period") and is_follow_up(text):
        earlier = Period(date.fromisoformat(previous["start"]), date.fromisoformat(previous["end"]),
                         previous["label"]) if previous.get("start") else None
        in_context = follow_up_period_text(text, previous.get("label"))
        if period is None and in_context:
            period = resolve_period(in_context, now, tz)
        if period is None and earlier is not None:
            period = period_before(earlier, local_today(now, tz)) if asks_for_period_before(text) else earlier
        # "and on apples?" names a subject of its own: asked about, never answered with the last one's.
        if merchant is None and category is None and guess is None and unknown_subject(text) is None:
            merchant, category = previous.get("merchant"), previous.get("category")
    unknown = None if merchant or category or guess else unknown_subject(text)
    return Filters(tz, merchant, category, period, guess, unknown)


def _subject(category: str | None, merchant: str | None) -> str:
    if merchant:
        return f" at {merchant}"
    return f" on {category}" if category else " in total"


class ActionAnswerSpending(Action):
    def name(self) -> str:
        return "action_answer_spending"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if not any(entity(tracker, name) for name in ("merchant", "category", "period")) \
                and is_everyday_request(text_of(tracker)):
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        client = core_for(tracker)
        try:
            f = await filters_from(tracker, client)
            merchant, category, period = f.merchant, f.category, f.period
            phrase = entity(tracker, "period") or find_period_phrase(text_of(tracker))
            period_entity = {"period": phrase} if phrase else {} if period is None else \
                {"period": f"from {period.start.isoformat()} to {period.end.isoformat()}"}
            if f.merchant_guess:
                dispatcher.utter_message(
                    response="utter_spending_which_merchant", merchant=f.merchant_guess,
                    buttons=[button(f"Yes, at {f.merchant_guess}", "spending_query", merchant=f.merchant_guess,
                                    **period_entity),
                             *([button(f"No, on {category}", "spending_query", category=category, **period_entity)]
                               if category else []),
                             *[button(c.capitalize(), "spending_query", category=c, **period_entity)
                               for c in COMMON_CATEGORIES if c != category][:3]])
                return [SlotSet("spending_guess", json.dumps({"merchant": f.merchant_guess, **period_entity}))]
            if f.unknown_subject:
                dispatcher.utter_message(response="utter_spending_unknown_subject", subject=f.unknown_subject,
                                         buttons=[button(c.capitalize(), "spending_query", category=c, **period_entity)
                                                  for c in COMMON_CATEGORIES])
                # "I meant groceries in general" answers this question: it keeps the period asked about.
                return [] if period is None else [context_slot(f)]
            if period is None and category is None and merchant is None:
                dispatcher.utter_message(response="utter_spending_what",
                                         buttons=[button(c.capitalize(), "spending_query", category=c,
                                                         period="this month") for c in COMMON_CATEGORIES])
                return []
            if period is None:
                subject = {"merchant": merchant} if merchant else {"category": category} if category else {}
                dispatcher.utter_message(response="utter_spending_which_period",
                                         subject=_subject(category, merchant).strip(),
                                         buttons=[button(p.capitalize(), "spending_query", period=p, **subject)
                                                  for p in COMMON_PERIODS])
                # The answer may be just a period ("this month"): it keeps this question's subject.
                return [SlotSet("spending_context", json.dumps({"merchant": merchant, "category": category}))]
            group_by = "category" if not (category or merchant) else ("merchant" if category else None)
            result = await client.spending(start=period.start.isoformat(), end=period.end.isoformat(),
                                           category=category, merchant=merchant, group_by=group_by)
        except CoreUnavailable:
            return core_down(dispatcher)
        except CoreError as error:
            dispatcher.utter_message(response="utter_spending_refused", reason=error.title or error.code)
            return []
        dispatcher.utter_message(text=spending_sentence(result, category, merchant, period.label))
        return [context_slot(f), SlotSet("spending_guess", None)]


class ActionConfirmMerchantGuess(Action):
    """ "yes" to "Do you mean your payments at Starbucks?": the question asked, with that merchant."""

    def name(self) -> str:
        return "action_confirm_merchant_guess"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        guess = json.loads(tracker.get_slot("spending_guess") or "{}")
        entities = [{"entity": k, "value": v} for k, v in guess.items() if v]
        confirmed = tracker.copy()
        confirmed.latest_message = {**tracker.latest_message, "entities": entities, "text": ""}
        return await ActionAnswerSpending().run(dispatcher, confirmed, domain)


def spending_sentence(result: dict[str, Any], category: str | None, merchant: str | None, label: str) -> str:
    total, currency, count = result["total"], result["currency"], int(result.get("count", 0))
    subject = _subject(category, merchant)
    if count == 0:
        return f"You didn't spend anything{'' if subject == ' in total' else subject} {label}."
    payments = "payment" if count == 1 else "payments"
    lines = [f"You spent {money(total, currency)}{subject} {label} ({count} {payments})."]
    groups = [g for g in result.get("groups", []) if g.get("key")]
    if len(groups) > 1:
        top = sorted(groups, key=lambda g: -Decimal(g["total"]))[:BREAKDOWN_ROWS]
        lines.append("Biggest: " + ", ".join(f"{g['key']} {money(g['total'], currency)}" for g in top) + ".")
    return "\n".join(lines)
