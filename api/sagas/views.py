"""/v1/sagas (operators and compliance read every saga, its steps and its dead letters) and
/v1/kyc/applications (a customer asks for identity verification, which a saga carries out)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from api.auth.security import Principal
from api.deps import CustomerIdDep, SessionDep, require_role
from api.problems import Problem
from api.sagas import client

router = APIRouter(prefix="/v1", tags=["sagas"])
Reader = Annotated[Principal, Depends(require_role("compliance", "operator"))]
SagaStatus = Literal["running", "completed", "compensated", "failed", "dead_lettered"]
SagaKind = Literal["transfer_out", "transfer_return", "incoming_credit", "card_refund", "crypto_purchase",
                   "kyc_check"]


class SagaStepOut(BaseModel):
    seq: int
    name: str
    status: str
    at: datetime
    error: str | None
    detail: dict[str, Any]


class SagaOut(BaseModel):
    id: str
    kind: str
    customer_id: uuid.UUID | None
    subject_id: str
    status: str
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    steps: list[SagaStepOut] | None = None


SAGA_COLUMNS = "id, kind, customer_id, subject_id, status, failure_reason, created_at, updated_at"


@router.get("/sagas", response_model=list[SagaOut])
def list_sagas(_: Reader, session: SessionDep, status: SagaStatus | None = None, kind: SagaKind | None = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[dict[str, Any]]:
    """Sagas, most recently changed first (status=dead_lettered: what needs an operator)."""
    rows = session.execute(text(
        f"SELECT {SAGA_COLUMNS} FROM sagas WHERE (CAST(:status AS text) IS NULL OR status = :status) "  # noqa: S608
        "AND (CAST(:kind AS text) IS NULL OR kind = :kind) ORDER BY updated_at DESC, id LIMIT :limit"),
        {"status": status, "kind": kind, "limit": limit}).mappings().all()
    return [dict(row) for row in rows]


@router.get("/sagas/{saga_id}", response_model=SagaOut)
def get_saga(saga_id: str, _: Reader, session: SessionDep) -> dict[str, Any]:
    """One saga with its whole history."""
    if len(saga_id) > 200:
        raise Problem(404, "saga_not_found", "No such saga")
    row = session.execute(text(f"SELECT {SAGA_COLUMNS} FROM sagas WHERE id = :id"),  # noqa: S608
                          {"id": saga_id}).mappings().first()
    if row is None:
        raise Problem(404, "saga_not_found", "No such saga")
    steps = session.execute(text("SELECT seq, name, status, at, error, detail FROM saga_steps WHERE saga_id = :id "
                                 "ORDER BY seq LIMIT 500"), {"id": saga_id}).mappings().all()
    return {**row, "steps": [dict(step) for step in steps]}


class KycApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Literal["basic", "full"] = "full"


class KycApplicationOut(BaseModel):
    application_id: str
    status: str


@router.post("/kyc/applications", status_code=202, response_model=KycApplicationOut)
async def apply_for_kyc(body: KycApplicationIn, customer_id: CustomerIdDep, session: SessionDep) -> KycApplicationOut:
    """Start identity verification with the KYC provider; the verdict sets the customer's status."""
    name = session.execute(text("SELECT full_name FROM users WHERE id = :id"), {"id": customer_id}).scalar_one()
    application_id = f"kyc_check:{uuid.uuid4()}"
    await run_in_threadpool(client.enqueue, "kyc_check", application_id, str(customer_id), name, body.level)
    return KycApplicationOut(application_id=application_id, status="pending")
