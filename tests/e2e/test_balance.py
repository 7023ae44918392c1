"""The walking skeleton: "what's my balance?" through the chat endpoint, answered from the real ledger."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _amounts(text: str) -> set[Decimal]:
    return {Decimal(m.replace(",", "")) for m in re.findall(r"€(-?[\d,]+\.\d{2})", text)}


def _accounts(stack: Stack, headers: dict[str, str]) -> list[dict]:
    response = httpx.get(f"{stack.core_url}/v1/accounts", headers=headers, timeout=30)
    assert response.status_code == 200
    return response.json()


def test_alice_asks_for_her_balance(stack: Stack) -> None:
    alice = stack.login("alice")
    reply = stack.chat(alice, "what's my balance?")
    text = "\n".join(m["text"] or "" for m in reply["messages"])
    accounts = _accounts(stack, alice)
    assert len(accounts) == 2
    for account in accounts:
        assert account["name"] in text, text
        assert Decimal(account["balance"]) in _amounts(text), (account, text)


def test_bob_never_hears_alice_figures(stack: Stack) -> None:
    alice_balances = {Decimal(a["balance"]) for a in _accounts(stack, stack.login("alice"))}
    bob = stack.login("bob")
    text = "\n".join(m["text"] or "" for m in stack.chat(bob, "what's my balance?")["messages"])
    bob_balances = {Decimal(a["balance"]) for a in _accounts(stack, bob)}
    assert bob_balances <= _amounts(text), text
    assert not (alice_balances - bob_balances) & _amounts(text), text
    assert "Alice" not in text


def test_a_conversation_is_bound_to_its_customer(stack: Stack) -> None:
    alice, bob = stack.login("alice"), stack.login("bob")
    conversation_id = stack.chat(alice, "hello")["conversation_id"]
    hijack = httpx.post(f"{stack.core_url}/v1/chat/messages", headers=bob, timeout=30,
                        json={"text": "what's my balance?", "conversation_id": conversation_id})
    assert hijack.status_code == 404
    again = stack.chat(alice, "what's my balance?", conversation_id)
    assert again["conversation_id"] == conversation_id
