"""What Telegram, Slack and Twilio send: signed webhook calls, built the way each provider builds them."""

from __future__ import annotations

import json
import random
import time
from typing import Any
from urllib.parse import urlencode

from api.channels.signatures import slack_signature, twilio_signature

TELEGRAM_PATH = "/v1/channels/telegram/webhook"
SLACK_PATH = "/v1/channels/slack/events"
TWILIO_PATH = "/v1/channels/twilio/sms"


def telegram_message(update_id: int, chat_id: int, text: str, *, chat_type: str = "private") -> dict[str, Any]:
    """A Bot API update with a text message from a person in a chat."""
    return {"update_id": update_id,
            "message": {"message_id": update_id, "date": int(time.time()), "text": text,
                        "chat": {"id": chat_id, "type": chat_type},
                        "from": {"id": chat_id, "is_bot": False, "first_name": "Test"}}}


def telegram_callback(update_id: int, chat_id: int, data: str) -> dict[str, Any]:
    """A Bot API update for a pressed inline keyboard button."""
    return {"update_id": update_id,
            "callback_query": {"id": f"cb{update_id}", "data": data, "chat_instance": "1",
                               "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
                               "message": {"message_id": 1, "date": int(time.time()), "text": "?",
                                           "chat": {"id": chat_id, "type": "private"}}}}


def telegram_headers(secret: str) -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}


def slack_message(event_id: str, user: str, text: str, *, team: str = "T0TEST", channel_type: str = "im") -> bytes:
    """An Events API `message` event in a direct message with the app."""
    return json.dumps({"type": "event_callback", "team_id": team, "api_app_id": "A0TEST", "event_id": event_id,
                       "event_time": int(time.time()),
                       "event": {"type": "message", "channel_type": channel_type, "user": user, "text": text,
                                 "channel": f"D{user}", "ts": "1.1"}}).encode()


def slack_block_action(trigger_id: str, user: str, value: str, *, team: str = "T0TEST") -> bytes:
    """An interactivity call for a pressed Block Kit button (form body `payload=<json>`)."""
    payload = {"type": "block_actions", "trigger_id": trigger_id, "user": {"id": user, "team_id": team},
               "team": {"id": team}, "channel": {"id": f"D{user}"},
               "actions": [{"type": "button", "action_id": "bankbot_option_1", "value": value, "action_ts": "1.2"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def slack_headers(secret: str, body: bytes, *, timestamp: int | None = None,
                  content_type: str = "application/json") -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_signature(secret, ts, body),
            "Content-Type": content_type}


def twilio_form(message_sid: str, sender: str, text: str, *, to: str = "+15005550006") -> dict[str, str]:
    """Twilio's inbound SMS parameters (the ones that matter, and a few that do not)."""
    return {"MessageSid": message_sid, "SmsSid": message_sid, "AccountSid": "ACdevelopment0000000000000000000",
            "From": sender, "To": to, "Body": text, "NumMedia": "0"}


def twilio_headers(auth_token: str, public_base_url: str, form: dict[str, str]) -> dict[str, str]:
    url = public_base_url.rstrip("/") + TWILIO_PATH
    return {"X-Twilio-Signature": twilio_signature(auth_token, url, list(form.items())),
            "Content-Type": "application/x-www-form-urlencoded"}


def new_phone() -> str:
    """A valid US number (phonenumbers agrees), drawn from millions so that tests never share one."""
    return f"+1202{random.randrange(2, 10)}{random.randrange(10**6):06d}"
