"""Handoff rules: who may open, claim, speak in and release a handoff; every change audited and published.

waiting --claim--> active --release--> closed. At most one open (waiting or active) handoff per
conversation (a partial unique index). Agent lines are stored through the transcript's redaction
path; the raw text of an agent's message lives only in this request's memory.

A waiting handoff nobody claims within HANDOFF_CLAIM_TIMEOUT_SECONDS becomes overdue (`expire_overdue`,
a periodic job of the saga workers): the customer gets a notice line with a callback offer, the bot
answers again (`quiet_handoff_of`), and the handoff stays in the queue, marked overdue, until claimed.
Every change is published as a live event after its commit (api/live/streams.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import ledger
from api import telemetry
from api.accounts.service import customer_accounts
from api.audit.service import record
from api.auth.models import User
from api.auth.security import Principal
from api.cards.models import Card
from api.cards.service import cards_of, set_frozen
from api.channels.delivery import deliver
from api.channels.links import links_of
from api.chat import rasa_client
from api.config import Settings
from api.conversations.models import Conversation
from api.db import engine_for
from api.db_conn import driver_connection
from api.fraud.models import FraudCase
from api.fraud.service import open_case, open_cases_of
from api.handoffs.models import OPEN_STATUSES, Handoff
from api.kyc.service import status_of
from api.live import streams
from api.problems import Problem
from api.transcripts import service as transcripts
from api.transcripts.models import TranscriptMessage

log = structlog.get_logger(__name__)

REASON_PATTERN = r"^[a-z0-9_]{1,40}$"
# Why a handoff opened (codes, stored unredacted): the customer asked, the bot's fallback twice in a row
# (actions/fallback.py), a fraud report the bot could not settle (actions/fraud.py).
REASONS = ("customer_request", "repeated_fallback", "fraud_escalation")
MAX_LIST = 200
SUMMARY_LINES = 3  # the customer's last lines in a queue item's summary
SUMMARY_LINE_CHARS = 120
SUMMARY_CHARS = 300
SYSTEM_ACTOR = "system:handoff-overdue"
ANYTHING_ELSE = "utter_anything_else"  # bot/domain/core.yml: what the bot says when an agent hands back
# The core's own lines to the customer (role `notice`): fixed texts, never customer data.
OVERDUE_NOTICE = ("Our support team is busy right now, so nobody could join this chat yet. If you like, we can "
                  "call you back on your registered phone number: choose \"Call me back\". Meanwhile I'm still "
                  "here to help with anything I can do.")
# On a messaging channel the overdue notice carries a button with this payload (the web chat page has its
# own button calling POST /v1/handoffs/{id}/callback); api/channels/service.py turns it into that request.
CALLBACK_PAYLOAD = "/call_me_back"
CALLBACK_BUTTON = {"title": "Call me back", "payload": CALLBACK_PAYLOAD}
CALLBACK_NOTICE = ("Thanks: a colleague from our support team will call you back on your registered phone "
                   "number as soon as they are free.")
CANNED_REPLIES = (
    {"id": "greeting", "title": "Greeting",
     "text": "Hi, I'm from the support team and I'll be helping you today. I can see our conversation so far."},
    {"id": "looking", "title": "Looking into it", "text": "Thanks, give me a moment while I look into this."},
    {"id": "card_frozen", "title": "Card frozen",
     "text": "I've frozen your card, so no new payments will go through. You can unfreeze it in the app."},
    {"id": "fraud_case", "title": "Fraud case opened",
     "text": "I've opened a fraud case. Our fraud team will contact you within 2 business days."},
    {"id": "anything_else", "title": "Anything else?", "text": "Is there anything else I can help you with?"},
    {"id": "handing_back", "title": "Handing back",
     "text": "I'll hand you back to the assistant now. Thanks for your patience, and have a good day."},
)


@dataclass(frozen=True)
class QueueEntry:
    handoff: Handoff
    customer_name: str
    channel: str = "web"
    summary: str = ""


@dataclass(frozen=True)
class Context:
    """What the agent holding a handoff sees of its customer (built from the owning services)."""

    customer: User
    kyc_status: str
    accounts: list[ledger.Account]
    transactions: list[ledger.StatementItem]
    cards: list[Card]
    fraud_cases: list[FraudCase]
    channels: list[tuple[str, datetime]]


def _now() -> datetime:
    return datetime.now(UTC)


def _agent_id(principal: Principal) -> uuid.UUID:
    return uuid.UUID(principal.subject)


def is_overdue(handoff: Handoff) -> bool:
    """Nobody claimed it in time (it stays so once claimed: the queue shows it was served late)."""
    return handoff.overdue_at is not None


def sla_due_at(settings: Settings, handoff: Handoff) -> datetime:
    """When an agent should have claimed it."""
    return handoff.created_at + timedelta(seconds=settings.handoff_claim_timeout_seconds)


def _publish_change(session: Session, settings: Settings, handoff: Handoff) -> None:
    """The handoff's state on its conversation's stream and on the queue's, after the commit."""
    overdue = is_overdue(handoff)
    streams.publish_after_commit(session, settings, [
        streams.LiveEvent(streams.conversation_key(handoff.conversation_id), "handoff",
                          {"id": handoff.id, "status": handoff.status, "overdue": overdue}),
        streams.LiveEvent(streams.QUEUE_KEY, "queue",
                          {"handoff_id": handoff.id, "status": handoff.status, "overdue": overdue})])


