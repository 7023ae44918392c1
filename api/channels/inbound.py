"""Verified webhook bodies turned into one shape: who wrote (the channel identity), where to answer, and what.

Only what a customer types to the bot in a private conversation is taken: Telegram private chats, Slack
direct messages and button presses, SMS. Group chats, channel messages, bot echoes and edits are ignored
(answered 200, nothing done), so customer data can never be said where others read it. Every model bounds
its fields; a body of the wrong shape is a 4xx problem, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.channels.models import ChannelName
from api.problems import Problem

TelegramId = Annotated[int, Field(ge=-(2**53), le=2**53)]  # Telegram ids fit in 52 bits
SlackId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9]+$")]
MAX_TEXT = 4096  # the most any of the three channels sends in one message; the chat's own limit comes later
MAX_FORM_FIELDS = 50


@dataclass(frozen=True)
class Inbound:
    """One customer message from a channel, verified and deduplicated by the caller."""

    channel: ChannelName
    external_id: str  # who: stable identity the link is keyed on
    address: str  # where replies go
    dedupe_key: str
    text: str | None = None  # what was typed
    payload: str | None = None  # or the value of a pressed button
    callback_id: str | None = None  # a Telegram callback query to acknowledge


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _invalid(exc: ValidationError, what: str) -> Problem:
    return Problem(422, "validation_error", f"The {what} is not valid",
                   errors=[{"loc": list(map(str, e["loc"])), "msg": e["msg"]} for e in exc.errors()][:20])


# --- Telegram: https://core.telegram.org/bots/api#update ----------------------------------------------------

class _TgUser(_Model):
    id: TelegramId
    is_bot: bool = False


class _TgChat(_Model):
    id: TelegramId
    type: Annotated[str, Field(max_length=20)]


class _TgMessage(_Model):
    message_id: TelegramId
    chat: _TgChat
    sender: _TgUser | None = Field(default=None, alias="from")
    text: Annotated[str | None, Field(max_length=MAX_TEXT)] = None


class _TgCallback(_Model):
    id: Annotated[str, Field(min_length=1, max_length=100)]
    sender: _TgUser = Field(alias="from")
    message: _TgMessage | None = None
    data: Annotated[str | None, Field(max_length=256)] = None


class _TgUpdate(_Model):
    update_id: TelegramId
    message: _TgMessage | None = None
    callback_query: _TgCallback | None = None


def telegram(body: bytes) -> tuple[str, Inbound | None]:
    """(dedupe key, the message or None when the update is nothing for us)."""
    try:
        update = _TgUpdate.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid(exc, "Telegram update") from exc
    key = f"telegram:{update.update_id}"
    message, callback = update.message, update.callback_query
    if message is not None and message.chat.type == "private" and message.text is not None \
            and message.sender is not None and not message.sender.is_bot:
        chat = str(message.chat.id)
        return key, Inbound("telegram", chat, chat, key, text=message.text)
    if callback is not None and callback.message is not None and callback.message.chat.type == "private" \
            and callback.data is not None:
        chat = str(callback.message.chat.id)
        return key, Inbound("telegram", chat, chat, key, payload=callback.data, callback_id=callback.id)
    return key, None


# --- Slack: Events API and interactivity (block_actions) ------------------------------------------------------

class _SlackMessageEvent(_Model):
    type: Annotated[str, Field(max_length=40)]
    channel_type: Annotated[str | None, Field(max_length=20)] = None
    user: SlackId | None = None
    text: Annotated[str | None, Field(max_length=MAX_TEXT * 2)] = None  # Slack escapes &, < and >
    bot_id: Annotated[str | None, Field(max_length=40)] = None
    subtype: Annotated[str | None, Field(max_length=40)] = None


class _SlackEnvelope(_Model):
    type: Literal["url_verification", "event_callback", "app_rate_limited"]
    challenge: Annotated[str | None, Field(max_length=200)] = None
    event_id: Annotated[str | None, Field(max_length=60, pattern=r"^[A-Za-z0-9]+$")] = None
    team_id: SlackId | None = None
    event: _SlackMessageEvent | None = None


class _SlackUser(_Model):
    id: SlackId
    team_id: SlackId | None = None


class _SlackTeam(_Model):
    id: SlackId


class _SlackAction(_Model):
    value: Annotated[str | None, Field(max_length=2000)] = None


class _SlackInteraction(_Model):
    type: Annotated[str, Field(max_length=40)]
    user: _SlackUser
    team: _SlackTeam | None = None
    trigger_id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9.]+$")]
    actions: Annotated[list[_SlackAction], Field(max_length=25)] = []


def _unescape_slack(text: str) -> str:
    # Slack escapes exactly these three in message text (api.slack.com/reference/surfaces/formatting).
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class SlackChallenge:
    challenge: str


def slack(body: bytes, content_type: str) -> tuple[str | None, Inbound | SlackChallenge | None]:
    """(dedupe key, the message, a url_verification challenge, or None when it is nothing for us)."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return _slack_interaction(body)
    try:
        envelope = _SlackEnvelope.model_validate_json(body)
    except ValidationError as exc:
        raise _invalid(exc, "Slack event") from exc
    if envelope.type == "url_verification":
        if not envelope.challenge:
            raise Problem(422, "validation_error", "A url_verification needs its challenge")
        return None, SlackChallenge(envelope.challenge)
    if envelope.type != "event_callback" or envelope.event_id is None:
        return None, None
    key = f"slack:{envelope.event_id}"
    event = envelope.event
    # Direct messages from a person only: a bot's message (ours included) has bot_id or a subtype.
    if event is None or event.type != "message" or event.channel_type != "im" or event.user is None \
            or event.bot_id is not None or event.subtype is not None or event.text is None \
            or envelope.team_id is None:
        return key, None
    return key, Inbound("slack", f"{envelope.team_id}:{event.user}", event.user, key,
                        text=_unescape_slack(event.text))


