"""Webhook events: written to an outbox in the transaction that causes them, then delivered signed."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import psycopg

from sandbox.store import Obj, iso, new_id

if TYPE_CHECKING:
    from sandbox.engine import Engine


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over "<timestamp>.<body>", as api/webhooks/signing.py checks it."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _event_body(event_id: str, event_type: str, at: datetime, data: dict[str, Any]) -> str:
    return json.dumps({"event_id": event_id, "type": event_type, "created_at": iso(at), "data": data},
                      separators=(",", ":"))


async def _insert(conn: psycopg.AsyncConnection, *, event_id: str, provider: str, event_type: str,
                  object_id: str | None, body: str, fault: str | None, due_at: datetime, state: str = "pending",
                  held: bool = False, bad_signature: bool = False) -> int:
    row = await (await conn.execute(
        "INSERT INTO sandbox.webhooks (event_id, provider, type, object_id, body, fault, state, held, bad_signature, "
        "due_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (event_id, provider, event_type, object_id, body, fault, state, held, bad_signature, due_at))).fetchone()
    return int(row["id"])  # type: ignore[index,call-overload]


async def emit(conn: psycopg.AsyncConnection, engine: Engine, *, provider: str, event_type: str,
               obj: Obj | None, data: dict[str, Any], at: datetime, faults: list[str] | None = None) -> None:
    """Queue one event (and what its webhook faults add) in the caller's transaction."""
    if faults is None:
        faults = obj.webhook_faults if obj is not None and obj.webhook_faults else engine.faults.draw_webhook(
            event_type)
    kinds = [k for k in faults if k != "early"]  # `early` is acted on by the API call, not here
    fault = ",".join(kinds) or None
    event_id = new_id("evt")
    body = _event_body(event_id, event_type, at, data)
    object_id = obj.id if obj is not None else data.get("id")
    vnow = engine.clock.now()
    if "never" in kinds:
        webhook_id = await _insert(conn, event_id=event_id, provider=provider, event_type=event_type,
                                   object_id=object_id, body=body, fault=fault, due_at=vnow, state="never")
        # The log shows the event the client must learn of by polling.
        await conn.execute(
            "INSERT INTO sandbox.webhook_attempts (webhook_id, event_id, provider, type, object_id, attempt, fault, "
            "signature, error) VALUES (%s, %s, %s, %s, %s, 0, %s, 'none', 'not delivered (fault never)')",
            (webhook_id, event_id, provider, event_type, object_id, fault))
    else:
        due = vnow
        if "late" in kinds:
            due += timedelta(seconds=engine.settings.slow_seconds)
        held = "out_of_order" in kinds
        if held:
            # Released when the provider's next event is delivered; this is only the longest wait.
            due += timedelta(seconds=engine.settings.hold_seconds)
        copies = 2 if "duplicate" in kinds else 1
        for _ in range(copies):
            await _insert(conn, event_id=event_id, provider=provider, event_type=event_type, object_id=object_id,
                          body=body, fault=fault, due_at=due, held=held, bad_signature="bad_signature" in kinds)
    if "unknown_object" in kinds:
        ghost_id = str(data.get("id", "obj")).split("_", 1)[0] + "_unknown" + new_id("x")[2:14]
        ghost_event = new_id("evt")
        await _insert(conn, event_id=ghost_event, provider=provider, event_type=event_type, object_id=ghost_id,
                      body=_event_body(ghost_event, event_type, at, {**data, "id": ghost_id}),
                      fault="unknown_object", due_at=vnow)
