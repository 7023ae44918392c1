"""/v1/transfers: money movement with the Idempotency-Key contract of DESIGN.md."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api import telemetry
from api.auth.security import Principal
from api.config import get_settings
from api.deps import CustomerIdDep, PrincipalDep, SessionDep, customer_of
from api.money import InvalidMoney, check_currency, to_minor
from api.problems import Problem
from api.transfers import approvals, confirmations, idempotency, service
from api.transfers.arrival import arrival_of
from api.transfers.iban import valid_iban
from api.transfers.models import Transfer
from api.transfers.sagas import saga_steps, start_transfer_saga

router = APIRouter(prefix="/v1", tags=["transfers"])


class Counterparty(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=140, strict=True)
    iban: str | None = Field(default=None, min_length=15, max_length=34, strict=True)
    account_number: str | None = Field(default=None, pattern=r"^[0-9]{6,20}$", strict=True)

    @model_validator(mode="after")
    def one_destination(self) -> Counterparty:
        if (self.iban is None) == (self.account_number is None):
            raise ValueError("give exactly one of iban or account_number")
        if self.iban is not None and not valid_iban(self.iban):
            raise ValueError("iban is not valid (checksum)")
        return self


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_account_id: uuid.UUID
    to_account_id: uuid.UUID | None = None
    counterparty: Counterparty | None = None
    payee_id: uuid.UUID | None = Field(default=None, description="A saved payee instead of a counterparty")
    # Strict: a JSON number is refused, so no float ever stands for money.
    amount: str = Field(min_length=1, max_length=20, strict=True, description='Decimal string, e.g. "12.34"')
    currency: str = Field(min_length=3, max_length=3, strict=True)
    reference: str | None = Field(default=None, max_length=140, strict=True)
    confirmation_id: uuid.UUID | None = Field(default=None, description=(
        "The assistant only: the confirmation recorded when this exact transfer was stated to the customer "
        "(POST /v1/transfers/confirmations); needed for a payee or counterparty"))

    @model_validator(mode="after")
    def one_target(self) -> TransferIn:
        targets = [t for t in (self.to_account_id, self.counterparty, self.payee_id) if t is not None]
        if len(targets) != 1:
            raise ValueError("give exactly one of to_account_id, counterparty or payee_id")
        return self


class StepOut(BaseModel):
    name: str
    status: str
    at: datetime
    error: str | None = None


class TransferOut(BaseModel):
    id: uuid.UUID
    status: str
    from_account_id: uuid.UUID
    to_account_id: uuid.UUID | None
    counterparty: dict[str, Any] | None
    amount: str
    currency: str
    reference: str | None
    failure_reason: str | None
    created_at: datetime
    steps: list[StepOut] | None = Field(default=None, description="The transfer's saga, step by step (reads only)")


def transfer_out(t: Transfer) -> dict[str, Any]:
    return service.transfer_body(transfer_id=t.id, status=t.status, from_account_id=t.from_account_id,
                                 to_account_id=t.to_account_id, counterparty=t.counterparty, amount=t.amount,
                                 currency=t.currency, reference=t.reference, failure_reason=t.failure_reason,
                                 created_at=t.created_at)


@router.post("/transfers", status_code=201, response_model=TransferOut,
             responses={400: {"description": "Idempotency-Key missing"}, 409: {"description": "Same key in flight"},
                        422: {"description": "Invalid, or the key was used with another body"}})
async def create_transfer(body: TransferIn, principal: PrincipalDep,
                          idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> Any:
    # On the event loop, not the thread pool, with one dependency: see api/transfers/service.py.
    customer_id, settings = customer_of(principal), get_settings()
    key = idempotency.check_key(idempotency_key)
    try:
        currency = check_currency(body.currency)
        amount = to_minor(body.amount, currency)
    except InvalidMoney as exc:
        raise Problem(422, exc.code, str(exc)) from exc
    digest = idempotency.request_hash(body.model_dump(mode="json", exclude_none=True))
    # The assistant in a conversation on a messaging channel: every transfer needs the customer's answer to
    # its summary, and a large one also their approval in the app (api/transfers/approvals.py).
    channel = approvals.WEB
    if principal.is_service and principal.conversation_id is not None:
        channel = await approvals.channel_of(principal.conversation_id)
    if confirmations.needs_confirmation(principal, leaves_customer=body.to_account_id is None,
                                        on_channel=channel != approvals.WEB):
        await _confirmed(principal, body, key)
    if principal.is_service and approvals.needs_approval(settings, channel=channel, amount=amount, currency=currency):
        return await _await_approval(principal, body, key, channel)
    request = service.TransferRequest(
        from_account_id=body.from_account_id, to_account_id=body.to_account_id,
        counterparty=body.counterparty.model_dump(exclude_none=True) if body.counterparty else None,
        payee_id=body.payee_id, amount=amount, currency=currency, reference=body.reference)
    outcome = await service.create(settings, principal, customer_id, request, key, digest)
    if outcome.response.body.get("status") == "pending" and not outcome.replayed:
        await start_transfer_saga(outcome.response.body["id"])
    if not outcome.replayed:
        telemetry.count_transfer(outcome.response.body.get("status"))
    return JSONResponse(outcome.response.body, status_code=outcome.response.status,
                        headers={"Idempotent-Replayed": "true"} if outcome.replayed else None)


class ConfirmationOut(BaseModel):
    confirmation_id: uuid.UUID
    expires_in: int = Field(description="seconds the customer has to confirm")
    arrival: Literal["instant", "bank_transfer"] = Field(description="how the money travels once confirmed")
    arrives_by: date = Field(description="the latest day it reaches the recipient (api/transfers/arrival.py)")


def stated_digest(body: TransferIn) -> str:
    """The digest of a transfer as stated to the customer (its body without the confirmation)."""
    return idempotency.request_hash(body.model_dump(mode="json", exclude_none=True, exclude={"confirmation_id"}))


async def _confirmed(principal: Principal, body: TransferIn, key: str) -> None:
    try:
        await confirmations.check(principal=principal, confirmation_id=body.confirmation_id,
                                  digest=stated_digest(body), key=key)
    except confirmations.ConfirmationRefused as exc:
        raise Problem(403, "confirmation_required", "The customer has not confirmed this transfer in the chat",
                      str(exc)) from exc
    except confirmations.ConfirmationUnavailable as exc:
        raise Problem(503, "confirmation_unavailable", "Transfers are paused for a moment; try again") from exc


@router.post("/transfers/confirmations", status_code=201, response_model=ConfirmationOut)
async def state_transfer(body: TransferIn, principal: PrincipalDep) -> ConfirmationOut:
    """The assistant: record that this transfer was just stated to the customer, to be confirmed in a later
    message (payees and counterparties only need it). Nothing is checked or moved here."""
    if body.confirmation_id is not None:
        raise Problem(422, "validation_error", "A stated transfer has no confirmation_id yet")
    try:
        stated = await confirmations.state(principal=principal, digest=stated_digest(body),
                                           ttl_seconds=get_settings().transfer_confirmation_seconds)
    except confirmations.ConfirmationRefused as exc:
        raise Problem(403, "service_only", "Only the assistant, handling a customer's message, states transfers",
                      str(exc)) from exc
    except confirmations.ConfirmationUnavailable as exc:
        raise Problem(503, "confirmation_unavailable", "Transfers are paused for a moment; try again") from exc
    arrival = arrival_of(within_the_bank=body.to_account_id is not None, now=datetime.now(UTC))
    return ConfirmationOut(confirmation_id=stated.confirmation_id, expires_in=stated.expires_in,
                           arrival=arrival.how, arrives_by=arrival.arrives_by)


class ApprovalOut(BaseModel):
    approval_id: uuid.UUID
    status: Literal["awaiting_approval", "approved", "declined", "expired"]
    channel: str = Field(description="where the transfer was asked for")
    transfer: dict[str, Any] = Field(description="the transfer as confirmed in the chat (POST /v1/transfers body)")
    created_at: datetime
    expires_at: datetime
    transfer_id: uuid.UUID | None = Field(default=None, description="the transfer it ran, once approved")


def approval_out(approval: approvals.Approval) -> dict[str, Any]:
    status = "awaiting_approval" if approval.status == "waiting" else approval.status
    return ApprovalOut(approval_id=approval.id, status=status, channel=approval.channel, transfer=approval.body,
                       created_at=approval.created_at, expires_at=approval.expires_at,
                       transfer_id=approval.transfer_id).model_dump(mode="json")


async def _await_approval(principal: Principal, body: TransferIn, key: str, channel: str) -> JSONResponse:
    """202: the transfer waits for the customer's approval in the app (the same key finds the same one)."""
    customer_id, conversation_id = principal.customer_id, principal.conversation_id
    assert customer_id is not None and conversation_id is not None
    try:
        approval = await approvals.request(get_settings(), customer_id=customer_id, conversation_id=conversation_id,
                                           channel=channel, key=key, digest=stated_digest(body),
                                           body=body.model_dump(mode="json", exclude_none=True,
                                                                exclude={"confirmation_id"}))
    except approvals.KeyReused as exc:
        raise Problem(422, "idempotency_key_reused", "This Idempotency-Key is in use with a different body") from exc
    telemetry.count_transfer("awaiting_approval")
    return JSONResponse(approval_out(approval), status_code=202)


