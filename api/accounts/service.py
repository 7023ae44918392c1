"""Which ledger accounts a customer may see: their own checking, savings and credit accounts."""

from __future__ import annotations

import uuid

import psycopg
from sqlalchemy.orm import Session

import ledger
from api.auth.models import User
from api.problems import Problem

CUSTOMER_ACCOUNT_TYPES = ("checking", "savings", "credit")


def customer_accounts(conn: psycopg.Connection, customer_id: uuid.UUID) -> list[ledger.Account]:
    return [a for a in ledger.accounts_for_owner(conn, str(customer_id)) if a.kind in CUSTOMER_ACCOUNT_TYPES]


def owned_account(conn: psycopg.Connection, customer_id: uuid.UUID, account_id: uuid.UUID,
                  prefetched: dict[uuid.UUID, ledger.Account] | None = None) -> ledger.Account:
    account = prefetched.get(account_id) if prefetched is not None else ledger.get_account(conn, account_id)
    if account is None or account.owner_id != str(customer_id) or account.kind not in CUSTOMER_ACCOUNT_TYPES:
        raise Problem(404, "account_not_found", "No such account")  # another's account looks like none
    return account


def timezone_of(session: Session, customer_id: uuid.UUID) -> str:
    user = session.get(User, customer_id)
    assert user is not None, "a customer token names an existing user"
    return user.timezone
