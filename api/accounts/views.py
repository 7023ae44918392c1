"""/v1/accounts, point-in-time balances and /v1/transactions: the customer's own, from the ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

import ledger
from api.accounts.service import customer_accounts, owned_account, timezone_of
from api.db_conn import driver_connection
from api.deps import CustomerIdDep, SessionDep
from api.ledger_errors import problem_from
from api.money import to_decimal_string
from api.periods import window
from api.problems import Problem

router = APIRouter(prefix="/v1", tags=["accounts"])


class AccountOut(BaseModel):
    id: uuid.UUID
    name: str
    type: str
    currency: str
    status: str
    balance: str
    available: str


class BalanceOut(BaseModel):
    account_id: uuid.UUID
    as_of: datetime
    balance: str
    currency: str


class TransactionOut(BaseModel):
    id: uuid.UUID
    account_id: uuid.UUID
    posted_at: datetime
    amount: str
    currency: str
    merchant: str | None
    category: str | None
    description: str | None
    kind: str
    status: str


class TransactionPage(BaseModel):
    items: list[TransactionOut]
    next_cursor: str | None


def account_out(account: ledger.Account) -> AccountOut:
    return AccountOut(id=account.id, name=account.name, type=account.kind, currency=account.currency,
                      status=account.status, balance=to_decimal_string(account.balance, account.currency),
                      available=to_decimal_string(account.available, account.currency))


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(customer_id: CustomerIdDep, session: SessionDep) -> list[AccountOut]:
    return [account_out(a) for a in customer_accounts(driver_connection(session), customer_id)]


@router.get("/accounts/{account_id}/balance", response_model=BalanceOut)
def balance(account_id: uuid.UUID, customer_id: CustomerIdDep, session: SessionDep,
            as_of: datetime | None = None) -> BalanceOut:
    conn = driver_connection(session)
    account = owned_account(conn, customer_id, account_id)
    if as_of is None:
        return BalanceOut(account_id=account.id, as_of=datetime.now(UTC),
                          balance=to_decimal_string(account.balance, account.currency), currency=account.currency)
    if as_of.tzinfo is None:
        raise Problem(422, "invalid_date", "`as_of` needs a time zone offset, e.g. 2026-01-01T00:00:00Z")
    try:
        amount = ledger.balance_as_of(conn, account.id, as_of)
    except ledger.LedgerError as error:
        raise problem_from(error) from error
    return BalanceOut(account_id=account.id, as_of=as_of, balance=to_decimal_string(amount, account.currency),
                      currency=account.currency)


@router.get("/transactions", response_model=TransactionPage)
def transactions(customer_id: CustomerIdDep, session: SessionDep, account_id: uuid.UUID | None = None,
                 from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
                 to: Annotated[str | None, Query(max_length=40)] = None,
                 category: Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[a-z_]+$")] = None,
                 merchant: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50,
                 cursor: Annotated[str | None, Query(max_length=200)] = None) -> TransactionPage:
    conn = driver_connection(session)
    ids = [owned_account(conn, customer_id, account_id).id] if account_id else \
        [a.id for a in customer_accounts(conn, customer_id)]
    start, end = window(from_, to, timezone_of(session, customer_id))
    try:
        page = ledger.statement(conn, account_ids=ids, start=start, end=end, category=category, merchant=merchant,
                                limit=limit, after_cursor=cursor)
    except ledger.LedgerError as error:
        raise problem_from(error) from error
    return TransactionPage(next_cursor=page.next_cursor, items=[transaction_out(i) for i in page.items])


def transaction_out(i: ledger.StatementItem) -> TransactionOut:
    return TransactionOut(id=i.transaction_id, account_id=i.account_id, posted_at=i.effective_at,
                          amount=to_decimal_string(i.amount, i.currency), currency=i.currency, merchant=i.merchant,
                          category=i.category, description=i.description, kind=i.kind, status=i.status)
