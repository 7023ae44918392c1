"""Reads of sagas for the customer-facing views (refunds, purchases): one place for the step query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

MAX_STEPS = 500


def steps_of(session: Session, saga_id: str) -> list[dict[str, Any]]:
    """A saga's steps as the customer sees them, in order (its internal `started` row left out)."""
    rows = session.execute(text("SELECT name, status, at, error FROM saga_steps WHERE saga_id = :id "
                                "AND name <> 'started' ORDER BY seq LIMIT :limit"),
                           {"id": saga_id, "limit": MAX_STEPS}).mappings().all()
    return [dict(row) for row in rows]
