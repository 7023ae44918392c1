"""Deliver lines the customer did not ask for in this request (an agent's answer, a notification, the bot's
"anything else?" after a handoff) to the channel the conversation is on; the webhook's own replies go the
same way.

Web conversations need nothing here: the chat page receives every stored line through the live events
(api/live). Channel conversations (Telegram, Slack, SMS) get the lines sent through the channel's API, to
the address of the conversation's live link; an unlinked conversation gets nothing.

Buttons become the channel's own: an inline keyboard (Telegram), Block Kit buttons (Slack), numbered
options (SMS: "Reply 1 for Yes, 2 for No"). The last options of a conversation are kept in Redis for a
while, so that "1" by SMS, or a Telegram button whose payload does not fit in its 64-byte callback_data,
maps back to the payload.
"""

from __future__ import annotations

import json
import secrets
import uuid

import redis
import structlog
from sqlalchemy.orm import Session

from api.channels import links, outbound
from api.chat.rasa_client import BotMessage
from api.config import Settings
from api.conversations.models import Conversation
from api.redis_client import redis_for

log = structlog.get_logger(__name__)
TELEGRAM_MAX_CALLBACK_BYTES = 64
SLACK_MAX_VALUE_CHARS = 2000
OPTION_PREFIX = "opt:"  # a button value that names a kept option instead of carrying the payload
MAX_SMS_OPTIONS = 9  # one digit each


def _options_key(conversation_id: uuid.UUID) -> str:
    return f"bankbot:channels:options:{conversation_id}"


def _keep_options(settings: Settings, conversation_id: uuid.UUID, payloads: list[str]) -> str | None:
    """Remember the conversation's latest options; their nonce, or None when Redis is not there."""
    nonce = secrets.token_hex(4)
    try:
        redis_for(settings.redis_url).set(_options_key(conversation_id),
                                          json.dumps({"nonce": nonce, "payloads": payloads}),
                                          ex=settings.channel_options_ttl_seconds)
    except redis.RedisError as exc:
        log.warning("channel_options_not_kept", error=type(exc).__name__)
        return None
    return nonce


def _kept_options(settings: Settings, conversation_id: uuid.UUID) -> tuple[str, list[str]] | None:
    try:
        raw = redis_for(settings.redis_url).get(_options_key(conversation_id))
    except redis.RedisError as exc:
        log.warning("channel_options_unavailable", error=type(exc).__name__)
        return None
    if raw is None:
        return None
    kept = json.loads(raw)
    return str(kept["nonce"]), [str(p) for p in kept["payloads"]]


def option_payload(settings: Settings, *, conversation_id: uuid.UUID, value: str) -> str | None:
    """The payload a pressed button's value stands for: itself, or a kept option (None when it expired)."""
    if not value.startswith(OPTION_PREFIX):
        return value
    _, nonce, index = [*value.split(":", 2), "", ""][:3]
    kept = _kept_options(settings, conversation_id)
    if kept is None or kept[0] != nonce or not (index.isascii() and index.isdigit()) or int(index) >= len(kept[1]):
        return None
    return kept[1][int(index)]


def numbered_option(settings: Settings, *, conversation_id: uuid.UUID, text: str) -> str | None:
    """The payload of the SMS option this reply ("1", " 2 ") picks, if it picks one."""
    choice = text.strip()
    if len(choice) != 1 or not (choice.isascii() and choice.isdigit()):
        return None
    kept = _kept_options(settings, conversation_id)
    if kept is None or not 1 <= int(choice) <= len(kept[1]):
        return None
    return kept[1][int(choice) - 1]


def _button_values(settings: Settings, conversation_id: uuid.UUID | None, buttons: list[dict[str, str]],
                   limit_bytes: int) -> list[tuple[str, str]]:
    """(title, value) per button: the payload itself when it fits the channel's value, else a kept option."""
    def fits(payload: str) -> bool:
        return len(payload.encode()) <= limit_bytes and not payload.startswith(OPTION_PREFIX)

    if all(fits(b["payload"]) for b in buttons):
        return [(b["title"], b["payload"]) for b in buttons]
    nonce = _keep_options(settings, conversation_id, [b["payload"] for b in buttons]) if conversation_id else None
    if nonce is None:  # nowhere to keep them: offer only the buttons that carry their own payload
        return [(b["title"], b["payload"]) for b in buttons if fits(b["payload"])]
    return [(b["title"], b["payload"] if fits(b["payload"]) else f"{OPTION_PREFIX}{nonce}:{n}")
            for n, b in enumerate(buttons)]


def sms_text(text: str, titles: list[str]) -> str:
    """The text with its buttons as numbered options: "... Reply 1 for Yes, 2 for No"."""
    if not titles:
        return text
    options = ", ".join(f"{n} for {title}" for n, title in enumerate(titles, start=1))
    return f"{text}\n\nReply {options}".strip()


def _send_one(settings: Settings, *, channel: str, address: str, conversation_id: uuid.UUID | None,
              message: BotMessage) -> None:
    buttons = message.buttons
    text = message.text or ("Choose one:" if buttons else "")
    if not text:
        return  # an image or a custom payload: nothing the three channels show here
    if channel == "telegram":
        outbound.telegram_send(settings, chat_id=address, text=text,
                               buttons=_button_values(settings, conversation_id, buttons, TELEGRAM_MAX_CALLBACK_BYTES))
    elif channel == "slack":
        outbound.slack_send(settings, user_id=address, text=text,
                            buttons=_button_values(settings, conversation_id, buttons, SLACK_MAX_VALUE_CHARS))
    elif channel == "sms":
        titles = [b["title"] for b in buttons[:MAX_SMS_OPTIONS]]
        payloads = [b["payload"] for b in buttons[:MAX_SMS_OPTIONS]]
        if payloads and conversation_id is not None and _keep_options(settings, conversation_id, payloads) is None:
            titles = []  # options nobody could pick are not offered
        outbound.twilio_send(settings, to=address, text=sms_text(text, titles))
    else:
        raise outbound.SendFailed(f"no such channel: {channel[:20]}")


def send_to(settings: Settings, *, channel: str, address: str, conversation_id: uuid.UUID | None,
            messages: list[BotMessage]) -> int:
    """Send these lines to an address on a channel, in order; how many went out (failures are logged)."""
    sent = 0
    for message in messages:
        try:
            _send_one(settings, channel=channel, address=address, conversation_id=conversation_id, message=message)
            sent += 1
        except outbound.SendFailed as exc:
            # The reason only (a status, an error code): never the text, never the URL with its token.
            log.warning("channel_send_failed", channel=channel, reason=str(exc)[:100],
                        conversation_id=str(conversation_id) if conversation_id else None)
    return sent


def deliver(session: Session, settings: Settings, *, conversation: Conversation, messages: list[BotMessage]) -> None:
    """Send these lines to the customer on the conversation's channel (nothing to do for the web chat)."""
    if conversation.channel == "web" or not messages:
        return
    link = links.live_link_of_conversation(session, conversation_id=conversation.id)
    if link is None:
        log.info("channel_delivery_unlinked", channel=conversation.channel, conversation_id=str(conversation.id))
        return
    send_to(settings, channel=link.channel, address=link.address, conversation_id=conversation.id, messages=messages)
