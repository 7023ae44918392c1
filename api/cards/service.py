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
# Why a card is frozen, weakest first: the customer's own freeze, a freeze that came with another fraud
# report (both reversible by the customer), and a block after a report that the card is lost, stolen or
# compromised: its number is in other hands, so only support lifts it (or the card is replaced).
FREEZE_REASONS = ("customer", "fraud_report", "card_compromised")
SUPPORT_ONLY_REASONS = frozenset({"card_compromised"})


def cards_of(session: Session, customer_id: uuid.UUID) -> list[Card]:
    return list(session.scalars(select(Card).where(Card.customer_id == customer_id).order_by(Card.created_at)))


def owned_card(session: Session, customer_id: uuid.UUID, card_id: uuid.UUID, *, lock: bool = False) -> Card:
    query = select(Card).where(Card.id == card_id, Card.customer_id == customer_id)
    card = session.scalar(query.with_for_update() if lock else query)
    if card is None:  # another customer's card looks exactly like a missing one
        raise Problem(404, "card_not_found", "No such card")
    return card


def set_frozen(session: Session, principal: Principal, customer_id: uuid.UUID, card_id: uuid.UUID, *,
               frozen: bool, freeze_reason: str = "customer", note: str | None = None) -> Card:
    """Freeze (with why) or unfreeze the customer's card; a block after a report is not the customer's to lift."""
    assert freeze_reason in FREEZE_REASONS, freeze_reason
    card = owned_card(session, customer_id, card_id, lock=True)
    if card.status == "cancelled":
        raise Problem(409, "card_cancelled", "This card is cancelled and cannot be frozen or unfrozen")
    if not frozen and card.status == "frozen" and card.freeze_reason in SUPPORT_ONLY_REASONS:
        # The customer and the assistant acting for them (`service`) reach this; neither may lift it.
        raise Problem(409, "card_blocked_after_report", "This card was blocked after it was reported lost, stolen "
                      "or compromised", detail="It cannot be unfrozen: order a replacement card, or contact "
                      "support to have the block reviewed.", freeze_reason=card.freeze_reason)
    wanted = "frozen" if frozen else "active"
    stronger = frozen and card.status == "frozen" and _rank(freeze_reason) > _rank(card.freeze_reason)
    if card.status != wanted or stronger:  # repeating a freeze is a no-op, not an error, and not audited twice
        card.status = wanted
        card.freeze_reason = freeze_reason if frozen else None
        record(session, principal, "card.freeze" if frozen else "card.unfreeze", "card", card.id,
               **({"freeze_reason": freeze_reason} if frozen else {}), reason=note)
    return card


def _rank(freeze_reason: str | None) -> int:
    return FREEZE_REASONS.index(freeze_reason) if freeze_reason in FREEZE_REASONS else 0


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
