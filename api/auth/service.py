"""Sign-in logic: customers and staff by password, the action server by client credentials."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.audit.service import record
from api.auth.models import RefreshToken, User
from api.auth.security import issue_token, verify_password
from api.config import Settings
from api.conversations.models import Conversation
from api.grants import sealing
from api.grants import service as grants
from api.problems import Problem
from api.redis_client import redis_for


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Problem(401, "invalid_credentials", "Username or password is wrong")
    return user


def user_token(settings: Settings, user: User) -> str:
    return issue_token(settings, subject=str(user.id), username=user.username, roles=list(user.roles),
                       minutes=settings.access_token_minutes)


def service_token(settings: Settings, session: Session, *, client_id: str, client_secret: str, grant: str,
                  conversation_id: uuid.UUID | None) -> str:
    """A short-lived token for the action server, acting for the customer of the message the grant rode on."""
    ok_id = hmac.compare_digest(client_id.encode("utf-8", "surrogateescape"), settings.service_client_id.encode())
    ok_secret = hmac.compare_digest(client_secret.encode("utf-8", "surrogateescape"),
                                    settings.service_client_secret.encode())
    if not (ok_id and ok_secret):
        raise Problem(401, "invalid_client", "Client credentials are wrong")
    try:
        spent = grants.spend(client=redis_for(settings.redis_url), token=grant, conversation_id=conversation_id)
    except grants.GrantRefused as exc:
        raise Problem(401, "invalid_grant", "The grant is not valid for this conversation") from exc
    except redis.RedisError as exc:  # grants live in Redis: without it no grant can be checked, so none is honoured
        raise Problem(503, "grants_unavailable", "The assistant cannot act for customers right now; try again") from exc
    conversation = session.get(Conversation, spent.conversation_id)
    if conversation is None or conversation.customer_id != spent.customer_id:
        raise Problem(401, "invalid_grant", "The grant is not valid for this conversation")
    return mint_service_token(settings, customer_id=conversation.customer_id, conversation_id=conversation.id,
                              grant_seq=spent.seq)


def mint_service_token(settings: Settings, *, customer_id: uuid.UUID, conversation_id: uuid.UUID,
                       grant_seq: int) -> str:
    """The action server's token for one message: acts for this customer, in this conversation only."""
    client_id = settings.service_client_id
    return issue_token(settings, subject=f"service:{client_id}", username=client_id, roles=["service"],
                       minutes=settings.service_token_minutes, acting_for=customer_id,
                       conversation_id=conversation_id, grant_seq=grant_seq)


def sealed_service_token(settings: Settings, *, customer_id: uuid.UUID, conversation_id: uuid.UUID,
                         grant_seq: int) -> str:
    """That token, sealed for the action server (api/grants/sealing.py): it rides with the message to Rasa."""
    token = mint_service_token(settings, customer_id=customer_id, conversation_id=conversation_id,
                               grant_seq=grant_seq)
    return sealing.seal(client_secret=settings.service_client_secret, conversation_id=str(conversation_id),
                        token=token, expires_at=time.time() + settings.service_token_minutes * 60)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh_token(settings: Settings, session: Session, user: User, family_id: uuid.UUID | None = None) -> str:
    """An opaque refresh token; only its SHA-256 is stored. Each use rotates it within its family."""
    token = secrets.token_urlsafe(32)
    session.add(RefreshToken(id=_digest(token), user_id=user.id, family_id=family_id or uuid.uuid4(),
                             expires_at=datetime.now(UTC) + timedelta(days=settings.refresh_token_days)))
    return token


def rotate_refresh_token(settings: Settings, session: Session, token: str) -> tuple[User, str]:
    """Spend a refresh token for a new pair. Reusing a spent token revokes its whole family (theft signal)."""
    now = datetime.now(UTC)
    row = session.get(RefreshToken, _digest(token), with_for_update=True)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Problem(401, "invalid_refresh_token", "The refresh token is not valid")
    if row.used_at is not None:
        session.execute(update(RefreshToken).where(RefreshToken.family_id == row.family_id,
                                                   RefreshToken.revoked_at.is_(None)).values(revoked_at=now))
        record(session, f"user:{row.user_id}", "auth.refresh_reuse", "user", row.user_id, family=str(row.family_id))
        session.commit()
        raise Problem(401, "refresh_token_reused", "The refresh token was already used; sign in again")
    row.used_at = now
    user = session.get(User, row.user_id)
    assert user is not None
    return user, issue_refresh_token(settings, session, user, row.family_id)
