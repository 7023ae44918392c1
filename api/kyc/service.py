"""KYC status per customer, changed only by verified provider callbacks (idempotent on event id)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.audit.service import record
from api.auth.models import User
from api.problems import Problem


def apply_event(session: Session, provider: str, event_id: str, username: str, status: str) -> bool:
    """Record the provider's verdict; False when this event id was already applied (a retry)."""
    user = session.scalar(select(User).where(User.username == username, User.roles.any("customer")))
    if user is None:
        raise Problem(404, "customer_not_found", "No such customer")
    inserted = session.execute(
        text("INSERT INTO kyc_events (event_id, customer_id, status) VALUES (:e, :c, :s) "
             "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"),
        {"e": f"{provider}:{event_id}", "c": user.id, "s": status}).first()
    if inserted is None:
        return False
    previous, user.kyc_status = user.kyc_status, status
    record(session, f"provider:{provider}", "kyc.status", "user", user.id, previous=previous, status=status,
           event_id=event_id)
    return True


def status_of(session: Session, customer_id: uuid.UUID) -> str:
    user = session.get(User, customer_id)
    assert user is not None, "a customer token names an existing user"
    return user.kyc_status
