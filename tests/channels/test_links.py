"""Linking a channel identity to a customer with a one-time code, and unlinking it from the app and from the
channel, on the real app, database, Redis and sandbox (no Rasa here: forwarding is in tests/e2e)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from api.channels import service
from tests.api.helpers import is_problem
from tests.channels.conftest import CHANNEL_SECRETS, PUBLIC_BASE_URL, Channels
from tests.channels.signing import (
    SLACK_PATH,
    TELEGRAM_PATH,
    TWILIO_PATH,
    new_phone,
    slack_headers,
    slack_message,
    telegram_headers,
    telegram_message,
    twilio_form,
    twilio_headers,
)
from tests.conftest import login

TG_SECRET = CHANNEL_SECRETS["TELEGRAM_WEBHOOK_SECRET"]


@pytest.fixture(scope="module")
def alice(channels: Channels) -> dict[str, str]:
    return login(channels.client, "alice")


@pytest.fixture(scope="module")
def bob(channels: Channels) -> dict[str, str]:
    return login(channels.client, "bob")


def _code(channels: Channels, headers: dict[str, str], channel: str) -> str:
    response = channels.client.post("/v1/channel-links", json={"channel": channel}, headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)
    return str(body["code"])


def _telegram(channels: Channels, chat: int, update: int, text: str) -> list[str]:
    before = len(channels.sent("telegram", str(chat)))
    response = channels.client.post(TELEGRAM_PATH, json=telegram_message(update, chat, text),
                                    headers=telegram_headers(TG_SECRET))
    assert response.status_code == 200, response.text
    return [m["text"] for m in channels.wait_sent("telegram", str(chat), before + 1)[before:]]


def _live_links(channels: Channels, channel: str, external_id: str) -> list[tuple]:
    with psycopg.connect(channels.database_url) as conn:
        return conn.execute("SELECT l.customer_id, c.channel, l.conversation_id FROM channel_links l "
                            "JOIN conversations c ON c.id = l.conversation_id "
                            "WHERE l.channel = %s AND l.external_id = %s AND l.revoked_at IS NULL",
                            (channel, external_id)).fetchall()


def _customer_id(channels: Channels, username: str) -> object:
    with psycopg.connect(channels.database_url) as conn:
        row = conn.execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()
    assert row is not None
    return row[0]


def test_only_a_hash_of_the_code_is_stored(channels: Channels, alice: dict[str, str]) -> None:
    code = _code(channels, alice, "telegram")
    assert len(code.replace("-", "")) == 10
    with psycopg.connect(channels.database_url) as conn:
        rows = conn.execute("SELECT code_hash, channel FROM channel_link_codes ORDER BY created_at DESC LIMIT 1"
                            ).fetchall()
    assert rows == [(hashlib.sha256(code.replace("-", "").encode()).hexdigest(), "telegram")]
    with psycopg.connect(channels.database_url) as conn:
        dump = conn.execute("SELECT string_agg(t::text, ' ') FROM channel_link_codes t").fetchone()
    assert dump is not None and code.replace("-", "") not in (dump[0] or "")


def test_link_with_start_code_then_unlink_on_the_channel(channels: Channels, alice: dict[str, str],
                                                         unique: Callable[[], int]) -> None:
    chat = unique()
    code = _code(channels, alice, "telegram")
    assert _telegram(channels, chat, unique(), f"/start {code}") == [service.LINKED]
    links = _live_links(channels, "telegram", str(chat))
    assert [(customer, kind) for customer, kind, _ in links] == [(_customer_id(channels, "alice"), "telegram")]
    listed = channels.client.get("/v1/channel-links", headers=alice).json()
    assert any(item["conversation_id"] == str(links[0][2]) and item["revoked_at"] is None for item in listed)
    assert "external_id" not in listed[0] and "address" not in listed[0]
    # A bare `/start` is a channel command, never words for the bot (no Rasa here: forwarding would say so).
    assert _telegram(channels, chat, unique(), "/start") == [service.ALREADY_LINKED]
    # Words are forwarded to the assistant; with none reachable the customer is told to try again, no 500.
    assert _telegram(channels, chat, unique(), "what's my balance?") == [service.UNAVAILABLE]
    # Single use: the same code from another chat links nothing.
    other = unique()
    assert _telegram(channels, other, unique(), f"/start {code}") == [service.BAD_CODE]
    assert _live_links(channels, "telegram", str(other)) == []
    assert _telegram(channels, chat, unique(), "unlink") == [service.UNLINKED]
    assert _live_links(channels, "telegram", str(chat)) == []
    # Unlinked again: the chat hears only how to link.
    assert _telegram(channels, chat, unique(), "what's my balance?") == [service.HOW_TO_LINK["telegram"]]


def test_unlink_from_the_app(channels: Channels, alice: dict[str, str], bob: dict[str, str],
                             unique: Callable[[], int]) -> None:
    chat = unique()
    assert _telegram(channels, chat, unique(), f"/start {_code(channels, alice, 'telegram')}") == [service.LINKED]
    link_id = next(item["id"] for item in channels.client.get("/v1/channel-links", headers=alice).json()
                   if item["revoked_at"] is None and item["channel"] == "telegram")
    is_problem(channels.client.delete(f"/v1/channel-links/{link_id}", headers=bob), 404, "channel_link_not_found")
    assert _live_links(channels, "telegram", str(chat)) != []  # bob changed nothing
    response = channels.client.delete(f"/v1/channel-links/{link_id}", headers=alice)
    assert response.status_code == 200 and response.json()["revoked_at"] is not None
    assert _live_links(channels, "telegram", str(chat)) == []
    assert _telegram(channels, chat, unique(), "balance") == [service.HOW_TO_LINK["telegram"]]
    with psycopg.connect(channels.database_url) as conn:
        audit = conn.execute("SELECT action, actor FROM audit_log WHERE target_type = 'channel_link' "
                             "AND target_id = %s ORDER BY id", (link_id,)).fetchall()
    assert [action for action, _ in audit] == ["channel_link.linked", "channel_link.revoked"]
    assert audit[0][1] == "channel:telegram" and audit[1][1].startswith("alice (")


def test_slack_and_sms_link_with_link_code(channels: Channels, alice: dict[str, str],
                                           unique: Callable[[], int]) -> None:
    user = f"U{unique()}"
    code = _code(channels, alice, "slack")
    body = slack_message(f"Ev{unique()}", user, f"link {code.lower()}")  # case and dashes do not matter
    assert channels.client.post(SLACK_PATH, content=body,
                                headers=slack_headers(CHANNEL_SECRETS["SLACK_SIGNING_SECRET"], body)).status_code == 200
    assert [m["text"] for m in channels.wait_sent("slack", user, 1)] == [service.LINKED]
    assert len(_live_links(channels, "slack", f"T0TEST:{user}")) == 1
    phone = new_phone()
    telegram_code = _code(channels, alice, "telegram")
    for text, reply in ((f"link {telegram_code}", service.BAD_CODE),  # a code is for its own channel only
                        (f"LINK {_code(channels, alice, 'sms')}", service.LINKED)):
        form = twilio_form(f"SM{unique()}", phone, text)
        before = len(channels.sent("twilio", phone))
        assert channels.client.post(TWILIO_PATH, data=form, headers=twilio_headers(
            CHANNEL_SECRETS["TWILIO_AUTH_TOKEN"], PUBLIC_BASE_URL, form)).status_code == 200
        assert [m["text"] for m in channels.wait_sent("twilio", phone, before + 1)[before:]] == [reply]
    assert len(_live_links(channels, "sms", phone)) == 1


def test_an_expired_code_links_nothing(channels: Channels, alice: dict[str, str], unique: Callable[[], int]) -> None:
    code = _code(channels, alice, "telegram")
    with psycopg.connect(channels.database_url) as conn:
        conn.execute("UPDATE channel_link_codes SET expires_at = now() - interval '1 second' WHERE code_hash = %s",
                     (hashlib.sha256(code.replace("-", "").encode()).hexdigest(),))
    chat = unique()
    assert _telegram(channels, chat, unique(), f"/start {code}") == [service.BAD_CODE]
    assert _live_links(channels, "telegram", str(chat)) == []


def test_code_guessing_is_rate_limited_per_identity(channels: Channels, alice: dict[str, str],
                                                    unique: Callable[[], int]) -> None:
    chat = unique()
    for n in range(10):
        assert _telegram(channels, chat, unique(), f"/start WRONG{n:05d}") == [service.BAD_CODE]
    # The eleventh try is refused before the code is even looked at, a valid one included.
    assert _telegram(channels, chat, unique(), f"/start {_code(channels, alice, 'telegram')}") == \
        [service.TOO_MANY_TRIES]
    assert _live_links(channels, "telegram", str(chat)) == []


def test_only_customers_make_codes(channels: Channels) -> None:
    agent = login(channels.client, "agent")
    is_problem(channels.client.post("/v1/channel-links", json={"channel": "telegram"}, headers=agent), 403)
    is_problem(channels.client.post("/v1/channel-links", json={"channel": "telegram"}), 401)
    customer = login(channels.client, "bob")
    is_problem(channels.client.post("/v1/channel-links", json={"channel": "whatsapp"}, headers=customer), 422)
