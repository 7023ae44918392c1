"""Transcript messages: redacted text only (plus, optionally, the original sealed for compliance)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ARRAY, DateTime, ForeignKey, Numeric, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from api.orm import Base


class TranscriptMessage(Base):
    __tablename__ = "transcript_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_key: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(8))  # user, bot or agent
    agent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # the author of an agent line
    channel: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    sealed: Mapped[str | None] = mapped_column(Text)
    entity_types: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    intent: Mapped[str | None] = mapped_column(String(80))
    confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
