"""Publishing live events to Redis Streams: one stream per conversation, one for the handoff queue.

Each stream is capped (XADD MAXLEN ~ LIVE_STREAM_MAXLEN) and expires after LIVE_STREAM_TTL_SECONDS
without a new entry, so Redis holds a bounded tail of recent events, never a history. The data is what
PostgreSQL already holds (redacted transcript lines, handoff states): no raw customer text.

Events are published after the database transaction that made them commits (`after_commit`): a reader
never sees a line that a rollback then took back. Publishing is best effort: when Redis is down the
event is lost, the stored line is not (the transcript endpoint still has it), and nothing fails.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from api.config import Settings
from api.redis_client import redis_for

log = structlog.get_logger(__name__)

QUEUE_KEY = "live:handoffs"
EVENT_NAMES = frozenset({"message", "typing", "handoff", "queue"})
_PENDING = "live_pending_events"
_SETTINGS = "live_settings"


def conversation_key(conversation_id: uuid.UUID) -> str:
    """The Redis Stream of one conversation's live events."""
    return f"live:conversation:{conversation_id}"


@dataclass(frozen=True)
class LiveEvent:
    key: str
    name: str
    data: dict[str, Any]


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def message_event(*, conversation_id: uuid.UUID, message_id: int, role: str, text: str,
                  sent_at: datetime) -> LiveEvent:
    """A stored transcript line (its redacted text, as stored)."""
    return LiveEvent(conversation_key(conversation_id), "message",
                     {"id": message_id, "role": role, "text": text, "sent_at": sent_at})


def publish(settings: Settings, events: list[LiveEvent]) -> list[str]:
    """Append the events to their streams now (sync code); the entry ids, or [] when Redis is down."""
    if not events:
        return []
    client = redis_for(settings.redis_url)
    try:
        pipe = client.pipeline(transaction=False)
        for item in events:
            assert item.name in EVENT_NAMES, item.name
            pipe.xadd(item.key, {"event": item.name, "data": json.dumps(item.data, default=_json)},
                      maxlen=settings.live_stream_maxlen, approximate=True)
            pipe.expire(item.key, settings.live_stream_ttl_seconds)
        results = pipe.execute()
    except redis.RedisError as exc:
        log.warning("live_publish_failed", error=type(exc).__name__, events=len(events))
        return []
    return [r.decode() if isinstance(r, bytes) else str(r) for r in results[::2]]


def publish_after_commit(session: Session, settings: Settings, events: list[LiveEvent]) -> None:
    """Publish these events once the session's current transaction commits; a rollback drops them."""
    if not events:
        return
    if _PENDING not in session.info:
        session.info[_PENDING] = []
        event.listen(session, "after_commit", _flush)
        event.listen(session, "after_soft_rollback", _drop)
    session.info[_SETTINGS] = settings
    session.info[_PENDING].extend(events)


def _flush(session: Session) -> None:
    """after_commit: publish what the committed transaction queued."""
    pending: list[LiveEvent] = session.info.get(_PENDING) or []
    if pending:
        session.info[_PENDING] = []
        publish(session.info[_SETTINGS], pending)


def _drop(session: Session, previous: SessionTransaction) -> None:
    """after_soft_rollback: what a rolled-back transaction queued never happened (a savepoint's rollback,
    e.g. one refused row of an ingest batch, leaves the transaction and its queued events alone)."""
    if previous.parent is None and session.info.get(_PENDING):
        session.info[_PENDING] = []
