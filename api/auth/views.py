"""/v1/auth and /v1/me."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, Field

from api.auth import service
from api.auth.models import User
from api.deps import PrincipalDep, SessionDep, SettingsDep
from api.problems import Problem
from api.ratelimit import hit

router = APIRouter(prefix="/v1", tags=["auth"])


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
    conversation_id: uuid.UUID


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
    hit(settings.redis_url, settings.login_rate_limit, "login", f"{username.lower()}|{client}", fail_open=True)
    user = service.authenticate(session, username, password)
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


@router.post("/auth/service-token", response_model=TokenOut)
def service_login(body: ServiceTokenIn, settings: SettingsDep, session: SessionDep) -> TokenOut:
    """The action server's credential, scoped to one conversation's customer."""
    token = service.service_token(settings, session, client_id=body.client_id, client_secret=body.client_secret,
                                  conversation_id=body.conversation_id)
    return TokenOut(access_token=token, expires_in=settings.service_token_minutes * 60)


@router.get("/me", response_model=MeOut)
def me(principal: PrincipalDep, session: SessionDep) -> MeOut:
    user_id = principal.customer_id if principal.is_service else uuid.UUID(principal.subject)
    user = session.get(User, user_id) if user_id else None
    if user is None:
        raise Problem(404, "user_not_found", "No such user")
    return MeOut(username=user.username, full_name=user.full_name, email=user.email, phone=user.phone,
                 roles=list(user.roles), kyc_status=user.kyc_status, timezone=user.timezone)
