"""Customers on Telegram, Slack and SMS through the real stack (core, Rasa, action server, sandbox): the
webhooks signed as each provider signs them, the replies read back from the sandbox's record of what the core
asked each channel's API to send."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from api.channels.service import HOW_TO_LINK, LINKED, UNLINKED
from scripts import environment
from tests.channels.signing import (
    SLACK_PATH,
    TELEGRAM_PATH,
    TWILIO_PATH,
    new_phone,
    slack_block_action,
    slack_headers,
    slack_message,
    telegram_callback,
    telegram_headers,
    telegram_message,
    twilio_form,
    twilio_headers,
)
from tests.e2e.conftest import PORTS, Stack

pytestmark = pytest.mark.e2e
SANDBOX_URL = f"http://127.0.0.1:{PORTS['core'] + 100}"  # scripts/stack.py: the sandbox is the core's port + 100
REPLY_TIMEOUT_SECONDS = 90  # Rasa on two busy cores
OUT_OF_SCOPE = "what's the weather like today"  # answered with the main actions as buttons
BALANCE_BUTTON = "/check_balance"


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    """The secrets the stack's core and sandbox were given (scripts.stack resolves the same ones)."""
    return environment.resolve(["TELEGRAM_WEBHOOK_SECRET", "SLACK_SIGNING_SECRET", "TWILIO_AUTH_TOKEN"])


@pytest.fixture()
def unique() -> Callable[[], int]:
    counter = iter(range(1, 10**6))
    base = time.time_ns() % 10**9 * 1000
    return lambda: base + next(counter)


