"""Card rules: only the owner's cards, freeze and unfreeze idempotent and audited."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit.service import record
from api.auth.security import Principal
from api.cards.models import Authorization, Card
from api.problems import Problem

MAX_AUTHORIZATIONS_PAGE = 100


def cards_of(session: Session, customer_id: uuid.UUID) -> list[Card]:
    return list(session.scalars(select(Card).where(Card.customer_id == customer_id).order_by(Card.created_at)))


def owned_card(session: Session, customer_id: uuid.UUID, card_id: uuid.UUID, *, lock: bool = False) -> Card:
    query = select(Card).where(Card.id == card_id, Card.customer_id == customer_id)
    card = session.scalar(query.with_for_update() if lock else query)
    if card is None:  # another customer's card looks exactly like a missing one
        raise Problem(404, "card_not_found", "No such card")
    return card


def set_frozen(session: Session, principal: Principal, customer_id: uuid.UUID, card_id: uuid.UUID,
               frozen: bool, reason: str | None = None) -> Card:
    card = owned_card(session, customer_id, card_id, lock=True)
    if card.status == "cancelled":
        raise Problem(409, "card_cancelled", "This card is cancelled and cannot be frozen or unfrozen")
    wanted = "frozen" if frozen else "active"
    if card.status != wanted:  # repeating a freeze is a no-op, not an error, and not audited twice
        card.status = wanted
        record(session, principal, "card.freeze" if frozen else "card.unfreeze", "card", card.id, reason=reason)
    return card


# A cash withdrawal is an authorization in the cash category (ATM merchant codes); everything else is a payment.
CASH_CATEGORY = "cash"


def authorizations(session: Session, customer_id: uuid.UUID, card_id: uuid.UUID | None, status: str | None,
                   limit: int, kind: str | None = None) -> list[Authorization]:
    assert 1 <= limit <= MAX_AUTHORIZATIONS_PAGE
    assert kind in (None, "cash_withdrawal", "card_payment")
    query = select(Authorization).join(Card, Card.id == Authorization.card_id).where(Card.customer_id == customer_id)
    if card_id is not None:
        owned_card(session, customer_id, card_id)
        query = query.where(Authorization.card_id == card_id)
    if status is not None:
        query = query.where(Authorization.status == status)
    if kind == "cash_withdrawal":
        query = query.where(Authorization.category == CASH_CATEGORY)
    elif kind == "card_payment":
        query = query.where(Authorization.category.is_distinct_from(CASH_CATEGORY))
    return list(session.scalars(query.order_by(Authorization.created_at.desc(), Authorization.id).limit(limit)))
