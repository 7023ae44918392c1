"""An external transfer through the chat, paid by the stack's saga workers through the provider sandbox,
and followed in the chat: "where is my transfer?" is answered from the saga's state."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def _text(reply: dict) -> str:
    return "\n".join(m["text"] or "" for m in reply["messages"])


def test_a_payee_transfer_in_the_chat_is_paid_and_followed_to_its_arrival(stack: Stack) -> None:
    alice = stack.login("alice")
    first = stack.chat(alice, "send 12.50 euros to Mary Martin from my checking account")
    conversation = first["conversation_id"]
    assert "€12.50" in _text(first) and "Mary Martin" in _text(first), _text(first)
    stack.chat(alice, "yes", conversation)
    transfers = httpx.get(f"{stack.core_url}/v1/transfers", headers=alice, params={"limit": 1}, timeout=30).json()
    latest = transfers[0]
    assert (latest["counterparty"]["name"], Decimal(latest["amount"])) == ("Mary Martin", Decimal("12.50"))
    deadline, seen = time.monotonic() + 60, latest
    while time.monotonic() < deadline and seen["status"] != "completed":
        seen = httpx.get(f"{stack.core_url}/v1/transfers/{latest['id']}", headers=alice, timeout=30).json()
        time.sleep(0.25)
    assert seen["status"] == "completed", seen  # paid on the rails by a saga worker, the hold posted
    assert [s["name"] for s in seen["steps"]][-1] == "settled"
    answer = _text(stack.chat(alice, "is my transfer still pending?"))
    assert "€12.50 to Mary Martin" in answer and "arrived" in answer, answer
