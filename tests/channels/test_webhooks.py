"""The channel webhooks on the real app, database, Redis and sandbox: verified before anything else, each
delivery acted on once, bad shapes refused with a problem, and an unlinked identity told only how to link."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from api.channels.service import HOW_TO_LINK
from tests.api.helpers import is_problem
from tests.channels.conftest import CHANNEL_SECRETS, PUBLIC_BASE_URL, Channels
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

TG_SECRET = CHANNEL_SECRETS["TELEGRAM_WEBHOOK_SECRET"]
SLACK_SECRET = CHANNEL_SECRETS["SLACK_SIGNING_SECRET"]
TWILIO_TOKEN = CHANNEL_SECRETS["TWILIO_AUTH_TOKEN"]


# --- Telegram ----------------------------------------------------------------------------------------------

def test_telegram_accepted_and_an_unlinked_chat_is_told_how_to_link(channels: Channels,
                                                                    unique: Callable[[], int]) -> None:
    chat = unique()
    response = channels.client.post(TELEGRAM_PATH, json=telegram_message(unique(), chat, "what's my balance?"),
                                    headers=telegram_headers(TG_SECRET))
    assert response.status_code == 200, response.text
    sent = channels.wait_sent("telegram", str(chat), 1)
    assert [m["text"] for m in sent] == [HOW_TO_LINK["telegram"]]  # no data, no balance, only how to link
    assert sent[0]["buttons"] == []


def test_telegram_refused_without_the_secret_token(channels: Channels, unique: Callable[[], int]) -> None:
    chat = unique()
    body = telegram_message(unique(), chat, "hello")
    for headers, code in (({"X-Telegram-Bot-Api-Secret-Token": TG_SECRET + "x"}, "signature_invalid"),
                          ({"X-Telegram-Bot-Api-Secret-Token": CHANNEL_SECRETS["SLACK_SIGNING_SECRET"]},
                           "signature_invalid"),
                          ({}, "signature_missing")):
        is_problem(channels.client.post(TELEGRAM_PATH, json=body, headers=headers), 401, code)
    # Nothing was acted on: the update id was not even claimed, so the genuine delivery still goes through.
    assert channels.sent("telegram", str(chat)) == []
    assert channels.client.post(TELEGRAM_PATH, json=body, headers=telegram_headers(TG_SECRET)).json() == {"ok": True}
    assert len(channels.wait_sent("telegram", str(chat), 1)) == 1


def test_telegram_replay_is_answered_but_processed_once(channels: Channels, unique: Callable[[], int]) -> None:
    chat, update = unique(), unique()
    body = telegram_message(update, chat, "hello")
    first = channels.client.post(TELEGRAM_PATH, json=body, headers=telegram_headers(TG_SECRET))
    again = channels.client.post(TELEGRAM_PATH, json=body, headers=telegram_headers(TG_SECRET))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"ok": True, "duplicate": True}
    channels.wait_sent("telegram", str(chat), 1)
    # TestClient returns once the app is done, background tasks included: a second reply would be here now.
    assert len(channels.sent("telegram", str(chat))) == 1


def test_telegram_group_chats_and_bad_shapes(channels: Channels, unique: Callable[[], int]) -> None:
    group = -unique()
    response = channels.client.post(TELEGRAM_PATH, json=telegram_message(unique(), group, "balance", chat_type="group"),
                                    headers=telegram_headers(TG_SECRET))
    assert response.status_code == 200
    assert channels.sent("telegram", str(group)) == []  # never a word where others read
    headers = telegram_headers(TG_SECRET)
    is_problem(channels.client.post(TELEGRAM_PATH, content=b"{not json", headers=headers), 422)
    is_problem(channels.client.post(TELEGRAM_PATH, json={"update_id": "x"}, headers=headers), 422)
    is_problem(channels.client.post(TELEGRAM_PATH, json={"update_id": 10**30}, headers=headers), 422)
    is_problem(channels.client.post(TELEGRAM_PATH, json=[1, 2], headers=headers), 422)
    huge = telegram_message(unique(), unique(), "x" * 5000)
    is_problem(channels.client.post(TELEGRAM_PATH, json=huge, headers=headers), 422)


def test_telegram_button_press_is_acknowledged(channels: Channels, unique: Callable[[], int]) -> None:
    chat, update = unique(), unique()
    response = channels.client.post(TELEGRAM_PATH, json=telegram_callback(update, chat, "/check_balance"),
                                    headers=telegram_headers(TG_SECRET))
    assert response.status_code == 200
    answers = httpx.get(f"{channels.sandbox}/sandbox/telegram/callback-answers", headers=channels.sandbox.headers,
                        timeout=10).json()
    assert f"cb{update}" in answers  # the spinner stops, linked or not
    assert [m["text"] for m in channels.wait_sent("telegram", str(chat), 1)] == [HOW_TO_LINK["telegram"]]


# --- Slack ---------------------------------------------------------------------------------------------------

def test_slack_url_verification_is_answered_only_when_signed(channels: Channels) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "token": "legacy"}).encode()
    response = channels.client.post(SLACK_PATH, content=body, headers=slack_headers(SLACK_SECRET, body))
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    is_problem(channels.client.post(SLACK_PATH, content=body, headers={"Content-Type": "application/json"}), 401,
               "signature_missing")


def test_slack_refused_with_a_wrong_secret_or_a_stale_timestamp(channels: Channels,
                                                                 unique: Callable[[], int]) -> None:
    user = f"U{unique()}"
    body = slack_message(f"Ev{unique()}", user, "hello")
    is_problem(channels.client.post(SLACK_PATH, content=body,
                                    headers=slack_headers("not-the-signing-secret-0123456789", body)), 401,
               "signature_invalid")
    stale = int(time.time()) - 6 * 60  # signed correctly, six minutes ago: a replay outside the window
    is_problem(channels.client.post(SLACK_PATH, content=body, headers=slack_headers(SLACK_SECRET, body,
                                                                                    timestamp=stale)), 401,
               "signature_expired")
    tampered = body.replace(b"hello", b"hellO")
    is_problem(channels.client.post(SLACK_PATH, content=tampered, headers=slack_headers(SLACK_SECRET, body)), 401,
               "signature_invalid")
    assert channels.sent("slack", user) == []


def test_slack_event_and_its_retries_are_processed_once(channels: Channels, unique: Callable[[], int]) -> None:
    user, event_id = f"U{unique()}", f"Ev{unique()}"
    body = slack_message(event_id, user, "hello")
    assert channels.client.post(SLACK_PATH, content=body, headers=slack_headers(SLACK_SECRET, body)).json() == \
        {"ok": True}
    retry = channels.client.post(SLACK_PATH, content=body,
                                 headers={**slack_headers(SLACK_SECRET, body), "X-Slack-Retry-Num": "1",
                                          "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200 and retry.json()["duplicate"] is True
    sent = channels.wait_sent("slack", user, 1)
    assert [m["text"] for m in channels.sent("slack", user)] == [HOW_TO_LINK["slack"]] == [m["text"] for m in sent]


def test_slack_public_channel_messages_and_bot_echoes_are_ignored(channels: Channels,
                                                                   unique: Callable[[], int]) -> None:
    user = f"U{unique()}"
    for body in (slack_message(f"Ev{unique()}", user, "balance", channel_type="channel"),
                 json.dumps({"type": "event_callback", "team_id": "T0TEST", "event_id": f"Ev{unique()}",
                             "event": {"type": "message", "channel_type": "im", "user": user, "text": "echo",
                                       "bot_id": "B1"}}).encode()):
        assert channels.client.post(SLACK_PATH, content=body, headers=slack_headers(SLACK_SECRET, body)).status_code \
            == 200
    assert channels.sent("slack", user) == []
    bad = b'{"type": "event_callback", "event_id": 5}'
    is_problem(channels.client.post(SLACK_PATH, content=bad, headers=slack_headers(SLACK_SECRET, bad)), 422)


def test_slack_interactivity_is_signed_like_events(channels: Channels, unique: Callable[[], int]) -> None:
    user = f"U{unique()}"
    body = slack_block_action(f"{unique()}.1.abc", user, "/check_balance")
    form = "application/x-www-form-urlencoded"
    is_problem(channels.client.post(SLACK_PATH, content=body, headers={"Content-Type": form}), 401)
    response = channels.client.post(SLACK_PATH, content=body, headers=slack_headers(SLACK_SECRET, body,
                                                                                    content_type=form))
    assert response.status_code == 200, response.text
    assert [m["text"] for m in channels.wait_sent("slack", user, 1)] == [HOW_TO_LINK["slack"]]
    bad = b"payload=%7Bnot-json"
    is_problem(channels.client.post(SLACK_PATH, content=bad, headers=slack_headers(SLACK_SECRET, bad,
                                                                                   content_type=form)), 422)


# --- Twilio --------------------------------------------------------------------------------------------------

def test_twilio_signed_over_the_public_url(channels: Channels, unique: Callable[[], int]) -> None:
    phone = new_phone()
    form = twilio_form(f"SM{unique()}", phone, "hello")
    response = channels.client.post(TWILIO_PATH, data=form, headers=twilio_headers(TWILIO_TOKEN, PUBLIC_BASE_URL, form))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert [m["text"] for m in channels.wait_sent("twilio", phone, 1)] == [HOW_TO_LINK["sms"]]


def test_twilio_refused_when_signed_for_another_url_token_or_body(channels: Channels,
                                                                   unique: Callable[[], int]) -> None:
    phone = new_phone()
    form = twilio_form(f"SM{unique()}", phone, "hello")
    # Signed for the URL the request reached (its Host header): not the configured public URL, so refused.
    is_problem(channels.client.post(TWILIO_PATH, data=form, headers=twilio_headers(TWILIO_TOKEN, "http://testserver",
                                                                                   form)), 401, "signature_invalid")
    is_problem(channels.client.post(TWILIO_PATH, data=form,
                                    headers=twilio_headers("another-auth-token-0123456789abcdef", PUBLIC_BASE_URL,
                                                           form)), 401, "signature_invalid")
    is_problem(channels.client.post(TWILIO_PATH, data={**form, "Body": "hellO"},
                                    headers=twilio_headers(TWILIO_TOKEN, PUBLIC_BASE_URL, form)), 401)
    is_problem(channels.client.post(TWILIO_PATH, data=form), 401, "signature_missing")
    assert channels.sent("twilio", phone) == []


def test_twilio_replay_by_message_sid_is_processed_once(channels: Channels, unique: Callable[[], int]) -> None:
    phone = new_phone()
    form = twilio_form(f"SM{unique()}", phone, "hello")
    headers = twilio_headers(TWILIO_TOKEN, PUBLIC_BASE_URL, form)
    assert channels.client.post(TWILIO_PATH, data=form, headers=headers).status_code == 200
    assert channels.client.post(TWILIO_PATH, data=form, headers=headers).status_code == 200
    channels.wait_sent("twilio", phone, 1)
    assert len(channels.sent("twilio", phone)) == 1


def test_twilio_bad_shapes(channels: Channels, unique: Callable[[], int]) -> None:
    form = {"From": new_phone(), "Body": "no message sid"}
    is_problem(channels.client.post(TWILIO_PATH, data=form, headers=twilio_headers(TWILIO_TOKEN, PUBLIC_BASE_URL,
                                                                                   form)), 422)
    weird = twilio_form(f"SM{unique()}", "not-a-number", "hi")
    assert channels.client.post(TWILIO_PATH, data=weird, headers=twilio_headers(TWILIO_TOKEN, PUBLIC_BASE_URL,
                                                                                weird)).status_code == 200
    assert channels.sent("twilio", "not-a-number") == []
    raw = b"\xff\xfe=\xff"
    is_problem(channels.client.post(TWILIO_PATH, content=raw,
                                    headers={"Content-Type": "application/x-www-form-urlencoded",
                                             "X-Twilio-Signature": "x"}), 400)
