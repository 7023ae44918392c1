"""What a verified, first-seen channel message does: link, unlink, forward to the assistant, or explain.

Runs after the webhook has answered (a background task: Slack wants an answer within 3 seconds, and Rasa
may take longer), with a database session of its own. Nothing here raises: a failure is logged by kind
and the customer, when possible, is told to try again.
"""

from __future__ import annotations

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import ratelimit
from api.auth.security import Principal
from api.channels import delivery, links, outbound
from api.channels.inbound import Inbound
from api.channels.models import ChannelLink
from api.chat import service as chat
from api.chat.rasa_client import BotMessage
from api.config import Settings
from api.db import engine_for
from api.handoffs import service as handoffs
from api.problems import Problem

log = structlog.get_logger(__name__)
CHAT_SCOPE = "chat"  # the web chat's limits (api/chat/views.py): one budget per customer, whatever the door
LINK_SCOPE = "channel_link"
UNLINKED_SCOPE = "channel_unlinked"

HOW_TO_LINK = {
    "telegram": "This chat is not linked to a bank account. In the bank's app, open Linked channels, create a "
                "code for Telegram and send it here as: /start CODE",
    "slack": "This Slack account is not linked to a bank account. In the bank's app, open Linked channels, "
             "create a code for Slack and send it here as: link CODE",
    "sms": "This number is not linked to a bank account. In the bank's app, open Linked channels, create a "
           "code for SMS and text it here as: link CODE",
}
LINKED = "Linked: you can now ask me about your accounts here, for example \"what's my balance?\". Send " \
         "\"unlink\" at any time to disconnect."
BAD_CODE = "That code is not valid or has expired. Create a new one in the bank's app (codes last 10 minutes)."
TOO_MANY_TRIES = "Too many wrong codes. Please wait an hour, then create a new code in the bank's app."
UNLINKED = "Unlinked: messages from here no longer reach your account."
NOT_LINKED = "This is not linked to a bank account."
NO_CALLBACK_PENDING = "There is no request for a person waiting in this chat. Ask for a person and I'll get one."
ALREADY_LINKED = "This is linked to your bank account: ask me anything. Send \"unlink\" to disconnect it."
TOO_LONG = "That message is too long for me; please keep it under {limit} characters."
OPTION_EXPIRED = "That choice has expired; please ask again."
SLOW_DOWN = "You're sending messages faster than I can answer; please wait a moment."
UNAVAILABLE = "The assistant is not reachable right now; please try again in a moment."


def _reply(settings: Settings, inbound: Inbound, text: str) -> None:
    delivery.send_to(settings, channel=inbound.channel, address=inbound.address, conversation_id=None,
                     messages=[BotMessage(text=text)])


def _command(text: str | None) -> tuple[str, str | None] | None:
    """("link", code) for `/start CODE` or `link CODE`, ("unlink", None) for `unlink`; else None.

    At most three words are split off (linear), and only a whole message is a command.
    """
    if text is None:
        return None
    words = text.strip().split(maxsplit=2)
    if not words or len(words) > 2:
        return None
    head = words[0].lower()
    if head in ("/start", "link", "/link"):
        return "link", words[1] if len(words) == 2 else None
    if head in ("unlink", "/unlink", "/stop") and len(words) == 1:
        return "unlink", None
    return None


def handle(settings: Settings, *, inbound: Inbound) -> None:
    """Act on one channel message (never raises: failures are logged by kind, without any text)."""
    try:
        if inbound.callback_id is not None:
            try:
                outbound.telegram_answer_callback(settings, callback_id=inbound.callback_id)
            except outbound.SendFailed as exc:
                log.warning("channel_callback_answer_failed", reason=str(exc)[:100])
        with Session(engine_for(settings.database_url), expire_on_commit=False) as session:
            _handle(session, settings, inbound)
    except Exception as exc:  # a background task: nobody else would see it
        log.error("channel_message_failed", channel=inbound.channel, error=type(exc).__name__)


def _handle(session: Session, settings: Settings, inbound: Inbound) -> None:
    command = _command(inbound.text)
    if command is not None and command[0] == "link" and command[1] is not None:
        _link(session, settings, inbound, command[1])
        return
    if command is not None and command[0] == "unlink":
        link = links.revoke_from_channel(session, channel=inbound.channel, external_id=inbound.external_id)
        session.commit()
        _reply(settings, inbound, UNLINKED if link is not None else NOT_LINKED)
        return
    link = links.live_link(session, channel=inbound.channel, external_id=inbound.external_id)
    session.commit()  # end the read
    if link is None:
        _explain(settings, inbound)
    elif command is not None:  # `/start` or `link` without a code: a channel command, not words for the bot
        _reply(settings, inbound, ALREADY_LINKED)
    else:
        _forward(session, settings, inbound, link)


