"""FastAPI dependencies shared by the domain routers: settings, database session, the caller."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth.security import InvalidToken, Principal, decode_token
from api.config import Settings, get_settings
from api.db import get_session
from api.problems import Problem


async def settings_dependency() -> Settings:
    # async: FastAPI runs a plain `def` dependency in the thread pool, a hop for every request.
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dependency)]
SessionDep = Annotated[Session, Depends(get_session)]

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "unauthorized", "A bearer token is required", headers=_UNAUTHORIZED)
    return token.strip()


async def current_principal(request: Request) -> Principal:
    settings = get_settings()  # not a sub-dependency: each one costs every request a little
    token = _bearer(request)
    try:
        if settings.jwt_jwks_url:  # may fetch the key set over the network: not on the event loop
            return await run_in_threadpool(decode_token, settings, token)
        return decode_token(settings, token)  # HMAC: microseconds, no I/O
    except InvalidToken as exc:
        raise Problem(401, "invalid_token", "The bearer token is not valid", headers=_UNAUTHORIZED) from exc


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def customer_of(principal: Principal) -> uuid.UUID:
    """The customer whose data this request may read or change: the caller, or the service's customer."""
    customer_id = principal.customer_id
    if customer_id is None:
        raise Problem(403, "customer_only", "This endpoint is for customers (or the assistant acting for one)")
    return customer_id


async def current_customer_id(principal: PrincipalDep) -> uuid.UUID:
    return customer_of(principal)


CustomerIdDep = Annotated[uuid.UUID, Depends(current_customer_id)]


def require_role(*roles: str):
    async def check(principal: PrincipalDep) -> Principal:
        if not principal.roles & set(roles):
            raise Problem(403, "forbidden_role", f"Requires one of the roles: {', '.join(sorted(roles))}")
        return principal

    return check
