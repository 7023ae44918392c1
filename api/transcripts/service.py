"""Transcript ingestion (redact, then store) and reading, retention and erasure."""

from __future__ import annotations

import hashlib
import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api import telemetry
from api.accounts.service import customer_accounts
from api.audit.service import record
from api.auth.models import User
from api.config import Settings
from api.conversations.models import Conversation
from api.db_conn import driver_connection
from api.live import streams
from api.privacy import KnownPII, encrypt_for_compliance
from api.privacy.budget import redact_within
from api.redis_client import redis_for
from api.transcripts.models import TranscriptMessage
from api.transfers.models import Payee

log = logging.getLogger(__name__)

MAX_EVENTS_PER_BATCH = 200
MAX_TEXT_CHARS = 4000
ROLES = {"user": "user", "bot": "bot"}


@dataclass(frozen=True)
class IngestResult:
    stored: int
    duplicates: int
    skipped: int
    failed: int = 0  # events that could not be stored at all (counted and logged by type, never their text)
    deferred: int = 0  # events left for the sender to send again: the batch's time budget ran out first

    def as_dict(self) -> dict[str, int]:
        return {"stored": self.stored, "duplicates": self.duplicates, "skipped": self.skipped,
                "failed": self.failed, "deferred": self.deferred}


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


def _clean(value: str) -> str:
    return value.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def _redacted(settings: Settings, text: str, known: KnownPII, redact: Any,
              context: str | None = None) -> dict[str, Any]:
    """The one redaction step of every stored message (user, bot or agent): raw text stays in memory.

    Within the per-line budget (`transcript_redaction_budget_seconds`), failing closed: a line whose
    redaction runs late or raises is stored as a placeholder with a REDACTION_TIMEOUT or
    REDACTION_FAILED marker among its entity types (api/privacy/budget.py), never as raw text.
    `context` is the bot's or agent's line before a customer's: "14 March 1983" after "what is your date
    of birth?" is a date of birth (api/privacy/context.py).
    """
    raw = _clean(text)[:MAX_TEXT_CHARS]
    result = redact_within(raw, known=known, mode="tags", budget_seconds=settings.transcript_redaction_budget_seconds,
                           redact=redact, context=context)
    return {"text": result.text, "entity_types": sorted({e.type for e in result.entities}),
            "sealed": encrypt_for_compliance(raw) if settings.transcript_seal_originals else None}


def _sent_at(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC) if value else datetime.now(UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)  # a timestamp no clock can hold: the time we got it


def _confidence(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return Decimal(str(round(min(max(float(value), 0.0), 1.0), 4)))


_FAILED = object()  # an insert that the database refused (its savepoint rolled back)


def _insert(session: Session, rows: list[dict[str, Any]], isolated: bool = False) -> list[Any]:
    """Insert redacted rows; the id of each, or None for a duplicate event (with `isolated`, _FAILED
    for a row the database refused: each row then has its own savepoint, so it fails alone).

    Each conversation's row is locked first (in id order, so two writers cannot deadlock), so the
    messages of one conversation commit in the order of their ids: a reader polling with `after=<id>`
    never skips a message that commits late under a smaller id.
    """
    conversation_ids = sorted({row["conversation_id"] for row in rows})
    if conversation_ids:
        session.execute(select(Conversation.id).where(Conversation.id.in_(conversation_ids))
                        .order_by(Conversation.id).with_for_update(key_share=True))
    ids: list[Any] = []
    for row in rows:
        statement = insert(TranscriptMessage).values(**row).on_conflict_do_nothing(
            index_elements=["event_key"]).returning(TranscriptMessage.id)
        if not isolated:
            ids.append(session.execute(statement).scalar_one_or_none())
            continue
        try:
            with session.begin_nested():
                ids.append(session.execute(statement).scalar_one_or_none())
        except DBAPIError as exc:
            log.error("transcript row refused by the database: %s", type(exc.orig).__name__)
            ids.append(_FAILED)
    return ids


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(TranscriptMessage.event_key).where(TranscriptMessage.event_key.in_(keys))))


