"""FastAPI dependencies shared by the domain routers: settings, database session, the caller."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.auth.security import InvalidToken, Principal, decode_token
from api.config import Settings, get_settings
from api.db import get_session
from api.problems import Problem

SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]

_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "unauthorized", "A bearer token is required", headers=_UNAUTHORIZED)
    return token.strip()


def current_principal(request: Request, settings: SettingsDep) -> Principal:
    try:
        return decode_token(settings, _bearer(request))
    except InvalidToken as exc:
        raise Problem(401, "invalid_token", "The bearer token is not valid", headers=_UNAUTHORIZED) from exc


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def current_customer_id(principal: PrincipalDep) -> uuid.UUID:
    """The customer whose data this request may read or change: the caller, or the service's customer."""
    customer_id = principal.customer_id
    if customer_id is None:
        raise Problem(403, "customer_only", "This endpoint is for customers (or the assistant acting for one)")
    return customer_id


CustomerIdDep = Annotated[uuid.UUID, Depends(current_customer_id)]


def require_role(*roles: str):
    def check(principal: PrincipalDep) -> Principal:
        if not principal.roles & set(roles):
            raise Problem(403, "forbidden_role", f"Requires one of the roles: {', '.join(sorted(roles))}")
        return principal

    return check
