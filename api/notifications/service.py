"""Telling a customer the news, in the conversation they last used, on that conversation's channel."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.channels.delivery import deliver
from api.chat.rasa_client import BotMessage
from api.config import Settings
from api.conversations.models import Conversation
from api.notifications.wording import notice_for
from api.transcripts import service as transcripts

log = structlog.get_logger(__name__)


def last_conversation(session: Session, *, customer_id: uuid.UUID) -> Conversation | None:
    """The customer's most recently used conversation (hence channel), if they ever chatted."""
    return session.scalar(select(Conversation).where(Conversation.customer_id == customer_id)
                          .order_by(Conversation.last_message_at.desc(), Conversation.id).limit(1))


def notify(session: Session, settings: Settings, *, outbox_id: int, topic: str, customer_id: str | None,
           payload: dict[str, Any]) -> int:
    """Store the notice line for one outbox event and deliver it; 1 if told now, 0 if not news, nobody to
    tell, or already told (the line's key is the outbox id)."""
    text = notice_for(topic, payload)
    if text is None or customer_id is None:
        return 0
    conversation = last_conversation(session, customer_id=uuid.UUID(customer_id))
    if conversation is None:
        log.info("notification_without_conversation", topic=topic, outbox_id=outbox_id)
        return 0
    line = transcripts.add_notice(session, settings, conversation=conversation, text=text,
                                  key=f"notice:outbox:{outbox_id}")
    session.commit()
    if line is None:
        return 0  # told before (an event handled twice)
    deliver(session, settings, conversation=conversation, messages=[BotMessage(text=text)])
    log.info("notification_told", topic=topic, outbox_id=outbox_id, channel=conversation.channel)
    return 1
