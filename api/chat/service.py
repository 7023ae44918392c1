"""Chat: bind the conversation to the signed-in customer, relay to Rasa, return the bot's messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import redis
import structlog
from sqlalchemy.orm import Session

from api import telemetry
from api.auth.service import sealed_service_token
from api.chat import rasa_client
from api.chat.timing import Phases
from api.config import Settings
from api.conversations.models import Conversation
from api.grants import service as grants
from api.handoffs.models import Handoff
from api.handoffs.service import open_handoff_of, quiet_handoff_of
from api.problems import Problem
from api.redis_client import redis_for

log = structlog.get_logger(__name__)


def conversation_for(session: Session, customer_id: uuid.UUID, conversation_id: uuid.UUID | None,
                     channel: str = "web") -> Conversation:
    """The customer's conversation; the core chooses ids, so a client can never address another's."""
    if conversation_id is not None:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None or conversation.customer_id != customer_id:
            raise Problem(404, "conversation_not_found", "No such conversation")
        return conversation
    conversation = Conversation(id=uuid.uuid4(), customer_id=customer_id, channel=channel)
    session.add(conversation)
    session.flush()
    return conversation


def send_message(settings: Settings, session: Session, customer_id: uuid.UUID, conversation_id: uuid.UUID | None,
                 text: str, phases: Phases | None = None,
                 ) -> tuple[Conversation, list[rasa_client.BotMessage], Handoff | None]:
    """Relay the customer's message; the bot's answers, and the conversation's open handoff if any.

    During a handoff the text still goes to Rasa, but only to be logged (its tracker and the event
    broker, hence the redacted transcript the agent reads, see it): the bot answers nothing, and the
    agent's lines reach the customer through the transcript.

    The request id bound by RequestIdMiddleware (the chat route's, or the channel webhook's) goes to
    Rasa as `metadata.request_id`: Rasa, the action server and the core's calls from actions log under
    it (docs/operations.md, "Following one turn"). `phases` collects where the time went (timing.py).
    """
    phases = phases or Phases()
    with phases.timed("db"):
        conversation = conversation_for(session, customer_id, conversation_id)
        conversation.last_message_at = datetime.now(UTC)
        # An overdue waiting handoff lets the bot answer again (api/handoffs/service.py quiet_handoff_of).
        handoff = quiet_handoff_of(session, settings, conversation.id) if conversation_id is not None else None
        # Commit before Rasa runs: the action server trades the message's grant for a token for this conversation.
        session.commit()
    if handoff is not None:
        with phases.timed("rasa"):
            rasa_client.log_user_message(settings.rasa_url, settings.rasa_api_token, settings.rasa_timeout_seconds,
                                         conversation.id, text)
        return conversation, [], handoff
    # The grant is what lets the action server act for this customer while Rasa handles this message.
    client = redis_for(settings.redis_url)
    try:
        with phases.timed("grant"):
            grant = grants.issue(client=client, conversation_id=conversation.id, customer_id=customer_id,
                                 ttl_seconds=settings.grant_ttl_seconds, uses=settings.grant_uses)
            # The grant's trade done here: the action server opens this instead of calling core-internal per message.
            service_token = sealed_service_token(settings, customer_id=customer_id, conversation_id=conversation.id,
                                                 grant_seq=grant.seq)
    except redis.RedisError as exc:
        raise Problem(503, "assistant_unavailable", "The assistant is not reachable right now") from exc
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    metadata = {"channel": conversation.channel, "grant": grant.token, "service_token": service_token,
                **({"request_id": request_id} if request_id else {})}
    with phases.timed("rasa"):
        messages = rasa_client.send(settings.rasa_url, settings.rasa_timeout_seconds, conversation.id, text,
                                    metadata=metadata)
    with phases.timed("db"):
        handoff = open_handoff_of(session, conversation.id)  # "I want to talk to a person" opens one right here
        session.commit()  # end the read: no connection held between requests
    total = phases.finish()
    telemetry.observe_phases(phases.seconds)
    telemetry.meet_turn(client, request_id, seconds=total)  # the ingest brings the intent (api/telemetry.py)
    log.info("chat_turn", conversation_id=str(conversation.id), messages=len(messages),
             **{f"{phase}_ms": round(seconds * 1000, 1) for phase, seconds in phases.seconds.items()})
    return conversation, messages, handoff
