"""Sign-in logic: customers and staff by password, the action server by client credentials."""

from __future__ import annotations

import hmac
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.models import User
from api.auth.security import issue_token, verify_password
from api.config import Settings
from api.conversations.models import Conversation
from api.problems import Problem


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Problem(401, "invalid_credentials", "Username or password is wrong")
    return user


def user_token(settings: Settings, user: User) -> str:
    return issue_token(settings, subject=str(user.id), username=user.username, roles=list(user.roles),
                       minutes=settings.access_token_minutes)


def service_token(settings: Settings, session: Session, *, client_id: str, client_secret: str,
                  conversation_id: uuid.UUID) -> str:
    """A short-lived token for the action server that can act only for the conversation's customer."""
    ok_id = hmac.compare_digest(client_id.encode(), settings.service_client_id.encode())
    ok_secret = hmac.compare_digest(client_secret.encode(), settings.service_client_secret.encode())
    if not (ok_id and ok_secret):
        raise Problem(401, "invalid_client", "Client credentials are wrong")
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise Problem(404, "conversation_not_found", "No such conversation")
    return issue_token(settings, subject=f"service:{client_id}", username=client_id, roles=["service"],
                       minutes=settings.service_token_minutes, acting_for=conversation.customer_id,
                       conversation_id=conversation.id)
