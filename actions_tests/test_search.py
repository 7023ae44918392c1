"""action_search_transactions: the last N transactions, at a merchant, in a period, above an amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actions.search import ActionSearchTransactions
from actions_tests.conftest import Core
from actions_tests.support import covers, day, eur, last_month, run, tracker

pytestmark = [pytest.mark.anyio, covers(ActionSearchTransactions)]


def line(item: dict) -> str:
    label = item["merchant"] or item["description"] or item["kind"].replace("_", " ")
    return f"• {day(item['posted_at'])}  {label}  {eur(item['amount'])}"


async def test_the_last_three_transactions(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionSearchTransactions(), tracker(alice, "show me my last 3 transactions",
                                                        "search_transactions"), domain)
    items = core.get("alice", "/v1/transactions", limit=3)["items"]
    assert out.said == ["\n".join(["Your last 3 transactions:", *map(line, items)])]
    assert out.events == []


async def test_at_a_merchant_last_month(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionSearchTransactions(), tracker(alice, "my payments at Starbucks last month",
                                                        "search_transactions"), domain)
    start, end, label = last_month()
    items = core.get("alice", "/v1/transactions", **{"from": start, "to": end}, merchant="Starbucks",
                     limit=5)["items"]
    head = f"Your last {len(items)} transaction{'s' if len(items) != 1 else ''} at Starbucks {label}:"
    assert out.said == (["\n".join([head, *map(line, items)])] if items else
                        [f"I found no transactions at Starbucks {label}."])


async def test_above_an_amount(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionSearchTransactions(), tracker(alice, "transactions over 100 euro last month",
                                                        "search_transactions"), domain)
    start, end, label = last_month()
    scanned = core.get("alice", "/v1/transactions", **{"from": start, "to": end}, limit=200)["items"]
    big = [i for i in scanned if abs(Decimal(i["amount"])) >= 100][:5]
    assert big  # rent and salary at least
    assert out.said[0].splitlines()[1:] == [line(i) for i in big]
    assert out.said[0].splitlines()[0] == (f"Your last {len(big)} transactions {label} of €100.00 or more:")


async def test_nothing_found_says_so(alice: str, domain: dict) -> None:
    out = await run(ActionSearchTransactions(), tracker(alice, "transactions over 50000 euro last month",
                                                        "search_transactions"), domain)
    _, _, label = last_month()
    assert out.said == [f"I found no transactions {label} of €50,000.00 or more."]


async def test_payments_above_an_amount_are_money_out_only(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionSearchTransactions(), tracker(alice, "payments over 100 euro last month",
                                                        "search_transactions"), domain)
    start, end, _ = last_month()
    scanned = core.get("alice", "/v1/transactions", **{"from": start, "to": end}, limit=200)["items"]
    big = [i for i in scanned if Decimal(i["amount"]) <= -100][:5]
    assert big and any(Decimal(i["amount"]) >= 100 for i in scanned)  # there is money in that must be left out
    assert out.said[0].splitlines()[1:] == [line(i) for i in big]
