"""Conversations through POST /v1/chat/messages against the real stack and the trained model."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import httpx
import psycopg
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
EURO = re.compile(r"€(-?[\d,]+\.\d{2})")


def _text(reply: dict) -> str:
    return "\n".join(m["text"] or "" for m in reply["messages"])


def _get(stack: Stack, headers, path: str, **params):
    response = httpx.get(f"{stack.core_url}{path}", headers=headers, params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _balances(stack: Stack, headers) -> dict[str, Decimal]:
    return {a["type"]: Decimal(a["balance"]) for a in _get(stack, headers, "/v1/accounts")}


def _transactions(stack: Stack, headers, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = _get(stack, headers, "/v1/transactions", limit=200, **params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


def test_spending_on_coffee_last_month_is_exact(stack: Stack) -> None:
    alice = stack.login("alice")
    text = _text(stack.chat(alice, "how much did I spend on coffee last month?"))
    first = date.today().replace(day=1)
    start, end = (first - timedelta(days=1)).replace(day=1), first - timedelta(days=1)
    payments = [t for t in _transactions(stack, alice, category="coffee", **{"from": start.isoformat(),
                                                                              "to": end.isoformat()})
                if t["kind"] == "card_payment"]
    expected = -sum(Decimal(t["amount"]) for t in payments)
    said = [Decimal(m.replace(",", "")) for m in EURO.findall(text)]
    assert said and said[0] == expected, text
    assert start.strftime("%B") in text, text  # the period said back in words


def test_spending_without_details_asks_with_buttons(stack: Stack) -> None:
    reply = stack.chat(stack.login("alice"), "how much did I spend?")
    buttons = [b for m in reply["messages"] for b in m.get("buttons", [])]
    assert any("coffee" in b["payload"] for b in buttons), reply


def test_confirmed_transfer_moves_money_once(stack: Stack) -> None:
    alice = stack.login("alice")
    before = _balances(stack, alice)
    first = stack.chat(alice, "send 25 euros to my savings")
    conversation = first["conversation_id"]
    assert "confirm" in _text(first).lower(), _text(first)
    done = stack.chat(alice, "yes", conversation)
    assert "€25.00" in _text(done), _text(done)
    after = _balances(stack, alice)
    assert after["checking"] == before["checking"] - Decimal("25.00")
    assert after["savings"] == before["savings"] + Decimal("25.00")
    again = stack.chat(alice, "yes", conversation)
    assert "nothing waiting" in _text(again).lower(), _text(again)
    assert _balances(stack, alice) == after


def test_denied_transfer_moves_nothing(stack: Stack) -> None:
    alice = stack.login("alice")
    before = _balances(stack, alice)
    first = stack.chat(alice, "transfer 10 euros to my savings account")
    reply = stack.chat(alice, "no", first["conversation_id"])
    assert "nothing was sent" in _text(reply).lower(), _text(reply)
    assert _balances(stack, alice) == before


def test_unverified_customer_is_told_to_verify(stack: Stack) -> None:
    bob = stack.login("bob")
    before = _balances(stack, bob)
    first = stack.chat(bob, "send 5 euros to my savings")
    reply = stack.chat(bob, "yes", first["conversation_id"])
    assert "verify your identity" in _text(reply).lower(), _text(reply)
    assert _balances(stack, bob) == before


def test_lost_card_report_freezes_and_opens_a_case(stack: Stack) -> None:
    bob = stack.login("bob")
    first = stack.chat(bob, "I lost my card")
    assert "freeze" in _text(first).lower(), _text(first)
    reply = stack.chat(bob, "yes", first["conversation_id"])
    assert "fraud case" in _text(reply).lower(), _text(reply)
    cards = _get(stack, bob, "/v1/cards")
    assert cards[0]["status"] == "frozen"
    # A lost card's block is not the customer's to lift (409); support's reset puts it back for other tests.
    unfreeze = httpx.post(f"{stack.core_url}/v1/cards/{cards[0]['id']}/unfreeze", headers=bob, timeout=30)
    assert unfreeze.status_code == 409, unfreeze.text
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute("UPDATE cards SET status = 'active', freeze_reason = NULL WHERE id = %s", (cards[0]["id"],))


def test_decline_question_names_the_real_reason(stack: Stack) -> None:
    alice = stack.login("alice")
    latest = _get(stack, alice, "/v1/authorizations", status="declined", limit=1)[0]
    text = _text(stack.chat(alice, "why was my card payment declined?"))
    assert latest["decline_reason"] in text and latest["merchant"] in text, text


def test_faq_intent_gets_an_answer(stack: Stack) -> None:
    text = _text(stack.chat(stack.login("alice"), "Can I use Apple Pay with my card?"))
    assert "apple pay" in text.lower(), text
