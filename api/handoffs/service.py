"""Handoff rules: who may open, claim, speak in and release a handoff; every change audited.

waiting --claim--> active --release--> closed. At most one open (waiting or active) handoff per
conversation (a partial unique index). Agent lines are stored through the transcript's redaction
path; the raw text of an agent's message lives only in this request's memory.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.audit.service import record
from api.auth.models import User
from api.auth.security import Principal
from api.chat import rasa_client
from api.config import Settings
from api.conversations.models import Conversation
from api.handoffs.models import OPEN_STATUSES, Handoff
from api.problems import Problem
from api.transcripts import service as transcripts
from api.transcripts.models import TranscriptMessage

REASON_PATTERN = r"^[a-z0-9_]{1,40}$"
MAX_LIST = 200


@dataclass(frozen=True)
class QueueEntry:
    handoff: Handoff
    customer_name: str


def _now() -> datetime:
    return datetime.now(UTC)


def _agent_id(principal: Principal) -> uuid.UUID:
    return uuid.UUID(principal.subject)


def open_handoff_of(session: Session, conversation_id: uuid.UUID) -> Handoff | None:
    return session.scalar(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                Handoff.status.in_(OPEN_STATUSES)))


def latest_handoff_of(session: Session, conversation_id: uuid.UUID) -> Handoff | None:
    return session.scalar(select(Handoff).where(Handoff.conversation_id == conversation_id)
                          .order_by(Handoff.created_at.desc(), Handoff.id).limit(1))


def is_assigned(session: Session, conversation_id: uuid.UUID, principal: Principal) -> bool:
    """True for an agent who holds an open handoff of this conversation (not once it is released)."""
    if "agent" not in principal.roles or principal.is_service:
        return False
    # Open: only while the agent works the conversation; a released (closed) handoff grants nothing.
    return session.scalar(select(Handoff.id).where(Handoff.conversation_id == conversation_id,
                                                   Handoff.agent_id == _agent_id(principal),
                                                   Handoff.status.in_(OPEN_STATUSES)).limit(1)) is not None


def open_handoff(session: Session, principal: Principal, conversation_id: uuid.UUID,
                 reason: str) -> tuple[Handoff, bool]:
    """Open a handoff for the conversation, or find the open one. Returns (handoff, created).

    While it is open, the core no longer lets the bot answer this conversation (api/chat/service.py),
    whoever opened it. The assistant's action also pauses Rasa (`ConversationPaused`), which is what
    keeps the bot quiet on channels that reach Rasa without the core.
    """
    if not (principal.is_service or "customer" in principal.roles):
        raise Problem(403, "customer_only", "Handoffs are opened by the customer or the assistant acting for one")
    conversation = session.get(Conversation, conversation_id)
    if principal.is_service:
        # A service token is scoped to one conversation: it cannot open a handoff for another one.
        allowed = conversation is not None and principal.conversation_id == conversation.id and \
            principal.acting_for == conversation.customer_id
    else:
        allowed = conversation is not None and principal.customer_id == conversation.customer_id
    if conversation is None or not allowed:
        raise Problem(404, "conversation_not_found", "No such conversation")
    # Concurrent opens (a retried action, a double click) meet at the partial unique index: one inserts.
    new_id = session.execute(
        insert(Handoff).values(id=uuid.uuid4(), conversation_id=conversation.id, customer_id=conversation.customer_id,
                               status="waiting", reason=reason)
        .on_conflict_do_nothing(index_elements=["conversation_id"], index_where=text("status IN ('waiting', 'active')"))
        .returning(Handoff.id)).scalar_one_or_none()
    if new_id is not None:
        record(session, principal, "handoff.open", "handoff", new_id, conversation_id=conversation.id, reason=reason)
    handoff = open_handoff_of(session, conversation.id)
    assert handoff is not None
    return handoff, new_id is not None


def queue(session: Session, principal: Principal, status: str | None, limit: int) -> list[QueueEntry]:
    """What an agent works on: every waiting handoff, and the agent's own active (or closed) ones."""
    assert 1 <= limit <= MAX_LIST
    me = _agent_id(principal)
    query = select(Handoff, User.full_name).join(User, User.id == Handoff.customer_id)
    if status is None:
        query = query.where(or_(Handoff.status == "waiting", (Handoff.status == "active") & (Handoff.agent_id == me)))
        query = query.order_by(Handoff.status, Handoff.created_at)  # own active ones first, then oldest waiting
    elif status == "waiting":
        query = query.where(Handoff.status == "waiting").order_by(Handoff.created_at)
    else:
        query = query.where(Handoff.status == status, Handoff.agent_id == me)
        query = query.order_by(Handoff.created_at if status == "active" else Handoff.closed_at.desc())
    return [QueueEntry(handoff, name) for handoff, name in session.execute(query.limit(limit))]


