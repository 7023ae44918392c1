"""The bank's own ledger accounts, one per role and currency, opened on first use with stable ids."""

from __future__ import annotations

import uuid

import psycopg

import ledger

NAMESPACE = uuid.UUID("6f1d2c1e-7d4b-4c55-9f55-0b8c1d8e2a10")

# role -> (name, ledger kind, may go negative). Funding and clearing are the bank's side of money
# entering or leaving: they go negative by design; settlement only ever receives.
ROLES = {
    "funding": ("Bank funding", "bank_funding", True),
    "settlement": ("Card settlement", "merchant_settlement", False),
    "clearing": ("External transfers clearing", "external_clearing", True),
}


def bank_account_id(role: str, currency: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"bank:{role}:{currency}")


def bank_account(conn: psycopg.Connection, role: str, currency: str) -> ledger.Account:
    name, kind, allow_negative = ROLES[role]
    return ledger.open_account(conn, owner_id=None, name=f"{name} {currency}", kind=kind, currency=currency,
                               allow_negative=allow_negative, account_id=bank_account_id(role, currency))
