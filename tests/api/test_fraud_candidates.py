"""Which payments a fraud report may be about, and which declines are cash: rules the core owns."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import is_problem

KINDS = ("card_payment_not_recognised", "cash_withdrawal_not_recognised", "direct_debit_payment_not_recognised")


def _recent_outgoing(client: TestClient, headers) -> list[dict]:
    page = client.get("/v1/transactions", headers=headers, params={"limit": 200})
    assert page.status_code == 200, page.text
    return [t for t in page.json()["items"] if t["amount"].startswith("-")]


def test_candidates_follow_the_rule_for_each_kind(client: TestClient, alice) -> None:
    outgoing = _recent_outgoing(client, alice)
    expected = {
        "cash_withdrawal_not_recognised": [t["id"] for t in outgoing if t["category"] == "cash"],
        "direct_debit_payment_not_recognised": [t["id"] for t in outgoing
                                                if t["category"] in ("subscriptions", "utilities", "rent")],
        "card_payment_not_recognised": [t["id"] for t in outgoing
                                        if t["kind"] == "card_payment" and t["category"] != "cash"],
    }
    for kind in KINDS:
        response = client.get("/v1/fraud-reports/candidates", headers=alice, params={"kind": kind, "limit": 10})
        assert response.status_code == 200, response.text
        got = [t["id"] for t in response.json()]
        assert got and got == expected[kind][:10], kind  # newest first, only payments of that kind


def test_candidates_refuse_a_kind_that_is_about_a_card_and_bad_limits(client: TestClient, alice) -> None:
    is_problem(client.get("/v1/fraud-reports/candidates", headers=alice, params={"kind": "lost_or_stolen_card"}),
               422)
    is_problem(client.get("/v1/fraud-reports/candidates", headers=alice,
                          params={"kind": KINDS[0], "limit": 11}), 422)


def test_declined_authorizations_filter_cash_withdrawals_and_card_payments(client: TestClient, alice) -> None:
    every = client.get("/v1/authorizations", headers=alice, params={"status": "declined", "limit": 100}).json()
    cash = client.get("/v1/authorizations", headers=alice,
                      params={"status": "declined", "limit": 100, "kind": "cash_withdrawal"}).json()
    cards = client.get("/v1/authorizations", headers=alice,
                       params={"status": "declined", "limit": 100, "kind": "card_payment"}).json()
    assert cash and all(a["category"] == "cash" for a in cash)
    assert cards and all(a["category"] != "cash" for a in cards)
    assert sorted(a["id"] for a in cash + cards) == sorted(a["id"] for a in every)
    is_problem(client.get("/v1/authorizations", headers=alice, params={"kind": "cheque"}), 422)
