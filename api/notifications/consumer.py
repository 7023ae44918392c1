"""Reads the `notifications` stream (the outbox, relayed by the saga workers) and tells each customer.

A Redis consumer group: every saga worker is one consumer, each event goes to one of them, and is
acknowledged only once handled. Entries a dead consumer left unacknowledged are claimed by another after
CLAIM_IDLE_MS. Handling is idempotent (the notice line's key is the outbox id), so an event handled twice
is told once.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import redis
import structlog
from sqlalchemy.exc import SQLAlchemyError

from api.config import get_settings
from api.db import open_session
from api.notifications import service
from api.redis_client import redis_for
from api.sagas.relay import STREAM

GROUP = "customer-notifications"
BATCH = 50
BLOCK_MS = 1000
CLAIM_IDLE_MS = 30_000  # an entry unacknowledged this long belonged to a consumer that died

log = structlog.get_logger(__name__)


def ensure_group(client: redis.Redis) -> None:
    """Create the consumer group once, from the stream's start (news relayed before it existed is told)."""
    try:
        client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _fields(raw: dict[bytes | str, bytes | str]) -> dict[str, str]:
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()}


def handle_entries(client: redis.Redis, entries: list[tuple[Any, dict[Any, Any]]]) -> int:
    """Tell the customer of each entry, acknowledging each once done; answer how many were told."""
    settings, told = get_settings(), 0
    for entry_id, raw in entries:
        fields = _fields(raw)
        try:
            payload = json.loads(fields.get("payload") or "{}")
            with open_session() as session:
                told += service.notify(session, settings, outbox_id=int(fields["outbox_id"]), topic=fields["topic"],
                                       customer_id=fields.get("customer_id") or None, payload=payload)
        except (KeyError, ValueError) as exc:  # a malformed entry is dropped, loudly, never retried forever
            log.error("notification_malformed", entry=str(entry_id), error=type(exc).__name__)
        client.xack(STREAM, GROUP, entry_id)
    return told


def run(consumer: str, stop: threading.Event) -> None:
    """Consume until `stop`: first what a dead consumer left, then new entries as they come."""
    client = redis_for(get_settings().redis_url)
    while not stop.is_set():
        try:
            ensure_group(client)
            _, claimed, _ = client.xautoclaim(STREAM, GROUP, consumer, min_idle_time=CLAIM_IDLE_MS, count=BATCH)
            handle_entries(client, claimed)
            # Also this consumer's own unacknowledged entries (it died between reading and acknowledging).
            for _, entries in client.xreadgroup(GROUP, consumer, {STREAM: "0"}, count=BATCH) or []:
                handle_entries(client, entries)
            for _, entries in client.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=BATCH, block=BLOCK_MS) or []:
                handle_entries(client, entries)
        except (redis.RedisError, SQLAlchemyError) as exc:
            # Redis or the database is away: the entry stays pending, and is read again ("0") once back.
            log.warning("notifications_unavailable", error=type(exc).__name__)
            stop.wait(1.0)
