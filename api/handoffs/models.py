"""Handoffs: a conversation waiting for, or held by, a support agent. No customer text in here."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from api.orm import Base

OPEN_STATUSES = ("waiting", "active")


class Handoff(Base):
    __tablename__ = "handoffs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(8), default="waiting")  # waiting -> active -> closed
    reason: Mapped[str] = mapped_column(String(40), default="customer_request")  # a code, never free text
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Not claimed within HANDOFF_CLAIM_TIMEOUT_SECONDS: set once by the overdue job (expire_overdue).
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    callback_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The core resumed Rasa for this overdue waiting handoff: the bot answers again until it is claimed.
    bot_resumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