def ingest(session: Session, settings: Settings, events: list[dict[str, Any]], redact: Any) -> IngestResult:
    """Redact and store user and bot messages. Raw text lives only in this function's memory.

    Bounded and per event: events already stored are found by key before anything is redacted (a
    batch sent again costs one query); each line has its own redaction budget and fails closed; an
    event that breaks in any other way is counted as failed, logged by exception type, and does not
    fail its batch (the insert of each row has its own savepoint). Once the batch has spent
    `transcript_batch_budget_seconds` on redaction, the rest is reported as deferred and not stored:
    the broker sends the batch again and the stored part comes back as duplicates.
    """
    assert len(events) <= MAX_EVENTS_PER_BATCH
    started = time.monotonic()
    skipped = failed = deferred = 0
    rows: list[dict[str, Any]] = []
    request_ids: list[str | None] = []  # each row's turn, for the turn latency by intent (api/telemetry.py)
    known_cache: dict[uuid.UUID, KnownPII] = {}
    bot_lines: dict[uuid.UUID, str] = {}  # each conversation's last bot line in this batch, for the next answer
    keys = [event_key(event) if isinstance(event, dict) else "" for event in events]
    already = _existing_keys(session, [k for k in keys if k])
    duplicates = 0
    for event, key in zip(events, keys, strict=True):
        if key in already:
            duplicates += 1
            continue
        if rows and time.monotonic() - started > settings.transcript_batch_budget_seconds:
            deferred += 1  # at least one line per request is done, so a batch sent again always progresses
            continue
        if isinstance(event, dict) and event.get("event") == "action":
            telemetry.observe_action(event.get("name"))  # a fallback the broker forwards to be counted
        try:
            row = _row(session, settings, event, key, known_cache, redact, bot_lines)
        except Exception as exc:
            log.error("transcript event not stored: %s", type(exc).__name__)
            failed += 1
            continue
        if row is None:
            skipped += 1  # not a message, or a channel not bound to a customer: nothing to attribute it to
        else:
            rows.append(row)
            request_ids.append(event.get("request_id") if isinstance(event.get("request_id"), str) else None)
    ids = _insert(session, rows, isolated=True)
    stored = sum(1 for message_id in ids if isinstance(message_id, int))
    _observe_stored(settings, rows, ids, request_ids)
    _publish_stored(session, settings, rows, ids)
    inserts_failed = sum(1 for message_id in ids if message_id is _FAILED)
    if inserts_failed:
        log.error("transcript events not stored: %d inserts failed", inserts_failed)
    return IngestResult(stored, duplicates + len(rows) - stored - inserts_failed, skipped, failed + inserts_failed,
                        deferred)


def _observe_stored(settings: Settings, rows: list[dict[str, Any]], ids: list[Any],
                    request_ids: list[str | None]) -> None:
    """NLU metrics of each customer line stored now (once per line: a batch sent again finds it a duplicate)."""
    for row, message_id, request_id in zip(rows, ids, request_ids, strict=True):
        if row["role"] != "user" or not isinstance(message_id, int):
            continue
        telemetry.observe_user_message(row["intent"], row["confidence"])
        if request_id and row["intent"]:
            telemetry.meet_turn(redis_for(settings.redis_url), request_id, intent=row["intent"])


def _previous_line(session: Session, conversation_id: uuid.UUID, before: datetime) -> str | None:
    """The conversation's last bot or agent line before `before`, as stored: a question survives redaction."""
    return session.scalar(select(TranscriptMessage.text).where(
        TranscriptMessage.conversation_id == conversation_id, TranscriptMessage.role.in_(("bot", "agent")),
        TranscriptMessage.sent_at <= before).order_by(TranscriptMessage.sent_at.desc(), TranscriptMessage.id.desc())
        .limit(1))


def _row(session: Session, settings: Settings, event: Any, key: str, known_cache: dict[uuid.UUID, KnownPII],
         redact: Any, bot_lines: dict[uuid.UUID, str] | None = None) -> dict[str, Any] | None:
    if not isinstance(event, dict):
        return None
    role = ROLES.get(str(event.get("event")))
    text = event.get("text")
    conversation = _conversation(session, event.get("sender_id")) if role else None
    if conversation is None or not isinstance(text, str) or not text.strip():
        return None
    known = known_cache.get(conversation.customer_id) or known_pii(session, conversation.customer_id)
    known_cache[conversation.customer_id] = known
    sent_at = _sent_at(event.get("timestamp"))
    bot_lines = {} if bot_lines is None else bot_lines
    context = None
    if role == "user":  # the question this line may answer: earlier in this batch, or already stored
        context = bot_lines.get(conversation.id) or _previous_line(session, conversation.id, sent_at)
    else:
        bot_lines[conversation.id] = text
    return {"event_key": key, "conversation_id": conversation.id,
            "customer_id": conversation.customer_id, "role": role,
            "channel": _clean(str(event.get("input_channel") or conversation.channel))[:32],
            **_redacted(settings, text, known, redact, context),
            "intent": _clean(str(event["intent"]))[:80] if role == "user" and event.get("intent") else None,
            "confidence": _confidence(event.get("confidence")) if role == "user" else None,
            "sent_at": sent_at}


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
    _publish_stored(session, settings, [row], [message_id])
    return message


def add_notice(session: Session, settings: Settings, *, conversation: Conversation, text: str,
               key: str) -> int | None:
    """A line of the core's own to the customer (role `notice`, e.g. "nobody is free yet"); its id, or None
    when a notice with this key is already stored. Notices are fixed texts of the core, never customer
    data, so there is nothing to redact; they are stored and published like any other line."""
    row = {"event_key": hashlib.sha256(key.encode()).hexdigest(), "conversation_id": conversation.id,
           "customer_id": conversation.customer_id, "role": "notice", "channel": "core",
           "text": _clean(text)[:MAX_TEXT_CHARS], "entity_types": [], "sealed": None, "sent_at": datetime.now(UTC)}
    (message_id,) = _insert(session, [row])
    _publish_stored(session, settings, [row], [message_id])
    return message_id


def _publish_stored(session: Session, settings: Settings, rows: list[dict[str, Any]], ids: list[Any]) -> None:
    """Each stored line (redacted, as stored) to its conversation's live events, once the commit is done."""
    streams.publish_after_commit(session, settings, [
        streams.message_event(conversation_id=row["conversation_id"], message_id=message_id, role=row["role"],
                              text=row["text"], sent_at=row["sent_at"])
        for row, message_id in zip(rows, ids, strict=True) if isinstance(message_id, int)])


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
