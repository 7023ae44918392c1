"""The append-only audit log: who changed what, when, under which correlation id.

Written in the same database transaction as the change it describes, so neither exists without
the other. The table refuses UPDATE, DELETE and TRUNCATE (a trigger), whoever asks.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.auth.security import Principal
from api.notifications.news import write_news

MAX_DETAILS_BYTES = 4096


def actor_of(principal: Principal) -> str:
    if principal.is_service:
        return f"{principal.subject} for {principal.acting_for}"
    return f"{principal.username} ({principal.subject})"


def record(session: Session, principal: Principal | str, action: str, target_type: str, target_id: object,
           **details: Any) -> None:
    payload = json.dumps(details, default=str, sort_keys=True)
    assert len(payload) <= MAX_DETAILS_BYTES, f"audit details over {MAX_DETAILS_BYTES} bytes"
    correlation_id = structlog.contextvars.get_contextvars().get("request_id")
    actor = principal if isinstance(principal, str) else actor_of(principal)
    session.execute(
        text("INSERT INTO audit_log (actor, action, target_type, target_id, correlation_id, details) "
             "VALUES (:actor, :action, :target_type, :target_id, :correlation_id, CAST(:details AS jsonb))"),
        {"actor": actor, "action": action, "target_type": target_type, "target_id": str(target_id),
         "correlation_id": correlation_id, "details": payload})
    write_news(session, action=action, target_id=target_id)  # the customer hears of it (card, fraud case)
