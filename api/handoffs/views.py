"""/v1/handoffs: the live handoff between the bot, the customer and a support agent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from api import privacy
from api.accounts.views import account_out, transaction_out
from api.auth.security import Principal
from api.cards.views import CardOut, card_out
from api.config import Settings
from api.deps import PrincipalDep, SessionDep, SettingsDep, require_role
from api.fraud.views import FraudCaseOut, FraudKind, case_out
from api.handoffs import service
from api.handoffs.models import Handoff
from api.message_text import MessageText

router = APIRouter(prefix="/v1", tags=["handoffs"])
AgentDep = Annotated[Principal, Depends(require_role("agent"))]
Status = Literal["waiting", "active", "closed"]


class HandoffIn(BaseModel):
    conversation_id: uuid.UUID
    # A code, not a sentence: this column is not redacted, so free text (which could hold personal
    # data) is refused here and by a database check.
    reason: str = Field(default="customer_request", pattern=service.REASON_PATTERN)


class HandoffOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    status: Status
    reason: str
    created_at: datetime


class QueueItemOut(HandoffOut):
    customer_id: uuid.UUID
    customer_name: str
    channel: str = Field(description="the conversation's channel: web, telegram, slack, sms...")
    summary: str = Field(description="the customer's last few lines, redacted as stored (at most 300 characters)")
    claimed_at: datetime | None
    closed_at: datetime | None
    waiting_seconds: int = Field(description="from opening until claimed (or until now, while waiting)")
    sla_due_at: datetime = Field(description="created_at + HANDOFF_CLAIM_TIMEOUT_SECONDS")
    overdue: bool = Field(description="nobody claimed it in time: the customer was told, and offered a callback")
    callback_requested: bool
    mine: bool = Field(description="held (or, when closed, released) by the calling agent")


class CallbackOut(HandoffOut):
    overdue: bool
    callback_requested: bool
    callback_requested_at: datetime | None


class AgentMessageIn(BaseModel):
    text: MessageText


class AgentMessageOut(BaseModel):
    id: int
    role: Literal["agent"]
    text: str = Field(description="as stored: redacted, which is also what the customer reads")
    entity_types: list[str]
    sent_at: datetime


class CannedReplyOut(BaseModel):
    id: str
    title: str
    text: str


class ContextCustomer(BaseModel):
    id: uuid.UUID
    name: str
    kyc_status: str


class ContextAccount(BaseModel):
    id: uuid.UUID
    name: str
    type: str
    currency: str
    balance: str
    available: str


class ContextTransaction(BaseModel):
    id: uuid.UUID
    posted_at: datetime
    amount: str
    currency: str
    merchant: str | None
    category: str | None
    description: str | None


class ContextCard(BaseModel):
    id: uuid.UUID
    last4: str
    status: str
    frozen_reason: str | None


class ContextFraudCase(BaseModel):
    id: uuid.UUID
    status: str
    kind: str
    opened_at: datetime


class ContextChannel(BaseModel):
    channel: str
    linked_at: datetime


class ContextOut(BaseModel):
    customer: ContextCustomer
    accounts: list[ContextAccount]
    recent_transactions: list[ContextTransaction] = Field(description="the last 10, newest first")
    cards: list[ContextCard]
    fraud_cases: list[ContextFraudCase] = Field(description="open or investigating")
    channels: list[ContextChannel] = Field(description="messaging channels linked to the customer")


class FreezeCardIn(BaseModel):
    card_id: uuid.UUID


class FraudCaseIn(BaseModel):
    kind: FraudKind
    card_id: uuid.UUID | None = None


def _handoff_out(handoff: Handoff) -> HandoffOut:
    return HandoffOut(id=handoff.id, conversation_id=handoff.conversation_id, status=handoff.status,
                      reason=handoff.reason, created_at=handoff.created_at)


def _item(entry: service.QueueEntry, principal: Principal, settings: Settings) -> QueueItemOut:
    h = entry.handoff
    waited = (h.claimed_at or h.closed_at or datetime.now(UTC)) - h.created_at
    return QueueItemOut(**_handoff_out(h).model_dump(), customer_id=h.customer_id, customer_name=entry.customer_name,
                        channel=entry.channel, summary=entry.summary, claimed_at=h.claimed_at, closed_at=h.closed_at,
                        waiting_seconds=max(0, int(waited.total_seconds())), sla_due_at=service.sla_due_at(settings, h),
                        overdue=service.is_overdue(h), callback_requested=h.callback_requested_at is not None,
                        mine=h.agent_id is not None and str(h.agent_id) == principal.subject)


@router.post("/handoffs", response_model=HandoffOut, status_code=201,
             responses={200: {"model": HandoffOut, "description": "the conversation's open handoff, already there"}})
def open_handoff(body: HandoffIn, principal: PrincipalDep, settings: SettingsDep, session: SessionDep,
                 response: Response) -> HandoffOut:
    """Ask for a person: the customer for their own conversation, or the assistant for the conversation
    its token is scoped to. While it is open the bot does not answer in that conversation.
    Idempotent: 201 when opened, 200 with the open one when there is one."""
    handoff, created = service.open_handoff(session, settings, principal, conversation_id=body.conversation_id,
                                            reason=body.reason)
    session.commit()
    if not created:
        response.status_code = 200
    return _handoff_out(handoff)


@router.get("/handoffs", response_model=list[QueueItemOut])
def list_handoffs(principal: AgentDep, settings: SettingsDep, session: SessionDep, status: Status | None = None,
                  limit: Annotated[int, Query(ge=1, le=service.MAX_LIST)] = 100) -> list[QueueItemOut]:
    """Agents: without `status`, every waiting handoff and the caller's active ones; `waiting`: the queue;
    `active` and `closed`: the caller's own."""
    return [_item(entry, principal, settings)
            for entry in service.queue(session, principal, status=status, limit=limit)]