def _app_customer(principal: Principal) -> uuid.UUID:
    """Approvals are decided by the customer in their own session, never by the assistant."""
    if principal.is_service or "customer" not in principal.roles:
        raise Problem(403, "app_only", "Only the customer, signed in to the app, approves a transfer")
    customer_id = principal.customer_id
    assert customer_id is not None
    return customer_id


@router.get("/transfer-approvals", response_model=list[ApprovalOut])
async def list_approvals(principal: PrincipalDep) -> list[dict[str, Any]]:
    """Transfers asked for on a messaging channel that wait for the customer's approval here."""
    return [approval_out(a) for a in await approvals.waiting_for(customer_id=_app_customer(principal))]


@router.post("/transfer-approvals/{approval_id}/approve", status_code=201, response_model=TransferOut,
             responses={409: {"description": "Declined or expired"}})
async def approve(approval_id: uuid.UUID, principal: PrincipalDep) -> Any:
    """Run the transfer as it was confirmed in the chat, once (approving again answers the same transfer)."""
    customer_id, settings = _app_customer(principal), get_settings()
    approval = await _decided(customer_id, approval_id, approve=True)
    stated = TransferIn.model_validate(approval.body)
    try:
        amount = to_minor(stated.amount, check_currency(stated.currency))
    except InvalidMoney as exc:  # it passed these checks when it was asked for
        raise Problem(422, exc.code, str(exc)) from exc
    request = service.TransferRequest(
        from_account_id=stated.from_account_id, to_account_id=stated.to_account_id,
        counterparty=stated.counterparty.model_dump(exclude_none=True) if stated.counterparty else None,
        payee_id=stated.payee_id, amount=amount, currency=stated.currency, reference=stated.reference)
    outcome = await service.create(settings, principal, customer_id, request, f"approval:{approval.id}",
                                   idempotency.request_hash(approval.body))
    if outcome.response.body.get("status") == "pending" and not outcome.replayed:
        await start_transfer_saga(outcome.response.body["id"])
    if not outcome.replayed:
        telemetry.count_transfer(outcome.response.body.get("status"))
    await approvals.record_transfer(approval_id=approval.id, transfer_id=uuid.UUID(outcome.response.body["id"]))
    return JSONResponse(outcome.response.body, status_code=outcome.response.status)