def _explain(settings: Settings, inbound: Inbound) -> None:
    """Tell an unlinked identity how to link, a few times an hour at most (an SMS costs money)."""
    try:
        ratelimit.hit(settings.redis_url, settings.channel_unlinked_reply_rate_limit, UNLINKED_SCOPE,
                      f"{inbound.channel}:{inbound.external_id}", fail_open=True)
    except Problem:
        log.info("channel_unlinked_reply_skipped", channel=inbound.channel)
        return
    _reply(settings, inbound, HOW_TO_LINK[inbound.channel])


def _link(session: Session, settings: Settings, inbound: Inbound, code: str) -> None:
    identity = f"{inbound.channel}:{inbound.external_id}"
    limit = [(settings.channel_link_attempt_rate_limit, LINK_SCOPE, identity)]
    try:
        # Fails closed: guessing codes while the counter is down would be unlimited.
        ratelimit.check(settings.redis_url, limit, fail_open=False)
    except Problem as problem:
        _reply(settings, inbound, TOO_MANY_TRIES if problem.status == 429 else UNAVAILABLE)
        return
    try:
        link = links.redeem(session, channel=inbound.channel, external_id=inbound.external_id,
                            address=inbound.address, typed_code=code)
        session.commit()
    except IntegrityError:  # the same identity linked at the same moment by another message
        session.rollback()
        _reply(settings, inbound, UNAVAILABLE)
        return
    if link is None:
        ratelimit.count(settings.redis_url, limit)
        _reply(settings, inbound, BAD_CODE)
        return
    log.info("channel_linked", channel=inbound.channel, link_id=str(link.id))
    _reply(settings, inbound, LINKED)


def _forward(session: Session, settings: Settings, inbound: Inbound, link: ChannelLink) -> None:
    """The message, or the pressed option's payload, to the link's conversation through the chat's own path."""
    if inbound.payload is not None:
        text = delivery.option_payload(settings, conversation_id=link.conversation_id, value=inbound.payload)
        if text is None:
            _reply(settings, inbound, OPTION_EXPIRED)
            return
    else:
        text = inbound.text or ""
        if inbound.channel == "sms":
            text = delivery.numbered_option(settings, conversation_id=link.conversation_id, text=text) or text
    if not text.strip():
        return
    if text.strip() == handoffs.CALLBACK_PAYLOAD:
        _request_callback(session, settings, inbound, link)
        return
    if len(text) > settings.chat_text_max_chars:
        _reply(settings, inbound, TOO_LONG.format(limit=settings.chat_text_max_chars))
        return
    customer = str(link.customer_id)
    try:
        ratelimit.hit(settings.redis_url, settings.chat_rate_limit, CHAT_SCOPE, customer, fail_open=True)
        with ratelimit.in_flight(settings.redis_url, scope=CHAT_SCOPE, key=customer,
                                 limit=settings.chat_max_in_flight, ttl_seconds=settings.chat_slot_ttl_seconds,
                                 fail_open=True):
            conversation, messages, _handoff = chat.send_message(settings, session, link.customer_id,
                                                                 link.conversation_id, text)
    except Problem as problem:
        log.warning("channel_forward_refused", channel=inbound.channel, code=problem.code)
        _reply(settings, inbound, SLOW_DOWN if problem.status == 429 else UNAVAILABLE)
        return
    delivery.deliver(session, settings, conversation=conversation, messages=messages)
    session.commit()


def _request_callback(session: Session, settings: Settings, inbound: Inbound, link: ChannelLink) -> None:
    """The "Call me back" button of an overdue handoff's notice, pressed on the channel: the same request as
    the chat page's button, made as the linked customer."""
    handoff = handoffs.open_handoff_of(session, link.conversation_id)
    if handoff is None:
        session.commit()
        _reply(settings, inbound, NO_CALLBACK_PENDING)
        return
    customer = Principal(subject=str(link.customer_id), username=f"{inbound.channel} link {link.id}",
                         roles=frozenset({"customer"}))
    _handoff, conversation, requested = handoffs.request_callback(session, settings, customer, handoff_id=handoff.id)
    session.commit()
    if requested:
        handoffs.deliver_lines(session, settings, conversation=conversation, texts=[handoffs.CALLBACK_NOTICE])
