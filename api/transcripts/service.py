"""Transcript ingestion (redact, then store) and reading, retention and erasure."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.accounts.service import customer_accounts
from api.audit.service import record
from api.auth.models import User
from api.config import Settings
from api.conversations.models import Conversation
from api.db_conn import driver_connection
from api.privacy import KnownPII, encrypt_for_compliance
from api.transcripts.models import TranscriptMessage
from api.transfers.models import Payee

MAX_EVENTS_PER_BATCH = 200
MAX_TEXT_CHARS = 4000
ROLES = {"user": "user", "bot": "bot"}


@dataclass(frozen=True)
class IngestResult:
    stored: int
    duplicates: int
    skipped: int


def known_pii(session: Session, customer_id: uuid.UUID) -> KnownPII:
    """What the bank knows about this customer: caught by deny-list recognizers every time."""
    user = session.get(User, customer_id)
    assert user is not None
    payees = session.scalars(select(Payee).where(Payee.customer_id == customer_id)).all()
    numbers = [p.iban or p.account_number or "" for p in payees]
    numbers += [str(a.id) for a in customer_accounts(driver_connection(session), customer_id)]
    return KnownPII(full_name=user.full_name, email=user.email, phone=user.phone, address=user.address,
                    account_numbers=tuple(n for n in numbers if n), payee_names=tuple(p.name for p in payees))


def event_key(event: dict[str, Any]) -> str:
    # No message text in the key: even a hash of a short PIN or a card number can be brute-forced.
    parts = (event.get("sender_id"), event.get("event"), repr(event.get("timestamp")), event.get("message_id"))
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _conversation(session: Session, sender_id: Any) -> Conversation | None:
    try:
        return session.get(Conversation, uuid.UUID(str(sender_id)))
    except ValueError:
        return None


def _redacted(settings: Settings, text: str, known: KnownPII, redact: Any) -> dict[str, Any]:
    """The one redaction step of every stored message (user, bot or agent): raw text stays in memory."""
    raw = text.replace("\x00", "")[:MAX_TEXT_CHARS]  # PostgreSQL text cannot hold NUL
    result = redact(raw, known=known, mode="tags")
    return {"text": result.text, "entity_types": sorted({e.type for e in result.entities}),
            "sealed": encrypt_for_compliance(raw) if settings.transcript_seal_originals else None}


def _insert(session: Session, rows: list[dict[str, Any]]) -> list[int | None]:
    """Insert redacted rows; the id of each, or None for a duplicate event.

    Each conversation's row is locked first (in id order, so two writers cannot deadlock), so the
    messages of one conversation commit in the order of their ids: a reader polling with `after=<id>`
    never skips a message that commits late under a smaller id.
    """
    conversation_ids = sorted({row["conversation_id"] for row in rows})
    if conversation_ids:
        session.execute(select(Conversation.id).where(Conversation.id.in_(conversation_ids))
                        .order_by(Conversation.id).with_for_update(key_share=True))
    ids = []
    for row in rows:
        ids.append(session.execute(insert(TranscriptMessage).values(**row)
                                   .on_conflict_do_nothing(index_elements=["event_key"])
                                   .returning(TranscriptMessage.id)).scalar_one_or_none())
    return ids


def ingest(session: Session, settings: Settings, events: list[dict[str, Any]], redact: Any) -> IngestResult:
    """Redact and store user and bot messages. Raw text lives only in this function's memory."""
    assert len(events) <= MAX_EVENTS_PER_BATCH
    skipped = 0
    rows: list[dict[str, Any]] = []
    known_cache: dict[uuid.UUID, KnownPII] = {}
    for event in events:
        role = ROLES.get(str(event.get("event")))
        text = event.get("text")
        conversation = _conversation(session, event.get("sender_id")) if role else None
        if conversation is None or not isinstance(text, str) or not text.strip():
            skipped += 1  # not a message, or a channel not bound to a customer: nothing to attribute it to
            continue
        known = known_cache.get(conversation.customer_id) or known_pii(session, conversation.customer_id)
        known_cache[conversation.customer_id] = known
        confidence = event.get("confidence")
        rows.append({"event_key": event_key(event), "conversation_id": conversation.id,
                     "customer_id": conversation.customer_id, "role": role,
                     "channel": str(event.get("input_channel") or conversation.channel)[:32],
                     **_redacted(settings, text, known, redact),
                     "intent": str(event["intent"])[:80] if role == "user" and event.get("intent") else None,
                     "confidence": Decimal(str(round(float(confidence), 4))) if role == "user" and isinstance(
                         confidence, (int, float)) else None,
                     "sent_at": datetime.fromtimestamp(float(event.get("timestamp") or 0), UTC)
                     if event.get("timestamp") else datetime.now(UTC)})
    stored = sum(1 for message_id in _insert(session, rows) if message_id is not None)
    return IngestResult(stored, len(rows) - stored, skipped)


def add_agent_message(session: Session, settings: Settings, conversation: Conversation, agent_id: uuid.UUID,
                      text: str, redact: Any) -> TranscriptMessage:
    """A support agent's line in a handoff: redacted like the customer's own messages, then stored.

    The same deny list (what the bank knows about this customer) and the same engine as the broker's
    ingest; the raw text is never stored, logged or kept for delivery (the customer reads the stored line).
    """
    row = {"event_key": f"agent:{uuid.uuid4().hex}", "conversation_id": conversation.id,
           "customer_id": conversation.customer_id, "role": "agent", "agent_id": agent_id, "channel": "agent",
           **_redacted(settings, text, known_pii(session, conversation.customer_id), redact),
           "sent_at": datetime.now(UTC)}
    (message_id,) = _insert(session, [row])
    message = session.get(TranscriptMessage, message_id)
    assert message is not None
    return message


def transcript(session: Session, conversation_id: uuid.UUID, limit: int,
               after: int | None = None) -> list[TranscriptMessage]:
    """The whole transcript in the order things were said, or (`after`) what was stored since that id."""
    query = select(TranscriptMessage).where(TranscriptMessage.conversation_id == conversation_id)
    if after is None:
        query = query.order_by(TranscriptMessage.sent_at, TranscriptMessage.id)
    else:
        query = query.where(TranscriptMessage.id > after).order_by(TranscriptMessage.id)
    return list(session.scalars(query.limit(limit)))


def purge_older_than(session: Session, days: int, actor: str) -> int:
    """Retention: delete transcript messages older than `days`, audited."""
    assert days >= 1
    cutoff = datetime.now(UTC) - timedelta(days=days)
    deleted = session.execute(delete(TranscriptMessage).where(TranscriptMessage.sent_at < cutoff)).rowcount
    record(session, actor, "transcripts.purge", "transcripts", "*", older_than_days=days, deleted=deleted)
    return deleted


def erase_customer(session: Session, customer_id: uuid.UUID, actor: str) -> int:
    """Erasure of one customer's conversation data (GDPR art. 17), audited."""
    deleted = session.execute(delete(TranscriptMessage).where(TranscriptMessage.customer_id == customer_id)).rowcount
    record(session, actor, "transcripts.erase", "user", customer_id, deleted=deleted)
    return deleted