@router.post("/transfer-approvals/{approval_id}/decline", response_model=ApprovalOut,
             responses={409: {"description": "Approved or expired"}})
async def decline(approval_id: uuid.UUID, principal: PrincipalDep) -> dict[str, Any]:
    """Refuse the transfer: nothing moves."""
    return approval_out(await _decided(_app_customer(principal), approval_id, approve=False))


async def _decided(customer_id: uuid.UUID, approval_id: uuid.UUID, *, approve: bool) -> approvals.Approval:
    try:
        return await approvals.decide(customer_id=customer_id, approval_id=approval_id, approve=approve)
    except approvals.ApprovalNotFound as exc:
        raise Problem(404, "approval_not_found", "No such transfer approval") from exc
    except approvals.ApprovalClosed as exc:
        raise Problem(409, f"approval_{exc.status}", f"This transfer approval is {exc.status}") from exc


@router.get("/transfers/{transfer_id}", response_model=TransferOut)
def get_transfer(transfer_id: uuid.UUID, customer_id: CustomerIdDep, session: SessionDep) -> dict[str, Any]:
    """The transfer with its saga's steps: what happened, when, and why it failed if it did."""
    transfer = service.get(session, customer_id, transfer_id)
    return {**transfer_out(transfer), "steps": saga_steps(session, transfer)}


class PayeeOut(BaseModel):
    id: uuid.UUID
    name: str
    iban_last4: str | None
    account_number_last4: str | None


@router.get("/payees", response_model=list[PayeeOut])
def list_payees(customer_id: CustomerIdDep, session: SessionDep) -> list[PayeeOut]:
    """Saved payees; destinations are shown by their last four characters only."""
    return [PayeeOut(id=p.id, name=p.name, iban_last4=p.iban[-4:] if p.iban else None,
                     account_number_last4=p.account_number[-4:] if p.account_number else None)
            for p in service.payees_of(session, customer_id)]


@router.get("/transfers", response_model=list[TransferOut])
def list_transfers(customer_id: CustomerIdDep, session: SessionDep,
                   status: Literal["completed", "pending", "failed"] | None = None,
                   limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[dict[str, Any]]:
    """The customer's recent transfers, newest first (what "where is my transfer?" reads)."""
    return [transfer_out(t) for t in service.recent(session, customer_id, status, limit)]
