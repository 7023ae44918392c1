"""KYC: applicants reviewed a moment later (verified, or rejected when the name says "Reject")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from sandbox.jobs import Transition, Tx
from sandbox.providers.common import (
    Body,
    IdempotencyHeader,
    IdempotencyQuery,
    create_once,
    engine_of,
    fetch,
    fetch_by_key,
    new_object,
    require_key,
)
from sandbox.store import Obj

PROVIDER = "kyc"

router = APIRouter(prefix="/kyc/v1")


class ApplicantIn(Body):
    """POST /v1/applicants."""

    external_ref: Annotated[str, Field(min_length=1, max_length=100)]
    full_name: Annotated[str | None, Field(max_length=200)] = None
    level: Literal["basic", "full"]


@router.post("/applicants", status_code=201)
async def create_applicant(request: Request, body: ApplicantIn,
                           idempotency_key: IdempotencyHeader = None) -> JSONResponse:
    """Register an applicant for review."""
    key = require_key(idempotency_key)
    settle = engine_of(request).settings.settle_seconds
    # The name decides the outcome and is then forgotten: the answer and the webhook never carry it.
    outcome = "rejected" if body.full_name and "Reject" in body.full_name else "verified"

    def build(now: datetime) -> Obj:
        return new_object(provider=PROVIDER, collection="applicants", kind="applicant", prefix="app", key=key,
                          digest=None, now=now, status="pending", private={"outcome": outcome},
                          fields={"external_ref": body.external_ref, "level": body.level})

    return await create_once(request, key=key, body=body, build=build, jobs=(("app.review", settle),))


@router.get("/applicants/{object_id}")
async def get_applicant(request: Request, object_id: str) -> JSONResponse:
    """An applicant by id."""
    return await fetch(request, PROVIDER, "applicants", object_id)


@router.get("/applicants")
async def applicant_by_key(request: Request, idempotency_key: IdempotencyQuery = None) -> JSONResponse:
    """An applicant by idempotency key."""
    return await fetch_by_key(request, PROVIDER, "applicants", idempotency_key)


async def _review(tx: Tx, obj: Obj) -> None:
    if obj.status != "pending":
        return
    if obj.private.get("outcome") == "rejected":
        await tx.save(obj, "rejected", "DOC_UNREADABLE")
    else:
        await tx.save(obj, "verified")
    await tx.emit(obj, "applicant.reviewed")


TRANSITIONS: dict[str, Transition] = {"app.review": _review}
