"""/v1/auth and /v1/me."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import ratelimit
from api.auth import service
from api.auth.models import User
from api.auth.security import HashingBusy
from api.config import Settings
from api.deps import PrincipalDep, SessionDep, SettingsDep
from api.problems import Problem
from api.ratelimit import hit

router = APIRouter(prefix="/v1", tags=["auth"])
# Served by the internal listener only (api/internal.py): the action server's token exchange.
internal_router = APIRouter(prefix="/v1", tags=["internal"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    refresh_token: str | None = None


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=16, max_length=128)


class ServiceTokenIn(BaseModel):
    client_id: str = Field(min_length=1, max_length=128)
    client_secret: str = Field(min_length=1, max_length=256)
    grant: str = Field(min_length=16, max_length=128, description="the grant of the customer message being handled")
    conversation_id: uuid.UUID | None = Field(default=None, description="when given, must be the grant's")


class MeOut(BaseModel):
    username: str
    full_name: str
    email: str | None
    phone: str | None
    roles: list[str]
    kyc_status: str | None
    timezone: str | None


@router.post("/auth/token", response_model=TokenOut)
def login(request: Request, settings: SettingsDep, session: SessionDep,
          username: Annotated[str, Form(min_length=1, max_length=64)],
          password: Annotated[str, Form(min_length=1, max_length=256)]) -> TokenOut:
    """OAuth2 password flow: a short-lived access token and a rotating refresh token."""
    client = request.client.host if request.client else "unknown"
    user_key = username.lower()
    # Every attempt counts per user+IP. Failed attempts count per user from any IP (spraying one
    # account), per IP for any user (spraying many) and in all; those are judged before the password
    # hash, so a refused attempt costs no hash. An unknown user is counted like a known one.
    hit(settings.redis_url, settings.login_rate_limit, "login", f"{user_key}|{client}", fail_open=True)
    failures = [(settings.login_user_rate_limit, "login_user", user_key),
                (settings.login_ip_rate_limit, "login_ip", client),
                (settings.login_global_rate_limit, "login_global", "all")]
    ratelimit.check(settings.redis_url, failures, fail_open=True)
    try:
        user = service.authenticate(session, username, password)
    except HashingBusy as exc:
        raise Problem(503, "login_busy", "Too many sign-ins at this moment; try again in a second",
                      retry_after=1, headers={"Retry-After": "1"}) from exc
    except Problem as exc:
        if exc.status == 401:
            ratelimit.count(settings.redis_url, failures)
        raise
    refresh = service.issue_refresh_token(settings, session, user)
    session.commit()
    return TokenOut(access_token=service.user_token(settings, user), expires_in=settings.access_token_minutes * 60,
                    refresh_token=refresh)


@router.post("/auth/refresh", response_model=TokenOut)
def refresh(body: RefreshIn, settings: SettingsDep, session: SessionDep) -> TokenOut:
    """Trade a refresh token for a new pair (rotation; a reused token revokes its family)."""
    user, new_refresh = service.rotate_refresh_token(settings, session, body.refresh_token)
    session.commit()
    return TokenOut(access_token=service.user_token(settings, user), expires_in=settings.access_token_minutes * 60,
                    refresh_token=new_refresh)


@internal_router.post("/auth/service-token", response_model=TokenOut)
async def service_login(body: ServiceTokenIn, settings: SettingsDep, session: SessionDep) -> TokenOut:
    """The action server's credential, for the customer whose message carried the grant."""
    # Every action of a chat turn trades its grant here. The exchange blocks (Redis, the database), so it runs
    # in the thread pool, in one hop that also ends its read: as a plain `def` route FastAPI would validate the
    # answer in a second hop, and the session's rollback would take a third (api/db.py).
    return await run_in_threadpool(_service_login, body, settings, session)


def _service_login(body: ServiceTokenIn, settings: Settings, session: Session) -> TokenOut:
    try:
        token = service.service_token(settings, session, client_id=body.client_id, client_secret=body.client_secret,
                                      grant=body.grant, conversation_id=body.conversation_id)
    finally:
        session.rollback()  # only a read: end it here, and give the connection back
    return TokenOut(access_token=token, expires_in=settings.service_token_minutes * 60)


@router.get("/me", response_model=MeOut)
def me(principal: PrincipalDep, session: SessionDep) -> MeOut:
    user_id = principal.customer_id if principal.is_service else uuid.UUID(principal.subject)
    user = session.get(User, user_id) if user_id else None
    if user is None:
        raise Problem(404, "user_not_found", "No such user")
    return MeOut(username=user.username, full_name=user.full_name, email=user.email, phone=user.phone,
                 roles=list(user.roles), kyc_status=user.kyc_status, timezone=user.timezone)