def _sent(channel: str, to: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{SANDBOX_URL}/sandbox/{channel}/sent", params={"to": to}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _wait_for(channel: str, to: str, after: int, *, until: Callable[[list[dict[str, Any]]], bool] | None = None,
              timeout: float = REPLY_TIMEOUT_SECONDS) -> list[dict[str, Any]]:
    """The records after the first `after`, once there is one (or `until` holds), polled until a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        new = _sent(channel, to)[after:]
        if (until(new) if until else bool(new)) or time.monotonic() > deadline:
            return new
        time.sleep(0.25)


def _amounts(text: str) -> set[Decimal]:
    return {Decimal(m.replace(",", "")) for m in re.findall(r"€(-?[\d,]+\.\d{2})", text)}


def _balances(stack: Stack, username: str) -> dict[str, Decimal]:
    response = httpx.get(f"{stack.core_url}/v1/accounts", headers=stack.login(username), timeout=30)
    assert response.status_code == 200, response.text
    return {a["name"]: Decimal(a["balance"]) for a in response.json()}


def _code(stack: Stack, username: str, channel: str) -> str:
    response = httpx.post(f"{stack.core_url}/v1/channel-links", json={"channel": channel},
                          headers=stack.login(username), timeout=30)
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


def _all_text(records: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in records)


def _answered_balance(records: list[dict[str, Any]], balances: dict[str, Decimal]) -> bool:
    text = _all_text(records)
    return all(name in text and balance in _amounts(text) for name, balance in balances.items())


class Telegram:
    def __init__(self, stack: Stack, secret: str, chat: int, unique: Callable[[], int]) -> None:
        self.stack, self.secret, self.chat, self.unique = stack, secret, chat, unique

    def post(self, update: dict[str, Any], secret: str | None = None) -> httpx.Response:
        return httpx.post(f"{self.stack.core_url}{TELEGRAM_PATH}", json=update, timeout=30,
                          headers=telegram_headers(self.secret if secret is None else secret))

    def say(self, text: str, **wait: Any) -> list[dict[str, Any]]:
        before = len(_sent("telegram", str(self.chat)))
        assert self.post(telegram_message(self.unique(), self.chat, text)).status_code == 200
        return _wait_for("telegram", str(self.chat), before, **wait)

    def press(self, data: str, **wait: Any) -> list[dict[str, Any]]:
        before = len(_sent("telegram", str(self.chat)))
        assert self.post(telegram_callback(self.unique(), self.chat, data)).status_code == 200
        return _wait_for("telegram", str(self.chat), before, **wait)


def test_linked_telegram_chat_gets_alices_real_balance(stack: Stack, secrets: dict[str, str],
                                                       unique: Callable[[], int]) -> None:
    chat = Telegram(stack, secrets["TELEGRAM_WEBHOOK_SECRET"], unique(), unique)
    assert [r["text"] for r in chat.say(f"/start {_code(stack, 'alice', 'telegram')}")] == [LINKED]
    balances = _balances(stack, "alice")
    assert len(balances) == 2
    replies = chat.say("what's my balance?", until=lambda new: _answered_balance(new, balances))
    assert _answered_balance(replies, balances), (balances, _all_text(replies))
    # The conversation is the link's own, on the telegram channel (the app lists it).
    links = httpx.get(f"{stack.core_url}/v1/channel-links", headers=stack.login("alice"), timeout=30).json()
    assert any(link["channel"] == "telegram" and link["revoked_at"] is None for link in links)


def test_an_unlinked_chat_gets_no_data(stack: Stack, secrets: dict[str, str], unique: Callable[[], int]) -> None:
    chat = Telegram(stack, secrets["TELEGRAM_WEBHOOK_SECRET"], unique(), unique)
    replies = chat.say("what's my balance?")
    assert [r["text"] for r in replies] == [HOW_TO_LINK["telegram"]]
    assert not _amounts(_all_text(replies))


def test_unlink_from_the_channel_and_from_the_app(stack: Stack, secrets: dict[str, str],
                                                  unique: Callable[[], int]) -> None:
    chat = Telegram(stack, secrets["TELEGRAM_WEBHOOK_SECRET"], unique(), unique)
    assert [r["text"] for r in chat.say(f"/start {_code(stack, 'bob', 'telegram')}")] == [LINKED]
    assert [r["text"] for r in chat.say("unlink")] == [UNLINKED]
    assert [r["text"] for r in chat.say("what's my balance?")] == [HOW_TO_LINK["telegram"]]
    assert [r["text"] for r in chat.say(f"/start {_code(stack, 'bob', 'telegram')}")] == [LINKED]
    bob = stack.login("bob")
    live = [link for link in httpx.get(f"{stack.core_url}/v1/channel-links", headers=bob, timeout=30).json()
            if link["revoked_at"] is None]
    assert len(live) == 1
    deleted = httpx.delete(f"{stack.core_url}/v1/channel-links/{live[0]['id']}", headers=bob, timeout=30)
    assert deleted.status_code == 200 and deleted.json()["revoked_at"] is not None
    assert [r["text"] for r in chat.say("what's my balance?")] == [HOW_TO_LINK["telegram"]]


def test_bad_signatures_are_refused_and_nothing_is_sent(stack: Stack, secrets: dict[str, str],
                                                        unique: Callable[[], int]) -> None:
    chat, user, phone = unique(), f"U{unique()}", new_phone()
    refused = [
        httpx.post(f"{stack.core_url}{TELEGRAM_PATH}", json=telegram_message(unique(), chat, "balance"),
                   headers=telegram_headers("wrong-secret-token"), timeout=30),
        httpx.post(f"{stack.core_url}{SLACK_PATH}", content=(body := slack_message(f"Ev{unique()}", user, "balance")),
                   headers=slack_headers("wrong-signing-secret", body), timeout=30),
        httpx.post(f"{stack.core_url}{TWILIO_PATH}", data=(form := twilio_form(f"SM{unique()}", phone, "balance")),
                   headers=twilio_headers("wrong-auth-token", stack.core_url, form), timeout=30),
    ]
    for response in refused:
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    # A genuine message afterwards is answered, so the silence above was the refusal, not a slow stack.
    ok = httpx.post(f"{stack.core_url}{TELEGRAM_PATH}", json=telegram_message(unique(), chat, "hi"),
                    headers=telegram_headers(secrets["TELEGRAM_WEBHOOK_SECRET"]), timeout=30)
    assert ok.status_code == 200
    assert [r["text"] for r in _wait_for("telegram", str(chat), 0)] == [HOW_TO_LINK["telegram"]]
    assert _sent("slack", user) == [] and _sent("twilio", phone) == []


def _has_buttons(new: list[dict[str, Any]]) -> bool:
    return any(r["buttons"] for r in new)


def test_buttons_on_telegram_are_an_inline_keyboard(stack: Stack, secrets: dict[str, str],
                                                    unique: Callable[[], int]) -> None:
    chat = Telegram(stack, secrets["TELEGRAM_WEBHOOK_SECRET"], unique(), unique)
    assert [r["text"] for r in chat.say(f"/start {_code(stack, 'alice', 'telegram')}")] == [LINKED]
    prompt = next(r for r in chat.say(OUT_OF_SCOPE, until=_has_buttons) if r["buttons"])
    keyboard = prompt["request"]["reply_markup"]["inline_keyboard"]
    assert {"text": "My balance", "callback_data": BALANCE_BUTTON} in [button for row in keyboard for button in row]
    balances = _balances(stack, "alice")
    replies = chat.press(BALANCE_BUTTON, until=lambda new: _answered_balance(new, balances))
    assert _answered_balance(replies, balances), _all_text(replies)


def test_buttons_on_slack_are_block_kit(stack: Stack, secrets: dict[str, str], unique: Callable[[], int]) -> None:
    secret, user = secrets["SLACK_SIGNING_SECRET"], f"U{unique()}"

    def post(body: bytes, form: bool = False) -> None:
        kind = "application/x-www-form-urlencoded" if form else "application/json"
        response = httpx.post(f"{stack.core_url}{SLACK_PATH}", content=body, timeout=30,
                              headers=slack_headers(secret, body, content_type=kind))
        assert response.status_code == 200, response.text

    post(slack_message(f"Ev{unique()}", user, f"link {_code(stack, 'alice', 'slack')}"))
    assert [r["text"] for r in _wait_for("slack", user, 0)] == [LINKED]
    before = len(_sent("slack", user))
    post(slack_message(f"Ev{unique()}", user, OUT_OF_SCOPE))
    prompt = next(r for r in _wait_for("slack", user, before, until=_has_buttons) if r["buttons"])
    actions = next(block for block in prompt["request"]["blocks"] if block["type"] == "actions")
    assert {(e["type"], e["text"]["text"], e["value"]) for e in actions["elements"]} >= \
        {("button", "My balance", BALANCE_BUTTON)}
    balances = _balances(stack, "alice")
    before = len(_sent("slack", user))
    post(slack_block_action(f"{unique()}.1.x", user, BALANCE_BUTTON), form=True)
    replies = _wait_for("slack", user, before, until=lambda new: _answered_balance(new, balances))
    assert _answered_balance(replies, balances), _all_text(replies)


def test_buttons_by_sms_are_numbered_options(stack: Stack, secrets: dict[str, str], unique: Callable[[], int]) -> None:
    token, phone = secrets["TWILIO_AUTH_TOKEN"], new_phone()

    def text(body: str, **wait: Any) -> list[dict[str, Any]]:
        before = len(_sent("twilio", phone))
        form = twilio_form(f"SM{unique()}", phone, body)
        response = httpx.post(f"{stack.core_url}{TWILIO_PATH}", data=form, timeout=30,
                              headers=twilio_headers(token, stack.core_url, form))
        assert response.status_code == 200, response.text
        return _wait_for("twilio", phone, before, **wait)

    assert [r["text"] for r in text(f"link {_code(stack, 'alice', 'sms')}")] == [LINKED]
    prompt = text(OUT_OF_SCOPE, until=lambda new: any("Reply 1 for" in r["text"] for r in new))
    options = next(r["text"] for r in prompt if "Reply 1 for" in r["text"])
    assert "Reply 1 for My balance, 2 for My spending" in options, options
    balances = _balances(stack, "alice")
    replies = text("1", until=lambda new: _answered_balance(new, balances))
    assert _answered_balance(replies, balances), _all_text(replies)


def test_a_handoff_from_slack_is_answered_by_an_agent_on_slack(stack: Stack, secrets: dict[str, str],
                                                               unique: Callable[[], int]) -> None:
    secret, user = secrets["SLACK_SIGNING_SECRET"], f"U{unique()}"

    def say(text: str, **wait: Any) -> list[dict[str, Any]]:
        before = len(_sent("slack", user))
        body = slack_message(f"Ev{unique()}", user, text)
        response = httpx.post(f"{stack.core_url}{SLACK_PATH}", content=body, timeout=30,
                              headers=slack_headers(secret, body))
        assert response.status_code == 200, response.text
        return _wait_for("slack", user, before, **wait)

    assert [r["text"] for r in say(f"link {_code(stack, 'alice', 'slack')}")] == [LINKED]
    asked = say("I want to talk to a person", until=lambda new: "colleague" in _all_text(new))
    assert "colleague" in _all_text(asked), _all_text(asked)
    link = next(link for link in httpx.get(f"{stack.core_url}/v1/channel-links", headers=stack.login("alice"),
                                           timeout=30).json() if link["channel"] == "slack" and not link["revoked_at"])
    agent = stack.login("agent")
    queue = httpx.get(f"{stack.core_url}/v1/handoffs", headers=agent, timeout=30).json()
    handoff = next(h for h in queue if h["conversation_id"] == link["conversation_id"])
    assert (handoff["status"], handoff["channel"]) == ("waiting", "slack")
    claimed = httpx.post(f"{stack.core_url}/v1/handoffs/{handoff['id']}/claim", headers=agent, timeout=60)
    assert claimed.status_code == 200, claimed.text

    before = len(_sent("slack", user))
    written = httpx.post(f"{stack.core_url}/v1/handoffs/{handoff['id']}/messages", headers=agent, timeout=60,
                         json={"text": "Hello Alice, this is Sam from support. How can I help?"})
    assert written.status_code == 201, written.text
    delivered = _wait_for("slack", user, before)
    assert [r["text"] for r in delivered] == [written.json()["text"]]  # the stored (redacted) line, on Slack

    before = len(_sent("slack", user))
    released = httpx.post(f"{stack.core_url}/v1/handoffs/{handoff['id']}/release", headers=agent, timeout=60)
    assert released.status_code == 200, released.text
    back = _wait_for("slack", user, before, until=lambda new: "anything else" in _all_text(new))
    assert "anything else" in _all_text(back), _all_text(back)
