"""Spending insights are exact: equal to the sum of the matching transactions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient

from tests.api.helpers import is_problem


def _all_transactions(client: TestClient, headers, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/transactions", headers=headers, params=query).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_coffee_last_month_equals_its_transactions(client: TestClient, alice) -> None:
    first = date.today().replace(day=1)
    start = (first - timedelta(days=1)).replace(day=1)
    end = first - timedelta(days=1)
    params = {"from": start.isoformat(), "to": end.isoformat(), "category": "coffee"}
    insight = client.get("/v1/insights/spending", headers=alice, params=params).json()
    payments = [t for t in _all_transactions(client, alice, **params) if t["kind"] == "card_payment"]
    assert payments, "alice drinks coffee every month"
    assert Decimal(insight["total"]) == -sum(Decimal(t["amount"]) for t in payments)
    assert insight["count"] == len(payments) and insight["currency"] == "EUR"


def test_grouping_by_category_adds_up(client: TestClient, alice) -> None:
    start = (date.today() - timedelta(days=90)).isoformat()
    insight = client.get("/v1/insights/spending", headers=alice,
                         params={"from": start, "group_by": "category"}).json()
    categories = {g["key"] for g in insight["groups"]}
    assert {"coffee", "groceries", "restaurants", "transport", "rent", "subscriptions"} <= categories
    assert sum(Decimal(g["total"]) for g in insight["groups"]) == Decimal(insight["total"])


def test_merchant_filter_and_month_groups(client: TestClient, alice) -> None:
    insight = client.get("/v1/insights/spending", headers=alice,
                         params={"merchant": "starbucks", "group_by": "month"}).json()
    assert Decimal(insight["total"]) > 0 and len(insight["groups"]) >= 10


def test_transactions_pagination_has_no_gaps_or_repeats(client: TestClient, alice) -> None:
    start = (date.today() - timedelta(days=60)).isoformat()
    items = _all_transactions(client, alice, **{"from": start})
    ids = [(t["id"], t["account_id"]) for t in items]
    assert len(ids) == len(set(ids)) > 50
    times = [t["posted_at"] for t in items]
    assert times == sorted(times, reverse=True)


def test_point_in_time_balance(client: TestClient, alice) -> None:
    checking = next(a for a in client.get("/v1/accounts", headers=alice).json() if a["type"] == "checking")
    old = client.get(f"/v1/accounts/{checking['id']}/balance?as_of=2020-01-01T00:00:00Z", headers=alice).json()
    assert old["balance"] == "0.00"
    now = client.get(f"/v1/accounts/{checking['id']}/balance", headers=alice).json()
    assert now["balance"] == checking["balance"]


def test_bad_query_parameters_are_422(client: TestClient, alice) -> None:
    for params in ({"from": "yesterday"}, {"from": "2026-02-30"}, {"from": "2026-05-01", "to": "2026-04-01"},
                   {"group_by": "weekday"}, {"category": "DROP TABLE"}, {"from": "2026-01-01T00:00:00"}):
        is_problem(client.get("/v1/insights/spending", headers=alice, params=params), 422)
    is_problem(client.get("/v1/transactions", headers=alice, params={"cursor": "garbage"}), 422)
    is_problem(client.get("/v1/transactions", headers=alice, params={"limit": 100000}), 422)
