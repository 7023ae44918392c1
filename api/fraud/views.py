"""/v1/fraud-reports (customers) and /v1/fraud-cases (compliance)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.accounts.views import TransactionOut, transaction_out
from api.auth.security import Principal
from api.deps import CustomerIdDep, PrincipalDep, SessionDep, require_role
from api.fraud import service
from api.fraud.models import FraudCase

router = APIRouter(prefix="/v1", tags=["fraud"])

FraudKind = Literal["card_payment_not_recognised", "compromised_card", "lost_or_stolen_card",
                    "cash_withdrawal_not_recognised", "direct_debit_payment_not_recognised"]
CaseStatus = Literal["open", "investigating", "resolved", "rejected"]


class FraudReportIn(BaseModel):
    kind: FraudKind
    card_id: uuid.UUID | None = None
    transaction_id: uuid.UUID | None = None
    description: str | None = Field(default=None, max_length=1000)
    freeze_card: bool = False


class FraudCaseOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    kind: str
    card_id: uuid.UUID | None
    transaction_id: uuid.UUID | None
    status: str
    card_frozen: bool
    next_steps: str
    created_at: datetime
    updated_at: datetime


class CaseUpdateIn(BaseModel):
    status: CaseStatus
    note: str | None = Field(default=None, max_length=1000)


TransactionKind = Literal["card_payment_not_recognised", "cash_withdrawal_not_recognised",
                          "direct_debit_payment_not_recognised"]


def case_out(case: FraudCase) -> FraudCaseOut:
    return FraudCaseOut(id=case.id, customer_id=case.customer_id, kind=case.kind, card_id=case.card_id,
                        transaction_id=case.transaction_id, status=case.status, card_frozen=case.card_frozen,
                        next_steps=service.NEXT_STEPS[case.kind], created_at=case.created_at,
                        updated_at=case.updated_at)


@router.post("/fraud-reports", response_model=FraudCaseOut, status_code=201)
def report_fraud(body: FraudReportIn, principal: PrincipalDep, customer_id: CustomerIdDep,
                 session: SessionDep) -> FraudCaseOut:
    case = service.open_case(session, principal, customer_id, kind=body.kind, card_id=body.card_id,
                             transaction_id=body.transaction_id, description=body.description,
                             freeze_card=body.freeze_card)
    session.commit()
    return case_out(case)


Compliance = Annotated[Principal, Depends(require_role("compliance"))]


@router.get("/fraud-reports/candidates", response_model=list[TransactionOut])
def report_candidates(customer_id: CustomerIdDep, session: SessionDep, kind: TransactionKind,
                      limit: Annotated[int, Query(ge=1, le=service.MAX_CANDIDATES)] = 4) -> list[TransactionOut]:
    """The customer's latest payments a report of `kind` can be about (cash withdrawals, direct debits...)."""
    return [transaction_out(i) for i in service.report_candidates(session, customer_id, kind=kind, limit=limit)]


@router.get("/fraud-cases", response_model=list[FraudCaseOut])
def list_cases(_: Compliance, session: SessionDep, status: CaseStatus | None = None,
               limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50) -> list[FraudCaseOut]:
    return [case_out(c) for c in service.list_cases(session, status, limit)]


@router.patch("/fraud-cases/{case_id}", response_model=FraudCaseOut)
def update_case(case_id: uuid.UUID, body: CaseUpdateIn, principal: Compliance, session: SessionDep) -> FraudCaseOut:
    case = service.update_case(session, principal, case_id, body.status, body.note)
    session.commit()
    return case_out(case)
