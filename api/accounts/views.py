"""/v1/accounts: the customer's own accounts with balances from the ledger."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

import ledger
from api.db_conn import driver_connection
from api.deps import CustomerIdDep, SessionDep
from api.money import to_decimal_string

router = APIRouter(prefix="/v1", tags=["accounts"])

CUSTOMER_ACCOUNT_TYPES = ("checking", "savings", "credit")


class AccountOut(BaseModel):
    id: uuid.UUID
    name: str
    type: str
    currency: str
    status: str
    balance: str
    available: str


def account_out(account: ledger.Account) -> AccountOut:
    return AccountOut(id=account.id, name=account.name, type=account.kind, currency=account.currency,
                      status=account.status, balance=to_decimal_string(account.balance, account.currency),
                      available=to_decimal_string(account.available, account.currency))


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(customer_id: CustomerIdDep, session: SessionDep) -> list[AccountOut]:
    accounts = ledger.accounts_for_owner(driver_connection(session), str(customer_id))
    return [account_out(a) for a in accounts if a.kind in CUSTOMER_ACCOUNT_TYPES]
