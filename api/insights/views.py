"""/v1/insights/spending: what the customer spent, exact to the cent, from ledger entries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

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

router = APIRouter(prefix="/v1", tags=["insights"])


class SpendingGroupOut(BaseModel):
    key: str | None
    total: str
    count: int


class SpendingOut(BaseModel):
    total: str
    currency: str
    count: int
    groups: list[SpendingGroupOut]
    truncated: bool


@router.get("/insights/spending", response_model=SpendingOut)
def spending(customer_id: CustomerIdDep, session: SessionDep, account_id: uuid.UUID | None = None,
             from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
             to: Annotated[str | None, Query(max_length=40)] = None,
             category: Annotated[str | None, Query(min_length=1, max_length=32, pattern=r"^[a-z_]+$")] = None,
             merchant: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
             group_by: Literal["category", "merchant", "month"] | None = None) -> SpendingOut:
    conn = driver_connection(session)
    accounts = [owned_account(conn, customer_id, account_id)] if account_id else customer_accounts(conn, customer_id)
    if not accounts:
        raise Problem(404, "account_not_found", "No accounts to report on")
    currencies = {a.currency for a in accounts}
    if len(currencies) > 1:
        raise Problem(422, "mixed_currencies", "Your accounts hold several currencies; name one with account_id")
    tz = timezone_of(session, customer_id)
    start, end = window(from_, to, tz)
    try:
        totals = ledger.spending(conn, account_ids=[a.id for a in accounts],
                                 start=start or datetime(1970, 1, 1, tzinfo=UTC),
                                 end=end or datetime.now(UTC) + timedelta(days=1), category=category,
                                 merchant=merchant, group_by=group_by, tz=tz)
    except ledger.LedgerError as error:
        raise problem_from(error) from error
    currency = currencies.pop()
    return SpendingOut(total=to_decimal_string(totals.total, currency), currency=currency, count=totals.count,
                       truncated=totals.truncated,
                       groups=[SpendingGroupOut(key=g.key, total=to_decimal_string(g.total, currency), count=g.count)
                               for g in totals.groups])