def _locked(session: Session, handoff_id: uuid.UUID, *, share: bool = False) -> Handoff:
    handoff = session.get(Handoff, handoff_id, with_for_update={"read": True} if share else True)
    if handoff is None:
        raise Problem(404, "handoff_not_found", "No such handoff")
    return handoff


def _entry(session: Session, handoff: Handoff) -> QueueEntry:
    customer = session.get(User, handoff.customer_id)
    assert customer is not None
    return QueueEntry(handoff, customer.full_name)


def _must_hold(handoff: Handoff, principal: Principal) -> None:
    """The handoff is active and this agent holds it."""
    if handoff.status == "closed":
        raise Problem(409, "handoff_closed", "This handoff is closed")
    if handoff.status == "waiting":
        raise Problem(409, "handoff_not_claimed", "Claim this handoff first")
    if handoff.agent_id != _agent_id(principal):
        raise Problem(403, "not_your_handoff", "Another agent holds this handoff")


def claim(session: Session, principal: Principal, handoff_id: uuid.UUID) -> QueueEntry:
    handoff = _locked(session, handoff_id)
    me = _agent_id(principal)
    if handoff.status == "closed":
        raise Problem(409, "handoff_closed", "This handoff is closed")
    if handoff.status == "active" and handoff.agent_id != me:
        raise Problem(409, "handoff_taken", "Another agent already holds this handoff")
    if handoff.status == "waiting":  # claiming one's own active handoff again changes nothing
        handoff.status, handoff.agent_id, handoff.claimed_at = "active", me, _now()
        record(session, principal, "handoff.claim", "handoff", handoff.id, conversation_id=handoff.conversation_id)
    return _entry(session, handoff)


def post_message(session: Session, settings: Settings, principal: Principal, handoff_id: uuid.UUID, text: str,
                 redact: Any) -> TranscriptMessage:
    """The assigned agent speaks: redacted and stored as a transcript line; the customer reads that line."""
    handoff = _locked(session, handoff_id, share=True)  # a concurrent release waits for this message
    _must_hold(handoff, principal)
    conversation = session.get(Conversation, handoff.conversation_id)
    assert conversation is not None
    message = transcripts.add_agent_message(session, settings, conversation, _agent_id(principal), text, redact)
    record(session, principal, "handoff.message", "handoff", handoff.id, message_id=message.id,
           entity_types=list(message.entity_types))
    return message


def release(session: Session, settings: Settings, principal: Principal, handoff_id: uuid.UUID) -> QueueEntry:
    """Hand the conversation back to the bot. Rasa first: if it cannot resume, nothing changes here."""
    handoff = _locked(session, handoff_id)
    if handoff.status == "closed" and handoff.agent_id == _agent_id(principal):
        return _entry(session, handoff)  # releasing twice is not an error
    _must_hold(handoff, principal)
    # Raises a 503/502 problem when Rasa cannot take the conversation back; the caller's transaction is
    # then rolled back, so the handoff stays active. Should the commit below fail after Rasa resumed,
    # releasing again resumes again (harmless) and closes. The row lock is held during the call (at most
    # RASA_API_TIMEOUT_SECONDS): a concurrent message or release waits instead of racing.
    rasa_client.resume(settings.rasa_url, settings.rasa_api_token, settings.rasa_api_timeout_seconds,
                       handoff.conversation_id)
    handoff.status, handoff.closed_at = "closed", _now()
    record(session, principal, "handoff.release", "handoff", handoff.id, conversation_id=handoff.conversation_id)
    return _entry(session, handoff)