@router.get("/handoffs/canned-replies", response_model=list[CannedReplyOut])
def canned_replies(_: AgentDep) -> list[CannedReplyOut]:
    """Agents: ready-made replies to start from (the agent edits and sends them as a message)."""
    return [CannedReplyOut(**reply) for reply in service.CANNED_REPLIES]


@router.post("/handoffs/{handoff_id}/claim", response_model=QueueItemOut)
def claim(handoff_id: uuid.UUID, principal: AgentDep, settings: SettingsDep, session: SessionDep) -> QueueItemOut:
    """Take a waiting handoff, overdue or not (409 if another agent holds it; claiming one's own again is fine)."""
    entry = service.claim(session, settings, principal, handoff_id=handoff_id)
    session.commit()
    return _item(entry, principal, settings)


@router.post("/handoffs/{handoff_id}/messages", response_model=AgentMessageOut, status_code=201)
def post_message(handoff_id: uuid.UUID, body: AgentMessageIn, principal: AgentDep, settings: SettingsDep,
                 session: SessionDep) -> AgentMessageOut:
    """The assigned agent writes to the customer. Stored redacted; the customer reads the stored line
    (live on the conversation's events, and on their messaging channel if that is where they are)."""
    conversation, message = service.post_message(session, settings, principal, handoff_id=handoff_id,
                                                 text=body.text, redact=privacy.redact)
    session.commit()
    service.deliver_lines(session, settings, conversation=conversation, texts=[message.text])
    return AgentMessageOut(id=message.id, role="agent", text=message.text, entity_types=list(message.entity_types),
                           sent_at=message.sent_at)


@router.post("/handoffs/{handoff_id}/typing", status_code=204)
def typing(handoff_id: uuid.UUID, principal: AgentDep, settings: SettingsDep, session: SessionDep) -> Response:
    """The agent holding the handoff is typing: a `typing` event on the conversation (nothing stored)."""
    service.typing(session, settings, principal, handoff_id=handoff_id)
    session.commit()
    return Response(status_code=204)


