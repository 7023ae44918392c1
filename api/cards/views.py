"""/v1/cards: list, freeze, unfreeze, authorizations with decline reasons."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.cards import service
from api.cards.delivery import arrives_by
from api.cards.models import Authorization, Card
from api.deps import CustomerIdDep, PrincipalDep, SessionDep
from api.money import to_decimal_string

router = APIRouter(prefix="/v1", tags=["cards"])

DECLINE_ADVICE = {
    "insufficient_funds": "There wasn't enough money in the account. Top up or move money from savings, then retry.",
    "card_frozen": "The card was frozen at the time. Unfreeze it in the app (or ask me) and try again.",
    "limit_exceeded": "The payment was over your card's spending limit. You can raise the limit in card settings.",
    "suspected_fraud": "Our fraud checks stopped it to protect you. Confirm it was you in the app and retry.",
    "expired_card": "The card has expired. Use your replacement card or order a new one.",
    "incorrect_pin": "The PIN was entered wrongly. After 3 wrong tries the PIN locks; you can reset it in the app.",
}


class CardOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    last4: str
    brand: str
    kind: str
    status: str
    freeze_reason: str | None = None  # while frozen: customer, fraud_report or card_compromised (support only)
    expires: str
    shipped_at: datetime | None
    delivered_at: datetime | None
    arrives_by: date | None = None  # until it is delivered: the latest day it should arrive (api/cards/delivery.py)


class AuthorizationOut(BaseModel):
    id: uuid.UUID
    card_id: uuid.UUID
    created_at: datetime
    merchant: str
    category: str | None
    amount: str
    currency: str
    status: str
    decline_reason: str | None
    advice: str | None


def card_out(card: Card) -> CardOut:
    return CardOut(id=card.id, account_id=card.account_id, last4=card.last4, brand=card.brand, kind=card.kind,
                   status=card.status, freeze_reason=card.freeze_reason if card.status == "frozen" else None,
                   expires=f"{card.expires_month:02d}/{card.expires_year % 100:02d}",
                   shipped_at=card.shipped_at, delivered_at=card.delivered_at,
                   arrives_by=arrives_by(ordered_on=card.created_at.date(),
                                         posted_on=card.shipped_at.date() if card.shipped_at else None,
                                         delivered=card.delivered_at is not None))


def authorization_out(a: Authorization) -> AuthorizationOut:
    return AuthorizationOut(id=a.id, card_id=a.card_id, created_at=a.created_at, merchant=a.merchant,
                            category=a.category, amount=to_decimal_string(a.amount, a.currency), currency=a.currency,
                            status=a.status, decline_reason=a.decline_reason,
                            advice=DECLINE_ADVICE.get(a.decline_reason or ""))


@router.get("/cards", response_model=list[CardOut])
def list_cards(customer_id: CustomerIdDep, session: SessionDep) -> list[CardOut]:
    return [card_out(c) for c in service.cards_of(session, customer_id)]


@router.post("/cards/{card_id}/freeze", response_model=CardOut)
def freeze(card_id: uuid.UUID, principal: PrincipalDep, customer_id: CustomerIdDep, session: SessionDep) -> CardOut:
    card = service.set_frozen(session, principal, customer_id, card_id, frozen=True)
    session.commit()
    return card_out(card)


@router.post("/cards/{card_id}/unfreeze", response_model=CardOut)
def unfreeze(card_id: uuid.UUID, principal: PrincipalDep, customer_id: CustomerIdDep,
             session: SessionDep) -> CardOut:
    card = service.set_frozen(session, principal, customer_id, card_id, frozen=False)
    session.commit()
    return card_out(card)


@router.get("/cards/{card_id}/authorizations", response_model=list[AuthorizationOut])
def card_authorizations(card_id: uuid.UUID, customer_id: CustomerIdDep, session: SessionDep,
                        status: Literal["approved", "declined", "pending"] | None = None,
                        limit: Annotated[int, Query(ge=1, le=service.MAX_AUTHORIZATIONS_PAGE)] = 20,
                        ) -> list[AuthorizationOut]:
    return [authorization_out(a) for a in service.authorizations(session, customer_id, card_id, status, limit)]


@router.get("/authorizations", response_model=list[AuthorizationOut])
def all_authorizations(customer_id: CustomerIdDep, session: SessionDep,
                       status: Literal["approved", "declined", "pending"] | None = None,
                       limit: Annotated[int, Query(ge=1, le=service.MAX_AUTHORIZATIONS_PAGE)] = 20,
                       kind: Literal["cash_withdrawal", "card_payment"] | None = None,
                       ) -> list[AuthorizationOut]:
    """Across all the customer's cards: what the assistant reads for "why was my payment declined";
    `kind` keeps cash withdrawals or card payments only."""
    return [authorization_out(a) for a in service.authorizations(session, customer_id, None, status, limit, kind)]
