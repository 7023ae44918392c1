"""Channel link codes and links (migrations/versions/0013_channels.py). No message text in here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from api.orm import Base

ChannelName = Literal["telegram", "slack", "sms"]
CHANNELS: tuple[ChannelName, ...] = ("telegram", "slack", "sms")


class ChannelLinkCode(Base):
    __tablename__ = "channel_link_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String)
    code_hash: Mapped[str] = mapped_column(String)  # SHA-256 hex of the normalised code; the code itself is shown once
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChannelLink(Base):
    __tablename__ = "channel_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String)
    external_id: Mapped[str] = mapped_column(String)  # who: Telegram chat id, Slack team:user, E.164 number
    address: Mapped[str] = mapped_column(String)  # where replies go: chat id, Slack user id, E.164 number
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String)  # app, channel or relinked
