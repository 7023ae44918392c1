"""A customer on Telegram hears the bank's news there first, and a large transfer asked for there waits for
the app: through the real stack (core, Rasa, action server, saga workers, sandbox)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
import pytest

from api.channels.service import LINKED, UNLINKED
from api.config import Settings
from tests.e2e.conftest import Stack
from tests.e2e.test_channels import Telegram, _all_text, _balances, _code, _sent, secrets, unique  # noqa: F401

pytestmark = pytest.mark.e2e
NEWS_TIMEOUT_SECONDS = 90  # the workers relay the outbox every few seconds; two busy cores


@contextmanager
def _linked_chat(stack: Stack, secret: str, ids: Callable[[], int], username: str) -> Iterator[Telegram]:
    """A Telegram chat linked to the customer for the test, unlinked after it (later tests count links)."""
    chat = Telegram(stack, secret, ids(), ids)
    assert [r["text"] for r in chat.say(f"/start {_code(stack, username, 'telegram')}")] == [LINKED]
    try:
        yield chat
    finally:
        assert UNLINKED in [r["text"] for r in chat.say("unlink", until=lambda new: UNLINKED in _all_text(new))]


def test_a_card_frozen_in_the_app_is_told_on_telegram(stack: Stack, secrets: dict[str, str],  # noqa: F811
                                                      unique: Callable[[], int]) -> None:  # noqa: F811
    with _linked_chat(stack, secrets["TELEGRAM_WEBHOOK_SECRET"], unique, "alice") as chat:
        chat.say("hello")  # Telegram is now the conversation alice used last
        alice = stack.login("alice")
        card = httpx.get(f"{stack.core_url}/v1/cards", headers=alice, timeout=30).json()[0]
        frozen = httpx.post(f"{stack.core_url}/v1/cards/{card['id']}/freeze", headers=alice, timeout=30)
        assert frozen.status_code == 200, frozen.text
        try:
            assert _told(chat, f"Your card ending {card['last4']} is frozen") == 1
        finally:
            httpx.post(f"{stack.core_url}/v1/cards/{card['id']}/unfreeze", headers=alice, timeout=30)
        assert _told(chat, f"Your card ending {card['last4']} is active again") == 1


def _told(chat: Telegram, news: str) -> int:
    """How many times the news reached the chat, once it has (or the deadline passed)."""
    deadline = time.monotonic() + NEWS_TIMEOUT_SECONDS
    while True:
        told = [r for r in _sent("telegram", str(chat.chat)) if news in r["text"]]
        if told or time.monotonic() > deadline:
            return len(told)
        time.sleep(0.5)


def test_a_large_transfer_asked_for_on_telegram_waits_for_the_app(stack: Stack, secrets: dict[str, str],  # noqa: F811
                                                                  unique: Callable[[], int]) -> None:  # noqa: F811
    with _linked_chat(stack, secrets["TELEGRAM_WEBHOOK_SECRET"], unique, "alice") as chat:
        amount = Decimal(Settings.model_fields["channel_app_approval_above_minor"].default) / 100 + 50  # the stack's
        before = _balances(stack, "alice")
        summary = _all_text(chat.say(f"move {amount} euros from my checking account to my savings account",
                                     until=lambda new: "confirm" in _all_text(new).lower()))
        assert "confirm" in summary.lower(), summary
        answer = _all_text(chat.say("yes", until=lambda new: "app" in _all_text(new)))
        assert "approval in the banking app" in answer, answer
        assert _balances(stack, "alice") == before, "nothing moves before the app"
        alice = stack.login("alice")
        waiting = httpx.get(f"{stack.core_url}/v1/transfer-approvals", headers=alice, timeout=30).json()
        mine = [a for a in waiting if Decimal(a["transfer"]["amount"]) == amount and a["channel"] == "telegram"]
        assert len(mine) == 1, waiting
        approved = httpx.post(f"{stack.core_url}/v1/transfer-approvals/{mine[0]['approval_id']}/approve", headers=alice,
                              timeout=30)
        assert approved.status_code == 201 and approved.json()["status"] == "completed", approved.text
        after = _balances(stack, "alice")
        assert sum(after.values()) == sum(before.values()) and after != before


def test_an_overdue_handoff_on_telegram_offers_a_callback_that_the_button_requests(
        stack: Stack, secrets: dict[str, str], unique: Callable[[], int]) -> None:  # noqa: F811
    with _linked_chat(stack, secrets["TELEGRAM_WEBHOOK_SECRET"], unique, "bob") as chat:
        chat.say("I want to talk to a person", until=lambda new: "support team" in _all_text(new))
        assert _told(chat, "Our support team is busy right now") == 1  # HANDOFF_CLAIM_TIMEOUT_SECONDS in conftest
        offer = next(r for r in _sent("telegram", str(chat.chat)) if "Our support team is busy" in r["text"])
        assert [b["title"] for b in offer.get("buttons") or []] == ["Call me back"], offer
        chat.press(offer["buttons"][0]["payload"], until=lambda new: "call you back" in _all_text(new))
        assert _told(chat, "will call you back on your registered phone number") == 1
        agent = stack.login("agent")
        queue = httpx.get(f"{stack.core_url}/v1/handoffs", headers=agent, timeout=30).json()
        mine = [h for h in queue if h["channel"] == "telegram" and h["customer_name"] == "Bob Keller"
                and h["callback_requested"] and h["overdue"]]
        assert mine, queue
        for handoff in mine:  # handed back, so later tests see an empty queue
            for action in ("claim", "release"):
                done = httpx.post(f"{stack.core_url}/v1/handoffs/{handoff['id']}/{action}", headers=agent, timeout=60)
                assert done.status_code == 200, done.text