@router.post("/handoffs/{handoff_id}/release", response_model=QueueItemOut,
             responses={503: {"description": "Rasa cannot be reached; the handoff stays active"}})
def release(handoff_id: uuid.UUID, principal: AgentDep, settings: SettingsDep, session: SessionDep) -> QueueItemOut:
    """Hand the conversation back to the bot and close the handoff (the assigned agent); the bot then asks
    the customer whether there is anything else."""
    entry, said = service.release(session, settings, principal, handoff_id=handoff_id)
    session.commit()
    conversation = entry.handoff.conversation_id
    service.deliver_lines(session, settings, conversation=service.conversation_of(session, conversation),
                          texts=[m.text for m in said])
    return _item(entry, principal, settings)


@router.post("/handoffs/{handoff_id}/callback", response_model=CallbackOut)
def request_callback(handoff_id: uuid.UUID, principal: PrincipalDep, settings: SettingsDep,
                     session: SessionDep) -> CallbackOut:
    """The customer whose handoff it is asks to be called back on their registered number (idempotent)."""
    handoff, conversation, requested = service.request_callback(session, settings, principal, handoff_id=handoff_id)
    session.commit()
    if requested:
        service.deliver_lines(session, settings, conversation=conversation, texts=[service.CALLBACK_NOTICE])
    return CallbackOut(**_handoff_out(handoff).model_dump(), overdue=service.is_overdue(handoff),
                       callback_requested=True, callback_requested_at=handoff.callback_requested_at)


@router.get("/handoffs/{handoff_id}/context", response_model=ContextOut)
def customer_context(handoff_id: uuid.UUID, principal: AgentDep, session: SessionDep) -> ContextOut:
    """The agent holding the handoff: its customer's accounts, recent transactions, cards, open fraud
    cases, KYC state and linked channels (403 for another agent's, 409 unless active). Audited."""
    found = service.context(session, principal, handoff_id=handoff_id)
    session.commit()
    accounts = [account_out(a) for a in found.accounts]
    cards = [card_out(c) for c in found.cards]
    return ContextOut(
        customer=ContextCustomer(id=found.customer.id, name=found.customer.full_name, kyc_status=found.kyc_status),
        accounts=[ContextAccount(**a.model_dump(include=set(ContextAccount.model_fields))) for a in accounts],
        recent_transactions=[ContextTransaction(**t.model_dump(include=set(ContextTransaction.model_fields)))
                             for t in (transaction_out(i) for i in found.transactions)],
        cards=[ContextCard(id=c.id, last4=c.last4, status=c.status, frozen_reason=c.freeze_reason) for c in cards],
        fraud_cases=[ContextFraudCase(id=f.id, status=f.status, kind=f.kind, opened_at=f.created_at)
                     for f in found.fraud_cases],
        channels=[ContextChannel(channel=channel, linked_at=at) for channel, at in found.channels])


@router.post("/handoffs/{handoff_id}/actions/freeze-card", response_model=CardOut)
def freeze_card(handoff_id: uuid.UUID, body: FreezeCardIn, principal: AgentDep, session: SessionDep) -> CardOut:
    """The agent holding the handoff freezes one of its customer's cards (the card rules; audited as the agent)."""
    card = service.freeze_card(session, principal, handoff_id=handoff_id, card_id=body.card_id)
    session.commit()
    return card_out(card)


@router.post("/handoffs/{handoff_id}/actions/fraud-case", response_model=FraudCaseOut, status_code=201)
def open_fraud_case(handoff_id: uuid.UUID, body: FraudCaseIn, principal: AgentDep,
                    session: SessionDep) -> FraudCaseOut:
    """The agent holding the handoff opens a fraud case for its customer (the fraud rules; audited)."""
    case = service.open_fraud_case(session, principal, handoff_id=handoff_id, kind=body.kind, card_id=body.card_id)
    session.commit()
    return case_out(case)