def _slack_interaction(body: bytes) -> tuple[str | None, Inbound | None]:
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS,
                                strict_parsing=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Problem(400, "malformed_request", "The Slack interaction is not a valid form") from exc
    raw = fields.get("payload")
    if raw is None:
        raise Problem(422, "validation_error", "A Slack interaction carries a `payload` field")
    try:
        interaction = _SlackInteraction.model_validate_json(raw)
    except ValidationError as exc:
        raise _invalid(exc, "Slack interaction") from exc
    key = f"slack:{interaction.trigger_id}"
    team = interaction.user.team_id or (interaction.team.id if interaction.team else None)
    values = [a.value for a in interaction.actions if a.value]
    if interaction.type != "block_actions" or team is None or not values:
        return key, None
    user = interaction.user.id
    return key, Inbound("slack", f"{team}:{user}", user, key, payload=values[0])


# --- Twilio Programmable Messaging: application/x-www-form-urlencoded ------------------------------------------

def form_params(body: bytes) -> list[tuple[str, str]]:
    """Every parameter of a form body, in order (Twilio signs them all), bounded in number."""
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Problem(400, "malformed_request", "The body is not a valid form") from exc


def e164(raw: str) -> str | None:
    """A phone number in E.164, or None when it is not a valid one (phonenumbers bounds its own input)."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class _TwilioSms(_Model):
    message_sid: Annotated[str, Field(alias="MessageSid", min_length=2, max_length=64, pattern=r"^[A-Za-z0-9]+$")]
    sender: Annotated[str, Field(alias="From", min_length=1, max_length=32)]
    body: Annotated[str, Field(alias="Body", max_length=MAX_TEXT)] = ""


def twilio(params: list[tuple[str, str]]) -> tuple[str, Inbound | None]:
    """(dedupe key, the message or None when the sender is not a phone number)."""
    fields: dict[str, Any] = dict(params)
    try:
        sms = _TwilioSms.model_validate(fields)
    except ValidationError as exc:
        raise _invalid(exc, "Twilio message") from exc
    key = f"twilio:{sms.message_sid}"
    number = e164(sms.sender)
    if number is None:  # a WhatsApp or short-code sender: not a channel we link
        return key, None
    return key, Inbound("sms", number, number, key, text=sms.body)

