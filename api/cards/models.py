"""Cards and their authorizations (approved and declined, with reason codes)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, SmallInteger, String, func
from sqlalchemy.orm import Mapped, mapped_column

from api.orm import Base

DECLINE_REASONS = ("insufficient_funds", "card_frozen", "limit_exceeded", "suspected_fraud", "expired_card",
                   "incorrect_pin")


class Card(Base):
    __tablename__ = "cards"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    account_id: Mapped[uuid.UUID]
    last4: Mapped[str] = mapped_column(String(4))
    brand: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="physical")
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Why it is frozen (api/cards/service.py FREEZE_REASONS); None while it is not, or frozen before 0009.
    freeze_reason: Mapped[str | None] = mapped_column(String(24))
    expires_month: Mapped[int] = mapped_column(SmallInteger)
    expires_year: Mapped[int] = mapped_column(SmallInteger)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Authorization(Base):
    __tablename__ = "card_authorizations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cards.id"))
    merchant: Mapped[str] = mapped_column(String(120))
    category: Mapped[str | None] = mapped_column(String(32))
    mcc: Mapped[str | None] = mapped_column(String(4))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    ledger_transaction_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
