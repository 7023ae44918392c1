"""Links between a channel identity and a customer, made with a one-time code from the app.

A channel user id is never trusted on its own: only a code the signed-in customer asked for in the app
(single use, minutes long, stored as a hash) ties a Telegram chat, a Slack user or a phone number to them.
Each link gets a conversation of its own (`conversations.channel` = the channel).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit.service import record
from api.auth.security import Principal
from api.channels.models import ChannelLink, ChannelLinkCode, ChannelName
from api.conversations.models import Conversation
from api.problems import Problem

# 32 letters and digits without the look-alikes (0/O, 1/I): 10 of them are 50 bits, typed on a phone.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
_CODE_TYPED = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,23}")  # what a typed code may look like, dashes allowed
MAX_LINKS_LISTED = 100


def _now() -> datetime:
    return datetime.now(UTC)


def normalise(code: str) -> str | None:
    """The code as stored (upper case, no dashes), or None when it cannot be one."""
    if not _CODE_TYPED.fullmatch(code):
        return None
    plain = code.replace("-", "").upper()
    return plain if len(plain) == CODE_LENGTH else None


def code_hash(plain: str) -> str:
    """What is stored of a code: its SHA-256 (50 random bits, single use, minutes long)."""
    return hashlib.sha256(plain.encode()).hexdigest()


def create_code(session: Session, *, actor: Principal, customer_id: uuid.UUID, channel: ChannelName,
                minutes: int) -> tuple[str, ChannelLinkCode]:
    """A new link code for this customer and channel: the code (shown once) and its record."""
    plain = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    row = ChannelLinkCode(id=uuid.uuid4(), customer_id=customer_id, channel=channel, code_hash=code_hash(plain),
                          expires_at=_now() + timedelta(minutes=minutes))
    session.add(row)
    session.flush()
    record(session, actor, "channel_link.code_created", "customer", customer_id,
           channel=channel, code_id=str(row.id))
    return f"{plain[:5]}-{plain[5:]}", row


def links_of(session: Session, *, customer_id: uuid.UUID) -> list[ChannelLink]:
    """The customer's links, live and revoked, newest first."""
    return list(session.scalars(select(ChannelLink).where(ChannelLink.customer_id == customer_id)
                                .order_by(ChannelLink.linked_at.desc(), ChannelLink.id).limit(MAX_LINKS_LISTED)))


def revoke_from_app(session: Session, *, actor: Principal, customer_id: uuid.UUID,
                    link_id: uuid.UUID) -> ChannelLink:
    """Unlink one of the customer's own links (already revoked: unchanged); 404 for anyone else's."""
    link = session.scalar(select(ChannelLink).where(ChannelLink.id == link_id).with_for_update())
    if link is None or link.customer_id != customer_id:
        raise Problem(404, "channel_link_not_found", "No such channel link")
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = _now(), "app"
        record(session, actor, "channel_link.revoked", "channel_link", link.id,
               channel=link.channel, by="app")
    return link


def live_link(session: Session, *, channel: ChannelName, external_id: str, lock: bool = False) -> ChannelLink | None:
    """The live link of a channel identity, if any."""
    query = select(ChannelLink).where(ChannelLink.channel == channel, ChannelLink.external_id == external_id,
                                      ChannelLink.revoked_at.is_(None))
    return session.scalar(query.with_for_update() if lock else query)


def live_link_of_conversation(session: Session, *, conversation_id: uuid.UUID) -> ChannelLink | None:
    """The live link whose conversation this is (none once the customer unlinked)."""
    return session.scalar(select(ChannelLink).where(ChannelLink.conversation_id == conversation_id,
                                                    ChannelLink.revoked_at.is_(None)))


def redeem(session: Session, *, channel: ChannelName, external_id: str, address: str,
           typed_code: str) -> ChannelLink | None:
    """Link this identity with a valid unused code of this channel; None when the code is not one.

    A code is spent even when the identity was linked before: the old link is revoked (`relinked`), and the
    new one gets a conversation of its own. The caller commits.
    """
    plain = normalise(typed_code)
    if plain is None:
        return None
    now = _now()
    code = session.scalar(select(ChannelLinkCode).where(ChannelLinkCode.code_hash == code_hash(plain),
                                                        ChannelLinkCode.channel == channel).with_for_update())
    if code is None or code.used_at is not None or code.expires_at <= now:
        return None
    code.used_at = now
    previous = live_link(session, channel=channel, external_id=external_id, lock=True)
    if previous is not None:
        previous.revoked_at, previous.revoked_by = now, "relinked"
        session.flush()  # the partial unique index sees the old link revoked before the new one arrives
    # Created here, not through api/chat/service.py: the delivery seam imports this module, and the handoffs
    # that deliver through it are imported by the chat service.
    conversation = Conversation(id=uuid.uuid4(), customer_id=code.customer_id, channel=channel)
    session.add(conversation)
    session.flush()
    link = ChannelLink(id=uuid.uuid4(), customer_id=code.customer_id, channel=channel, external_id=external_id,
                       address=address, conversation_id=conversation.id, linked_at=now)
    session.add(link)
    session.flush()
    record(session, f"channel:{channel}", "channel_link.linked", "channel_link", link.id,
           channel=channel, customer_id=str(code.customer_id), code_id=str(code.id))
    return link


def revoke_from_channel(session: Session, *, channel: ChannelName, external_id: str) -> ChannelLink | None:
    """Unlink the identity that asked on the channel (`unlink`); None when it was not linked. The caller commits."""
    link = live_link(session, channel=channel, external_id=external_id, lock=True)
    if link is not None:
        link.revoked_at, link.revoked_by = _now(), "channel"
        record(session, f"channel:{channel}", "channel_link.revoked", "channel_link", link.id,
               channel=channel, by="channel")
    return link