def open_handoff_of(session: Session, conversation_id: uuid.UUID) -> Handoff | None:
    """The conversation's open (waiting or active) handoff, if any."""
    return session.scalar(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                Handoff.status.in_(OPEN_STATUSES)))


def latest_handoff_of(session: Session, conversation_id: uuid.UUID) -> Handoff | None:
    """The conversation's most recent handoff, whatever its status."""
    return session.scalar(select(Handoff).where(Handoff.conversation_id == conversation_id)
                          .order_by(Handoff.created_at.desc(), Handoff.id).limit(1))


def quiet_handoff_of(session: Session, settings: Settings, conversation_id: uuid.UUID) -> Handoff | None:
    """The open handoff that keeps the bot quiet in this conversation, or None when the bot answers.

    A waiting handoff that is overdue lets the bot answer again: Rasa is resumed here once (the bot was
    paused when the handoff opened; the saga worker that marks it overdue does not talk to Rasa), and
    the customer's messages are answered as usual until an agent claims it. Raises a 503/502 problem
    when Rasa cannot be resumed (the message could not have been answered either).
    """
    handoff = open_handoff_of(session, conversation_id)
    if handoff is None or handoff.status != "waiting" or not is_overdue(handoff):
        return handoff
    if handoff.bot_resumed_at is None:
        rasa_client.resume(settings.rasa_url, settings.rasa_api_token, settings.rasa_api_timeout_seconds,
                           conversation_id)
        session.execute(update(Handoff).where(Handoff.id == handoff.id, Handoff.bot_resumed_at.is_(None))
                        .values(bot_resumed_at=_now()))
    return None


def is_assigned(session: Session, conversation_id: uuid.UUID, principal: Principal) -> bool:
    """True for an agent who holds an open handoff of this conversation (not once it is released)."""
    if "agent" not in principal.roles or principal.is_service:
        return False
    # Open: only while the agent works the conversation; a released (closed) handoff grants nothing.
    return session.scalar(select(Handoff.id).where(Handoff.conversation_id == conversation_id,
                                                   Handoff.agent_id == _agent_id(principal),
                                                   Handoff.status.in_(OPEN_STATUSES)).limit(1)) is not None


