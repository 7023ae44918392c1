"""/v1/handoffs: the live handoff between the bot, the customer and a support agent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api import privacy
from api.auth.security import Principal
from api.deps import PrincipalDep, SessionDep, SettingsDep, require_role
from api.handoffs import service
from api.handoffs.models import Handoff
from api.message_text import MessageText
from api.transcripts.models import TranscriptMessage

router = APIRouter(prefix="/v1", tags=["handoffs"])
AgentDep = Annotated[Principal, Depends(require_role("agent"))]


class HandoffIn(BaseModel):
    conversation_id: uuid.UUID
    # A code, not a sentence: this column is not redacted, so free text (which could hold personal
    # data) is refused here and by a database check.
    reason: str = Field(default="customer_request", pattern=service.REASON_PATTERN)


class HandoffOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    status: Literal["waiting", "active", "closed"]
    reason: str
    created_at: datetime


class QueueItemOut(HandoffOut):
    customer_name: str
    claimed_at: datetime | None
    closed_at: datetime | None
    waiting_seconds: int = Field(description="from opening until claimed (or until now, while waiting)")
    mine: bool = Field(description="held (or, when closed, released) by the calling agent")


class AgentMessageIn(BaseModel):
    text: MessageText


class AgentMessageOut(BaseModel):
    id: int
    role: Literal["agent"]
    text: str = Field(description="as stored: redacted, which is also what the customer reads")
    entity_types: list[str]
    sent_at: datetime


def _handoff_out(handoff: Handoff) -> HandoffOut:
    return HandoffOut(id=handoff.id, conversation_id=handoff.conversation_id, status=handoff.status,
                      reason=handoff.reason, created_at=handoff.created_at)


def _item(entry: service.QueueEntry, principal: Principal) -> QueueItemOut:
    h = entry.handoff
    waited = (h.claimed_at or h.closed_at or datetime.now(UTC)) - h.created_at
    return QueueItemOut(**_handoff_out(h).model_dump(), customer_name=entry.customer_name, claimed_at=h.claimed_at,
                        closed_at=h.closed_at, waiting_seconds=max(0, int(waited.total_seconds())),
                        mine=h.agent_id is not None and str(h.agent_id) == principal.subject)


@router.post("/handoffs", response_model=HandoffOut, status_code=201,
             responses={200: {"model": HandoffOut, "description": "the conversation's open handoff, already there"}})
def open_handoff(body: HandoffIn, principal: PrincipalDep, session: SessionDep, response: Response) -> HandoffOut:
    """Ask for a person: the customer for their own conversation, or the assistant for the conversation
    its token is scoped to. While it is open the bot does not answer in that conversation.
    Idempotent: 201 when opened, 200 with the open one when there is one."""
    handoff, created = service.open_handoff(session, principal, body.conversation_id, body.reason)
    session.commit()
    if not created:
        response.status_code = 200
    return _handoff_out(handoff)


@router.get("/handoffs", response_model=list[QueueItemOut])
def list_handoffs(principal: AgentDep, session: SessionDep,
                  status: Literal["waiting", "active", "closed"] | None = None,
                  limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = 100) -> list[QueueItemOut]:
    """Agents: without `status`, every waiting handoff and the caller's active ones; `waiting`: the queue;
    `active` and `closed`: the caller's own."""
    return [_item(entry, principal) for entry in service.queue(session, principal, status, limit)]


@router.post("/handoffs/{handoff_id}/claim", response_model=QueueItemOut)
def claim(handoff_id: uuid.UUID, principal: AgentDep, session: SessionDep) -> QueueItemOut:
    """Take a waiting handoff (409 if another agent holds it; claiming one's own again is fine)."""
    entry = service.claim(session, principal, handoff_id)
    session.commit()
    return _item(entry, principal)


@router.post("/handoffs/{handoff_id}/messages", response_model=AgentMessageOut, status_code=201)
def post_message(handoff_id: uuid.UUID, body: AgentMessageIn, principal: AgentDep, settings: SettingsDep,
                 session: SessionDep) -> AgentMessageOut:
    """The assigned agent writes to the customer. Stored redacted; the customer reads the stored line."""
    message: TranscriptMessage = service.post_message(session, settings, principal, handoff_id, body.text,
                                                      privacy.redact)
    session.commit()
    return AgentMessageOut(id=message.id, role="agent", text=message.text, entity_types=list(message.entity_types),
                           sent_at=message.sent_at)


@router.post("/handoffs/{handoff_id}/release", response_model=QueueItemOut,
             responses={503: {"description": "Rasa cannot be reached; the handoff stays active"}})
def release(handoff_id: uuid.UUID, principal: AgentDep, settings: SettingsDep, session: SessionDep) -> QueueItemOut:
    """Hand the conversation back to the bot and close the handoff (the assigned agent)."""
    entry = service.release(session, settings, principal, handoff_id)
    session.commit()
    return _item(entry, principal)
