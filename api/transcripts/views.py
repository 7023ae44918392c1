"""Transcript ingestion from the Rasa event broker, and the redacted transcript for those allowed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, ValidationError

from api import privacy
from api.audit.service import record
from api.conversations.models import Conversation
from api.deps import PrincipalDep, SessionDep, SettingsDep
from api.handoffs import service as handoffs
from api.problems import Problem
from api.transcripts import service
from api.webhooks.signing import verify

router = APIRouter(prefix="/v1", tags=["transcripts"])
# Served by the internal listener only (api/internal.py): the event broker's batches.
internal_router = APIRouter(prefix="/v1", tags=["internal"])


class EventBatch(BaseModel):
    events: list[dict[str, Any]] = Field(max_length=service.MAX_EVENTS_PER_BATCH)


class TranscriptLine(BaseModel):
    id: int = Field(description="increases in the order lines are stored; pass the last one as `after` to poll")
    role: Literal["user", "bot", "agent", "notice"]
    text: str
    entity_types: list[str]
    intent: str | None
    confidence: float | None
    sent_at: datetime


class HandoffRef(BaseModel):
    id: uuid.UUID
    status: Literal["waiting", "active", "closed"]


class TranscriptOut(BaseModel):
    conversation_id: uuid.UUID
    messages: list[TranscriptLine]
    handoff: HandoffRef | None = Field(description="the conversation's latest handoff to a support agent, if any")


async def raw_body(request: Request) -> bytes:
    """The request body, read on the event loop (reading is I/O); the work on it happens in the endpoint."""
    return await request.body()


@internal_router.post("/transcripts/events", include_in_schema=False)
def ingest_events(request: Request, body: Annotated[bytes, Depends(raw_body)], settings: SettingsDep,
                  session: SessionDep) -> dict[str, int]:
    """Internal: the event broker's signed batches. Redaction happens here, before the insert.

    A plain `def`: FastAPI runs it in the thread pool, so parsing, redaction and the database work of a
    batch never block the event loop (/healthz, transfers and chat keep answering meanwhile). Each line
    has a redaction budget and fails closed; the batch has a budget too, after which the rest is
    answered as `deferred` for the broker to send again (api/transcripts/service.py).
    """
    verify(settings.transcript_ingest_secret, settings.webhook_tolerance_seconds,
           request.headers.get("x-timestamp"), request.headers.get("x-signature"), body)
    try:
        batch = EventBatch.model_validate_json(body)
    except ValidationError as exc:
        raise Problem(422, "validation_error", "The event batch is not valid") from exc
    result = service.ingest(session, settings, batch.events, privacy.redact)
    session.commit()
    return result.as_dict()


@router.get("/conversations/{conversation_id}/transcript", response_model=TranscriptOut)
def read_transcript(conversation_id: uuid.UUID, principal: PrincipalDep, session: SessionDep,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
                    after: Annotated[int | None, Query(ge=0, le=2**63 - 1, description=(
                        "only lines stored after the line with this id, in storage order (for polling)"))] = None,
                    ) -> TranscriptOut:
    """The redacted transcript: for its customer, compliance, and an agent assigned to one of its handoffs.

    Without `after`, the lines in the order they were said; with it, the lines stored since, in the
    order they were stored (a live view polls with the last id it has)."""
    conversation = session.get(Conversation, conversation_id)
    owner = conversation is not None and "customer" in principal.roles and \
        principal.customer_id == conversation.customer_id
    compliance = "compliance" in principal.roles
    # An agent reads a conversation through an open handoff they hold (not after release), not any conversation.
    agent = conversation is not None and not (owner or compliance) and \
        handoffs.is_assigned(session, conversation_id, principal)
    if conversation is None or not (owner or compliance or agent):
        raise Problem(404, "conversation_not_found", "No such conversation")
    if compliance:
        record(session, principal, "transcript.read", "conversation", conversation_id)
        session.commit()
    messages = service.transcript(session, conversation_id, limit, after)
    handoff = handoffs.latest_handoff_of(session, conversation_id)
    return TranscriptOut(conversation_id=conversation_id, messages=[
        TranscriptLine(id=m.id, role=m.role, text=m.text, entity_types=list(m.entity_types), intent=m.intent,
                       confidence=float(m.confidence) if m.confidence is not None else None, sent_at=m.sent_at)
        for m in messages], handoff=HandoffRef(id=handoff.id, status=handoff.status) if handoff else None)