def open_handoff(session: Session, settings: Settings, principal: Principal, *, conversation_id: uuid.UUID,
                 reason: str) -> tuple[Handoff, bool]:
    """Open a handoff for the conversation, or find the open one. Returns (handoff, created).

    While it is open (and not overdue), the core no longer lets the bot answer this conversation
    (api/chat/service.py), whoever opened it. The assistant's action also pauses Rasa
    (`ConversationPaused`): asking again while an overdue handoff waits pauses the bot again, so the
    core resumes it again at the next message (`bot_resumed_at` is cleared here).
    """
    if not (principal.is_service or "customer" in principal.roles):
        raise Problem(403, "customer_only", "Handoffs are opened by the customer or the assistant acting for one")
    if reason not in REASONS:
        raise Problem(422, "unknown_reason", "Not a handoff reason", reasons=list(REASONS))
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
        telemetry.count_handoff("opened")
    handoff = open_handoff_of(session, conversation.id)
    assert handoff is not None
    if new_id is None and principal.is_service and handoff.bot_resumed_at is not None:
        handoff.bot_resumed_at = None  # the assistant paused Rasa again
    if new_id is not None:
        _publish_change(session, settings, handoff)
    return handoff, new_id is not None


def _summaries(session: Session, conversation_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each conversation's last few customer lines, as stored (redacted), oldest first, short."""
    if not conversation_ids:
        return {}
    line = TranscriptMessage
    ranked = (select(line.conversation_id, line.id, line.text,
                     func.row_number().over(partition_by=line.conversation_id, order_by=line.id.desc()).label("n"))
              .where(line.conversation_id.in_(conversation_ids), line.role == "user").subquery())
    lines: dict[uuid.UUID, list[str]] = {}
    for conversation_id, said in session.execute(select(ranked.c.conversation_id, ranked.c.text)
                                                 .where(ranked.c.n <= SUMMARY_LINES)
                                                 .order_by(ranked.c.conversation_id, ranked.c.id)):
        short = " ".join(said.split())
        lines.setdefault(conversation_id, []).append(
            short if len(short) <= SUMMARY_LINE_CHARS else short[:SUMMARY_LINE_CHARS - 1] + "…")
    out = {}
    for conversation_id, said_lines in lines.items():
        summary = " / ".join(said_lines)
        out[conversation_id] = summary if len(summary) <= SUMMARY_CHARS else summary[:SUMMARY_CHARS - 1] + "…"
    return out


def queue(session: Session, principal: Principal, *, status: str | None, limit: int) -> list[QueueEntry]:
    """What an agent works on: every waiting handoff, and the agent's own active (or closed) ones."""
    assert 1 <= limit <= MAX_LIST
    me = _agent_id(principal)
    query = (select(Handoff, User.full_name, Conversation.channel).join(User, User.id == Handoff.customer_id)
             .join(Conversation, Conversation.id == Handoff.conversation_id))
    if status is None:
        query = query.where(or_(Handoff.status == "waiting", (Handoff.status == "active") & (Handoff.agent_id == me)))
        query = query.order_by(Handoff.status, Handoff.created_at)  # own active ones first, then oldest waiting
    elif status == "waiting":
        query = query.where(Handoff.status == "waiting").order_by(Handoff.created_at)
    else:
        query = query.where(Handoff.status == status, Handoff.agent_id == me)
        query = query.order_by(Handoff.created_at if status == "active" else Handoff.closed_at.desc())
    rows = session.execute(query.limit(limit)).all()
    summaries = _summaries(session, {handoff.conversation_id for handoff, _, _ in rows})
    return [QueueEntry(handoff, name, channel, summaries.get(handoff.conversation_id, ""))
            for handoff, name, channel in rows]


def _locked(session: Session, handoff_id: uuid.UUID, *, share: bool = False) -> Handoff:
    """The handoff, its row locked for this transaction (shared with `share`)."""
    handoff = session.get(Handoff, handoff_id, with_for_update={"read": True} if share else True)
    if handoff is None:
        raise Problem(404, "handoff_not_found", "No such handoff")
    return handoff


def _entry(session: Session, handoff: Handoff) -> QueueEntry:
    customer = session.get(User, handoff.customer_id)
    conversation = session.get(Conversation, handoff.conversation_id)
    assert customer is not None and conversation is not None
    summary = _summaries(session, {handoff.conversation_id}).get(handoff.conversation_id, "")
    return QueueEntry(handoff, customer.full_name, conversation.channel, summary)


def _must_hold(handoff: Handoff, principal: Principal) -> None:
    """The handoff is active and this agent holds it."""
    if handoff.status == "closed":
        raise Problem(409, "handoff_closed", "This handoff is closed")
    if handoff.status == "waiting":
        raise Problem(409, "handoff_not_claimed", "Claim this handoff first")
    if handoff.agent_id != _agent_id(principal):
        raise Problem(403, "not_your_handoff", "Another agent holds this handoff")


def _held(session: Session, principal: Principal, handoff_id: uuid.UUID) -> Handoff:
    """The handoff this agent holds, read without a lock (403/404/409 otherwise)."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise Problem(404, "handoff_not_found", "No such handoff")
    _must_hold(handoff, principal)
    return handoff


def claim(session: Session, settings: Settings, principal: Principal, *, handoff_id: uuid.UUID) -> QueueEntry:
    """Take a waiting handoff, overdue or not: the bot goes quiet again (the core stops relaying to it)."""
    handoff = _locked(session, handoff_id)
    me = _agent_id(principal)
    if handoff.status == "closed":
        raise Problem(409, "handoff_closed", "This handoff is closed")
    if handoff.status == "active" and handoff.agent_id != me:
        raise Problem(409, "handoff_taken", "Another agent already holds this handoff")
    if handoff.status == "waiting":  # claiming one's own active handoff again changes nothing
        handoff.status, handoff.agent_id, handoff.claimed_at = "active", me, _now()
        record(session, principal, "handoff.claim", "handoff", handoff.id, conversation_id=handoff.conversation_id,
               overdue=is_overdue(handoff))
        telemetry.count_handoff("claimed")
        _publish_change(session, settings, handoff)
    return _entry(session, handoff)


def post_message(session: Session, settings: Settings, principal: Principal, *, handoff_id: uuid.UUID, text: str,
                 redact: Any) -> tuple[Conversation, TranscriptMessage]:
    """The assigned agent speaks: redacted and stored as a transcript line; the customer reads that line."""
    handoff = _locked(session, handoff_id, share=True)  # a concurrent release waits for this message
    _must_hold(handoff, principal)
    conversation = session.get(Conversation, handoff.conversation_id)
    assert conversation is not None
    message = transcripts.add_agent_message(session, settings, conversation, _agent_id(principal), text, redact)
    record(session, principal, "handoff.message", "handoff", handoff.id, message_id=message.id,
           entity_types=list(message.entity_types))
    return conversation, message


def typing(session: Session, settings: Settings, principal: Principal, *, handoff_id: uuid.UUID) -> None:
    """The agent holding the handoff is typing: published to the conversation now (nothing stored)."""
    handoff = _held(session, principal, handoff_id)
    streams.publish(settings, [streams.LiveEvent(streams.conversation_key(handoff.conversation_id), "typing",
                                                 {"role": "agent"})])


def _say(settings: Settings, conversation_id: uuid.UUID, response: str) -> list[rasa_client.BotMessage]:
    """Have the bot say a domain response in the conversation, then listen again (rasa_client.say: the
    process's pooled client to Rasa, not a connection per call). Best effort: [] on failure, because the
    hand-back itself (resume) has already succeeded and a missing "anything else?" must not undo it."""
    try:
        return rasa_client.say(settings.rasa_url, settings.rasa_api_token, settings.rasa_api_timeout_seconds,
                               conversation_id, response)
    except Problem as exc:
        log.warning("handoff_bot_line_failed", response=response, error=exc.code,
                    upstream_status=exc.extra.get("upstream_status"))
        return []


def release(session: Session, settings: Settings, principal: Principal, *,
            handoff_id: uuid.UUID) -> tuple[QueueEntry, list[rasa_client.BotMessage]]:
    """Hand the conversation back to the bot, which asks "anything else?". Rasa first: if it cannot
    resume, nothing changes here. Returns the entry and what the bot said (for a messaging channel)."""
    handoff = _locked(session, handoff_id)
    if handoff.status == "closed" and handoff.agent_id == _agent_id(principal):
        return _entry(session, handoff), []  # releasing twice is not an error
    _must_hold(handoff, principal)
    # Raises a 503/502 problem when Rasa cannot take the conversation back; the caller's transaction is
    # then rolled back, so the handoff stays active. Should the commit below fail after Rasa resumed,
    # releasing again resumes again (harmless) and closes. The row lock is held during the call (at most
    # RASA_API_TIMEOUT_SECONDS): a concurrent message or release waits instead of racing.
    rasa_client.resume(settings.rasa_url, settings.rasa_api_token, settings.rasa_api_timeout_seconds,
                       handoff.conversation_id)
    said = _say(settings, handoff.conversation_id, ANYTHING_ELSE)
    handoff.status, handoff.closed_at = "closed", _now()
    record(session, principal, "handoff.release", "handoff", handoff.id, conversation_id=handoff.conversation_id)
    _publish_change(session, settings, handoff)
    return _entry(session, handoff), said


def request_callback(session: Session, settings: Settings, principal: Principal, *,
                     handoff_id: uuid.UUID) -> tuple[Handoff, Conversation, bool]:
    """The customer asks to be called back on their registered number. Returns (handoff, conversation,
    requested now); asking again changes nothing."""
    handoff = _locked(session, handoff_id)
    if "customer" not in principal.roles or principal.is_service or principal.customer_id != handoff.customer_id:
        raise Problem(404, "handoff_not_found", "No such handoff")
    if handoff.status == "closed":
        raise Problem(409, "handoff_closed", "This handoff is closed")
    conversation = session.get(Conversation, handoff.conversation_id)
    assert conversation is not None
    if handoff.callback_requested_at is not None:
        return handoff, conversation, False
    handoff.callback_requested_at = _now()
    record(session, principal, "handoff.callback", "handoff", handoff.id, conversation_id=handoff.conversation_id)
    transcripts.add_notice(session, settings, conversation=conversation, text=CALLBACK_NOTICE,
                           key=f"notice:callback:{handoff.id}")
    _publish_change(session, settings, handoff)
    return handoff, conversation, True


def expire_overdue(*, settings: Settings) -> int:
    """Mark waiting handoffs nobody claimed in time overdue and tell their customers; how many it marked.

    A periodic job of the saga workers (api/sagas/worker.py). Safe with several workers and idempotent:
    each handoff is marked by one UPDATE ... WHERE overdue_at IS NULL (rows locked by another worker are
    skipped), and its notice has a unique event key. Errors are logged, and the next run tries again.
    """
    try:
        with Session(engine_for(settings.database_url)) as session:
            marked = session.execute(text("""
                UPDATE handoffs SET overdue_at = now()
                 WHERE id IN (SELECT id FROM handoffs
                               WHERE status = 'waiting' AND overdue_at IS NULL
                                 AND created_at <= now() - make_interval(secs => :timeout)
                               ORDER BY created_at LIMIT :batch FOR UPDATE SKIP LOCKED)
                   AND status = 'waiting' AND overdue_at IS NULL
                RETURNING id"""), {"timeout": settings.handoff_claim_timeout_seconds,
                                   "batch": settings.handoff_overdue_batch}).scalars().all()
            if not marked:
                session.rollback()
                return 0
            told: list[Conversation] = []
            for handoff in session.scalars(select(Handoff).where(Handoff.id.in_(marked))):
                conversation = session.get(Conversation, handoff.conversation_id)
                assert conversation is not None
                record(session, SYSTEM_ACTOR, "handoff.overdue", "handoff", handoff.id,
                       conversation_id=handoff.conversation_id,
                       timeout_seconds=settings.handoff_claim_timeout_seconds)
                transcripts.add_notice(session, settings, conversation=conversation, text=OVERDUE_NOTICE,
                                       key=f"notice:overdue:{handoff.id}")
                _publish_change(session, settings, handoff)
                told.append(conversation)
            session.commit()
            for conversation in told:
                deliver_lines(session, settings, conversation=conversation, texts=[OVERDUE_NOTICE],
                              buttons=[CALLBACK_BUTTON])
            return len(marked)
    except SQLAlchemyError as exc:
        log.error("handoff_overdue_job_failed", error=type(exc).__name__)
        return 0


def conversation_of(session: Session, conversation_id: uuid.UUID) -> Conversation:
    """The conversation (it exists: a handoff refers to it)."""
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    return conversation


def deliver_lines(session: Session, settings: Settings, *, conversation: Conversation,
                  texts: list[str | None], buttons: list[dict[str, str]] | None = None) -> None:
    """After the commit: send lines to a messaging-channel customer (web chat reads the live events); the
    buttons go with the last line."""
    messages = [rasa_client.BotMessage(text=t) for t in texts if t]
    if messages and buttons:
        messages[-1] = rasa_client.BotMessage(text=messages[-1].text, buttons=buttons)
    if conversation.channel == "web" or not messages:
        return
    try:
        deliver(session, settings, conversation=conversation, messages=messages)
        session.commit()
    except Exception as exc:  # a channel that is down must not undo what is stored and published
        session.rollback()
        log.error("handoff_delivery_failed", channel=conversation.channel, error=type(exc).__name__)


def context(session: Session, principal: Principal, *, handoff_id: uuid.UUID) -> Context:
    """The customer of the handoff this agent holds, as the bank's services see them; the read is audited."""
    handoff = _held(session, principal, handoff_id)
    customer = session.get(User, handoff.customer_id)
    assert customer is not None
    conn = driver_connection(session)
    accounts = customer_accounts(conn, customer.id)
    transactions = ledger.statement(conn, account_ids=[a.id for a in accounts], limit=10).items if accounts else []
    channels = [(link.channel, link.linked_at) for link in links_of(session, customer_id=customer.id)
                if link.revoked_at is None]
    record(session, principal, "handoff.context", "handoff", handoff.id, customer_id=customer.id)
    return Context(customer=customer, kyc_status=status_of(session, customer.id), accounts=accounts,
                   transactions=list(transactions), cards=cards_of(session, customer.id),
                   fraud_cases=open_cases_of(session, customer_id=customer.id),
                   channels=channels)


def freeze_card(session: Session, principal: Principal, *, handoff_id: uuid.UUID, card_id: uuid.UUID) -> Card:
    """The agent freezes the handoff's customer's card, by the card rules (api/cards), audited as the agent."""
    handoff = _held(session, principal, handoff_id)
    card = set_frozen(session, principal, handoff.customer_id, card_id, frozen=True,
                      note=f"support agent, handoff {handoff.id}")
    record(session, principal, "handoff.freeze_card", "handoff", handoff.id, card_id=card.id)
    return card


def open_fraud_case(session: Session, principal: Principal, *, handoff_id: uuid.UUID, kind: str,
                    card_id: uuid.UUID | None) -> FraudCase:
    """The agent opens a fraud case for the handoff's customer, by the fraud rules (api/fraud), audited."""
    handoff = _held(session, principal, handoff_id)
    case = open_case(session, principal, handoff.customer_id, kind=kind, card_id=card_id, transaction_id=None,
                     description=None, freeze_card=False)
    record(session, principal, "handoff.fraud_case", "handoff", handoff.id, fraud_case_id=case.id, kind=kind)
    return case
