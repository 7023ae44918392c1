"""Fraud cases opened by customers, worked by compliance."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from api.orm import Base

FRAUD_KINDS = ("card_payment_not_recognised", "compromised_card", "lost_or_stolen_card",
               "cash_withdrawal_not_recognised", "direct_debit_payment_not_recognised")
CASE_STATUSES = ("open", "investigating", "resolved", "rejected")


class FraudCase(Base):
    __tablename__ = "fraud_cases"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(48))
    card_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cards.id"))
    transaction_id: Mapped[uuid.UUID | None]
    description: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="open")
    card_frozen: Mapped[bool] = mapped_column(default=False)
    resolution_note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
