"""/v1/chat/messages: the customer's door to the assistant."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import ratelimit
from api.auth.security import Principal
from api.chat import service
from api.chat.timing import Phases
from api.config import Settings
from api.deps import PrincipalDep, SessionDep, SettingsDep
from api.message_text import MessageText
from api.problems import Problem

router = APIRouter(prefix="/v1", tags=["chat"])
CHAT_SCOPE = "chat"


class ChatIn(BaseModel):
    text: MessageText
    conversation_id: uuid.UUID | None = None


class ButtonOut(BaseModel):
    title: str
    payload: str


class MessageOut(BaseModel):
    text: str | None
    buttons: list[ButtonOut] = []


class HandoffRef(BaseModel):
    id: uuid.UUID
    status: Literal["waiting", "active"]


class ChatOut(BaseModel):
    conversation_id: uuid.UUID
    messages: list[MessageOut]
    handoff: HandoffRef | None = Field(default=None, description=(
        "set while a support agent is asked for or in the conversation: the bot stays quiet, and the agent's "
        "lines arrive in the transcript (poll GET /v1/conversations/{id}/transcript?after=)"))


@router.post("/chat/messages", response_model=ChatOut)
async def post_message(body: ChatIn, principal: PrincipalDep, settings: SettingsDep, session: SessionDep,
                       response: Response) -> ChatOut:
    # The turn blocks (Redis, the database, Rasa), so it runs in the thread pool, in one hop: as a plain `def`
    # route FastAPI would also validate the answer there, in a second one (each hop costs CPU under load).
    return await run_in_threadpool(_relay, body, principal, settings, session, response)


def _relay(body: ChatIn, principal: Principal, settings: Settings, session: Session, response: Response) -> ChatOut:
    if "customer" not in principal.roles:
        raise Problem(403, "customer_only", "Only customers chat with the assistant")
    customer_id = principal.customer_id
    assert customer_id is not None
    # Per customer, shared by every worker: messages per window, and messages in flight (each holds a
    # Rasa call). Both fail open when Redis is down (api/ratelimit.py says why).
    ratelimit.hit(settings.redis_url, settings.chat_rate_limit, CHAT_SCOPE, str(customer_id), fail_open=True)
    with ratelimit.in_flight(settings.redis_url, scope=CHAT_SCOPE, key=str(customer_id),
                             limit=settings.chat_max_in_flight, ttl_seconds=settings.chat_slot_ttl_seconds,
                             fail_open=True):
        phases = Phases()
        conversation, messages, handoff = service.send_message(settings, session, customer_id,
                                                               body.conversation_id, body.text, phases)
    response.headers["Server-Timing"] = phases.server_timing()  # where the turn's time went (api/chat/timing.py)
    return ChatOut(conversation_id=conversation.id,
                   messages=[MessageOut(text=m.text, buttons=[ButtonOut(**b) for b in m.buttons]) for m in messages],
                   handoff=HandoffRef(id=handoff.id, status=handoff.status) if handoff else None)
