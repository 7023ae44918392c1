"""Replies through the channels' APIs (the real sandbox): each channel's own buttons, options mapped back,
and a failed send logged and survived, never raised."""

from __future__ import annotations

import uuid

from api.channels import delivery
from api.chat.rasa_client import BotMessage
from api.config import Settings, get_settings
from tests.channels.conftest import Channels
from tests.channels.signing import new_phone

YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
LONG = '/spending_query{"merchant": "Pret A Manger", "period": "2026-10-01/2026-10-31", "category": "coffee"}'


def _settings(channels: Channels, **changes: object) -> Settings:
    assert channels.client is not None  # the fixture set the channel settings up
    return get_settings().model_copy(update=changes)


def test_telegram_buttons_are_an_inline_keyboard_and_long_payloads_are_kept(channels: Channels) -> None:
    settings, chat, conversation = _settings(channels), str(uuid.uuid4().int % 10**9), uuid.uuid4()
    buttons = [*YES_NO, {"title": "Coffee at Pret", "payload": LONG}]
    assert delivery.send_to(settings, channel="telegram", address=chat, conversation_id=conversation,
                            messages=[BotMessage(text="Sure?", buttons=buttons)]) == 1
    [sent] = channels.sent("telegram", chat)
    keyboard = [b for row in sent["request"]["reply_markup"]["inline_keyboard"] for b in row]
    assert keyboard[:2] == [{"text": "Yes", "callback_data": "/affirm"}, {"text": "No", "callback_data": "/deny"}]
    value = keyboard[2]["callback_data"]
    assert value.startswith("opt:") and len(value.encode()) <= 64  # Telegram's limit
    assert delivery.option_payload(settings, conversation_id=conversation, value=value) == LONG
    assert delivery.option_payload(settings, conversation_id=uuid.uuid4(), value=value) is None  # not another's
    assert delivery.option_payload(settings, conversation_id=conversation, value="opt:beef:0") is None


def test_slack_buttons_are_block_kit(channels: Channels) -> None:
    settings, user = _settings(channels), f"U{uuid.uuid4().hex[:10].upper()}"
    delivery.send_to(settings, channel="slack", address=user, conversation_id=uuid.uuid4(),
                     messages=[BotMessage(text="Sure?", buttons=YES_NO), BotMessage(text="Plain")])
    first, second = channels.sent("slack", user)
    actions = [b for b in first["request"]["blocks"] if b["type"] == "actions"]
    assert [(e["type"], e["text"]["text"], e["value"]) for e in actions[0]["elements"]] == \
        [("button", "Yes", "/affirm"), ("button", "No", "/deny")]
    assert first["buttons"] == [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    assert second["text"] == "Plain" and "blocks" not in second["request"]


def test_sms_buttons_are_numbered_options(channels: Channels) -> None:
    settings, phone, conversation = _settings(channels), new_phone(), uuid.uuid4()
    delivery.send_to(settings, channel="sms", address=phone, conversation_id=conversation,
                     messages=[BotMessage(text="Freeze the card?", buttons=YES_NO)])
    [sent] = channels.sent("twilio", phone)
    assert sent["text"] == "Freeze the card?\n\nReply 1 for Yes, 2 for No"
    assert sent["request"]["From"] == settings.twilio_from_number
    assert delivery.numbered_option(settings, conversation_id=conversation, text=" 2 ") == "/deny"
    assert delivery.numbered_option(settings, conversation_id=conversation, text="3") is None
    assert delivery.numbered_option(settings, conversation_id=conversation, text="²") is None
    assert delivery.numbered_option(settings, conversation_id=uuid.uuid4(), text="1") is None


def test_a_failed_send_is_counted_not_raised(channels: Channels) -> None:
    chat = str(uuid.uuid4().int % 10**9)
    message = [BotMessage(text="hello")]
    wrong_token = _settings(channels, telegram_bot_token="123:not-the-bot-token-0123456789abcdef")
    assert delivery.send_to(wrong_token, channel="telegram", address=chat, conversation_id=None,
                            messages=message) == 0  # the sandbox answered 401, like Telegram
    nobody = _settings(channels, telegram_api_url="http://127.0.0.1:9", channel_max_attempts=2)
    assert delivery.send_to(nobody, channel="telegram", address=chat, conversation_id=None, messages=message) == 0
    wrong_sid = _settings(channels, twilio_account_sid="ACsomeoneelse000000000000000000000")
    assert delivery.send_to(wrong_sid, channel="sms", address="+14155552671", conversation_id=None,
                            messages=message) == 0
    assert channels.sent("telegram", chat) == []
    wrong_bearer = _settings(channels, slack_bot_token="xoxb-not-the-bot-token-0123456789abcdef")
    assert delivery.send_to(wrong_bearer, channel="slack", address="U0NOBODY", conversation_id=None,
                            messages=message) == 0
    wrong_password = _settings(channels, twilio_auth_token="not-the-auth-token-0123456789abcdef")
    assert delivery.send_to(wrong_password, channel="sms", address="+14155552671", conversation_id=None,
                            messages=message) == 0
    assert channels.sent("slack", "U0NOBODY") == [] and channels.sent("twilio", "+14155552671") == []
    assert delivery.send_to(_settings(channels), channel="telegram", address=chat, conversation_id=None,
                            messages=[BotMessage(text=None)]) == 1  # nothing to show: skipped, not failed
    assert channels.sent("telegram", chat) == []
