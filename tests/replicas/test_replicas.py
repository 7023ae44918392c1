"""The end-to-end tests that matter most, on two of each service behind a balancer, plus proof that one
conversation's turns really do cross instances (Rasa's tracker and lock in Redis, nothing in memory)."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from tests.e2e.conftest import Stack

# A representative subset of the end-to-end suite, collected here against the replicated stack (the
# `stack` fixture of tests/replicas/conftest.py): a balance turn, customer binding, spending, a confirmed
# transfer, and the whole live handoff (pause on one Rasa, resume through the other).
from tests.e2e.test_balance import test_a_conversation_is_bound_to_its_customer, test_alice_asks_for_her_balance
from tests.e2e.test_conversations import (
    test_confirmed_transfer_moves_money_once,
    test_spending_on_coffee_last_month_is_exact,
)
from tests.e2e.test_handoff import test_handoff_round_trip
from tests.replicas.conftest import ACTIONS_PORT, CORE_PORT, RASA_PORT, balanced

pytestmark = pytest.mark.e2e
__all__ = ["test_a_conversation_is_bound_to_its_customer", "test_alice_asks_for_her_balance",
           "test_confirmed_transfer_moves_money_once", "test_handoff_round_trip",
           "test_spending_on_coffee_last_month_is_exact"]
WEBHOOK = "/webhooks/rest/webhook"


def _text(reply: dict) -> str:
    return "\n".join(m["text"] or "" for m in reply["messages"])


def _balances(stack: Stack, headers: dict[str, str]) -> dict[str, Decimal]:
    response = httpx.get(f"{stack.core_url}/v1/accounts", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return {a["type"]: Decimal(a["balance"]) for a in response.json()}


def _since(port: int, mark: int) -> list[list]:
    """The balancer's requests on `port` after request number `mark`: [number, upstream, method, path]."""
    return [r for r in balanced(port)["recent"] if r[0] > mark]


def test_a_transfer_confirmed_on_the_other_rasa_and_action_server(stack: Stack) -> None:
    alice = stack.login("alice")
    before = _balances(stack, alice)
    start = {port: balanced(port)["served"] for port in (CORE_PORT, RASA_PORT, ACTIONS_PORT)}

    asked = stack.chat(alice, "send 12 euros from my checking account to my savings account")
    assert "confirm" in _text(asked).lower(), _text(asked)
    between = balanced(RASA_PORT)["served"]
    done = stack.chat(alice, "yes", asked["conversation_id"])
    assert "€12.00" in _text(done), _text(done)

    # The question and its confirmation were handled by different Rasa servers: the conversation's
    # state (the summary waiting for a yes) lived in the shared tracker store, not in one process.
    first = [r[1] for r in _since(RASA_PORT, start[RASA_PORT]) if r[3] == WEBHOOK and r[0] <= between]
    second = [r[1] for r in _since(RASA_PORT, between) if r[3] == WEBHOOK]
    assert len(first) == len(second) == 1 and first != second, (first, second)
    # The action calls of those turns went to both action servers, and the core calls to both cores.
    for port in (ACTIONS_PORT, CORE_PORT):
        upstreams = {r[1] for r in _since(port, start[port])}
        assert len(upstreams) == 2, (port, upstreams)
    after = _balances(stack, alice)
    assert after["checking"] == before["checking"] - Decimal("12.00")
    assert after["savings"] == before["savings"] + Decimal("12.00")


def test_every_replica_served(stack: Stack) -> None:
    """Whatever ran before, each instance behind each listener has answered requests: the public ones through a
    chat turn; the internal one, which a turn no longer calls (the core seals the action server's token with the
    message, api/grants/sealing.py; the grant trade there is a fallback), through its health check, twice."""
    stack.chat(stack.login("alice"), "what's my balance?")
    for _ in range(2):  # the balancer takes turns
        assert httpx.get(f"http://127.0.0.1:{CORE_PORT + 1}/healthz", timeout=10).status_code == 200
    for port in (CORE_PORT, CORE_PORT + 1, RASA_PORT, ACTIONS_PORT):
        counts = balanced(port)["counts"]
        assert len(counts) == 2 and all(n > 0 for n in counts.values()), (port, counts)
