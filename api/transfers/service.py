"""Transfers: the rules, then one write that commits the posting, the transfer, its audit row, the
daily total and the idempotency record together.

Internal transfers (to one of the customer's own accounts) post at once. External transfers (to a
counterparty) reserve the money with a ledger hold and stay `pending` until the payment saga settles
them with the provider.

POST /v1/transfers is the hottest write, so it runs on the event loop: one read (accounts, KYC status,
payee, a finished first request with this key) for the rules here, then one call of
`transfers_record_batch()` (migrations/versions/0007_transfer_record.py), which writes everything.
Concurrent requests share both calls (api/batching.py). The idempotency contract
(api/transfers/idempotency.py) wraps both; docs/architecture.md has the whole path.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, localcontext
from typing import Any

import psycopg
import redis
import structlog
from psycopg_pool import PoolTimeout
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

import ledger
from api import ratelimit
from api.accounts.service import CUSTOMER_ACCOUNT_TYPES
from api.audit.service import actor_of
from api.auth.security import Principal
from api.bank_accounts import bank_account, bank_account_id
from api.batching import per_loop_batcher
from api.config import Settings
from api.db import get_engine
from api.db_async import REDIS_TIMEOUT_S, pg_pool
from api.ledger_errors import problem_from
from api.money import display, to_decimal_string
from api.problems import Problem
from api.transfers import admission, idempotency
from api.transfers.idempotency import StoredResponse
from api.transfers.models import Payee, Transfer
from api.transfers.writer import transfer_writer
from ledger.currencies import exponent

NAMESPACE = uuid.UUID("0b5c3f59-2f4e-4df4-9f0e-4a7b1f6a9c21")
EXTERNAL_HOLD_DAYS = 7  # a hold not settled by then expires and releases the money


@dataclass(frozen=True)
class TransferRequest:
    from_account_id: uuid.UUID
    to_account_id: uuid.UUID | None
    counterparty: dict[str, Any] | None
    payee_id: uuid.UUID | None
    amount: int
    currency: str
    reference: str | None


@dataclass(frozen=True)
class Outcome:
    response: StoredResponse
    replayed: bool


def ledger_transaction_id(customer_id: uuid.UUID, idempotency_key: str) -> uuid.UUID:
    """Deterministic per (customer, key): even past the key's expiry the ledger refuses a double posting."""
    return uuid.uuid5(NAMESPACE, f"{customer_id}:{idempotency_key}")


# The rules' inputs for many requests at once (api/batching.py), one row per request, in order. Each
# table is read by one key lookup per request: OFFSET 0 keeps every lateral subquery a parameterized
# index probe, which the planner can't turn into a join that reads a whole table or index (the pool's
# settings rule out scans: api/db_async.py).
READ_SQL = """
SELECT q.idx, u.kyc_status,
       f.owner_id, f.kind, f.currency,
       t.owner_id, t.kind, t.currency,
       p.name, p.iban, p.account_number,
       k.request_hash
FROM unnest(%s::int[], %s::uuid[], %s::uuid[], %s::uuid[], %s::uuid[], %s::text[])
     AS q(idx, customer_id, from_id, to_id, payee_id, key)
JOIN LATERAL (SELECT kyc_status FROM users WHERE id = q.customer_id OFFSET 0) u ON true
LEFT JOIN LATERAL (SELECT owner_id, kind, currency FROM ledger_accounts WHERE id = q.from_id OFFSET 0) f ON true
LEFT JOIN LATERAL (SELECT owner_id, kind, currency FROM ledger_accounts WHERE id = q.to_id OFFSET 0) t ON true
LEFT JOIN LATERAL (SELECT name, iban, account_number FROM payees
                   WHERE id = q.payee_id AND customer_id = q.customer_id OFFSET 0) p ON true
LEFT JOIN LATERAL (SELECT request_hash FROM idempotency_keys
                   WHERE customer_id = q.customer_id AND key = q.key AND expires_at > now() OFFSET 0) k ON true
ORDER BY q.idx
"""
MAX_READ_BATCH = 64
_clearing_ready: set[str] = set()


async def create(settings: Settings, principal: Principal, customer_id: uuid.UUID, request: TransferRequest,
                 key: str, digest: str) -> Outcome:
    """Run a transfer under the money rate limit and the Idempotency-Key contract (the first response,
    replayed for the same key)."""
    flight = idempotency.InFlight(customer_id, key, digest)
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            admitted = await admission.admit(settings.money_rate_limit, customer_id, flight)
    except (redis.RedisError, TimeoutError) as exc:
        ratelimit.unavailable(exc, admission.RATE_SCOPE)  # fail closed: nothing counted means no limit
    if not admitted.within_limit:
        if admitted.acquired:
            await _release(flight)
        await ratelimit.refuse(settings.money_rate_limit, admission.RATE_SCOPE, str(customer_id))
    try:
        if not admitted.acquired:
            return await _not_holding_key(flight, customer_id, key, digest)
        try:
            outcome = await _create_holding_key(settings, principal, customer_id, request, key, digest)
        except BaseException:
            await _release(flight)  # a rejection records nothing: the same key may be retried at once
            raise
        # After a success the marker is left to expire (one Redis call less): a retry with the same key
        # finds the durable record, committed before this point, and replays it.
        return outcome
    except (PoolTimeout, psycopg.OperationalError) as exc:
        structlog.get_logger(__name__).warning("transfer_database_unavailable", error=type(exc).__name__)
        raise Problem(503, "database_unavailable", "Transfers are paused for a moment; try again") from exc


async def _not_holding_key(flight: idempotency.InFlight, customer_id: uuid.UUID, key: str, digest: str) -> Outcome:
    """Another request holds this key: 422 for another body, the first response if it has finished, else 409."""
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            holder = await flight.holder_digest()
    except (redis.RedisError, TimeoutError) as exc:
        raise Problem(503, "idempotency_unavailable", "Transfers are paused for a moment; try again") from exc
    if holder not in (None, digest):
        raise Problem(422, "idempotency_key_reused", "This Idempotency-Key is in use with a different body")
    if (replay := await _stored(customer_id, key, digest)) is not None:
        return Outcome(replay, replayed=True)  # the first has finished (its marker may still be there)
    raise Problem(409, "idempotency_key_in_flight", "A request with this Idempotency-Key is still running",
                  headers={"Retry-After": "1"})


async def _release(flight: idempotency.InFlight) -> None:
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            await flight.release()
    except (redis.RedisError, TimeoutError) as exc:  # the request is decided; the marker expires on its own
        structlog.get_logger(__name__).warning("idempotency_release_failed", error=type(exc).__name__)


async def _stored(customer_id: uuid.UUID, key: str, digest: str) -> StoredResponse | None:
    async with (await pg_pool.get()).connection() as conn:
        row = await (await conn.execute(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys "
            "WHERE customer_id = %s AND key = %s AND expires_at > now()", (customer_id, key))).fetchone()
    return None if row is None else idempotency.replay_of(row[0], row[1], row[2], digest)


ReadKey = tuple[uuid.UUID, TransferRequest, str]


async def _read_batch(wanted: list[ReadKey]) -> list[tuple[Any, ...]]:
    assert 1 <= len(wanted) <= MAX_READ_BATCH
    async with (await pg_pool.get()).connection() as conn:
        rows = await (await conn.execute(READ_SQL, (
            list(range(len(wanted))), [customer for customer, _, _ in wanted],
            [request.from_account_id for _, request, _ in wanted], [request.to_account_id for _, request, _ in wanted],
            [request.payee_id for _, request, _ in wanted], [key for _, _, key in wanted]))).fetchall()
    assert [row[0] for row in rows] == list(range(len(wanted))), "a customer token names an existing user"
    return [tuple(row[1:]) for row in rows]


_reader = per_loop_batcher(_read_batch, max_batch=MAX_READ_BATCH, retry_alone=True)


async def _create_holding_key(settings: Settings, principal: Principal, customer_id: uuid.UUID,
                              request: TransferRequest, key: str, digest: str) -> Outcome:
    row = await (await _reader.get()).submit((customer_id, request, key))
    (kyc_status, from_owner, from_kind, from_currency, to_owner, to_kind, to_currency,
     payee_name, payee_iban, payee_account_number, stored_hash) = row
    # Holding the key, a finished first request (it committed before releasing the key) is replayed.
    # (Its body is read only then: decoding a JSON column costs even when it is NULL.)
    if stored_hash is not None and (replay := await _stored(customer_id, key, digest)) is not None:
        return Outcome(replay, replayed=True)
    _check_owned(customer_id, from_owner, from_kind)
    if request.currency != from_currency:
        raise Problem(422, "currency_mismatch", f"The source account holds {from_currency}")
    if request.to_account_id == request.from_account_id:
        raise Problem(422, "same_account", "The source and destination are the same account")
    _check_kyc_and_amount(settings, kyc_status, request.amount, request.currency)
    daily_amount = daily_limit_amount(settings, amount=request.amount, currency=request.currency)
    counterparty = request.counterparty
    if request.payee_id is not None:
        if payee_name is None:
            raise Problem(404, "payee_not_found", "No such payee")
        counterparty = {"name": payee_name, **({"iban": payee_iban} if payee_iban else
                                               {"account_number": payee_account_number})}
    clearing_id = None
    if request.to_account_id is not None:
        _check_owned(customer_id, to_owner, to_kind)
        if to_currency != from_currency:
            raise Problem(422, "currency_mismatch", "Both accounts must hold the same currency")
    else:
        clearing_id = await _clearing_account(request.currency)
    transfer_id, created_at = uuid.uuid4(), datetime.now(UTC)
    response = StoredResponse(201, transfer_body(
        transfer_id=transfer_id, status="completed" if clearing_id is None else "pending",
        from_account_id=request.from_account_id, to_account_id=request.to_account_id, counterparty=counterparty,
        amount=request.amount, currency=request.currency, reference=request.reference, failure_reason=None,
        created_at=created_at))
    written = await (await transfer_writer.get()).submit({
        "id": str(transfer_id), "customer_id": str(customer_id), "from_account_id": str(request.from_account_id),
        "to_account_id": None if clearing_id is not None else str(request.to_account_id),
        "clearing_account_id": None if clearing_id is None else str(clearing_id), "counterparty": counterparty,
        "amount": request.amount, "currency": request.currency, "reference": request.reference,
        "ledger_transaction_id": str(ledger_transaction_id(customer_id, key)), "created_at": created_at.isoformat(),
        "hold_expires_at": (created_at + timedelta(days=EXTERNAL_HOLD_DAYS)).isoformat(),
        "daily_max": settings.transfer_daily_max_minor, "daily_currency": settings.transfer_daily_limit_currency,
        "daily_amount": daily_amount, "key": key, "request_hash": digest,
        "response": response.body,
        "key_expires_at": (created_at + timedelta(hours=settings.idempotency_ttl_hours)).isoformat(),
        "actor": actor_of(principal), "correlation_id": structlog.contextvars.get_contextvars().get("request_id")})
    if written.code == "daily_limit_exceeded":
        raise _over_daily_limit(settings, total_before=int(written.detail or 0), currency=request.currency)
    if written.code.startswith("exists_with_different") and (
            replay := await _stored(customer_id, key, digest)) is not None:
        # This key's posting exists and its record too: a write whose answer was lost (the call was
        # retried) or a duplicate that got past the marker. Either way the first response stands.
        return Outcome(replay, replayed=True)
    if written.code != "ok":
        raise problem_from(ledger.error_for(written.code, written.detail))
    return Outcome(response, replayed=False)


def _check_owned(customer_id: uuid.UUID, owner_id: str | None, kind: str | None) -> None:
    if owner_id != str(customer_id) or kind not in CUSTOMER_ACCOUNT_TYPES:
        raise Problem(404, "account_not_found", "No such account")  # another's account looks like none


def _check_kyc_and_amount(settings: Settings, kyc_status: str, amount: int, currency: str) -> None:
    if kyc_status != "verified":
        raise Problem(403, "kyc_required", "Verify your identity before moving money",
                      detail=f"Identity verification is {kyc_status.replace('_', ' ')}.", kyc_status=kyc_status)
    if amount > settings.transfer_max_minor:
        raise Problem(422, "transfer_limit_exceeded", "The amount is over the per-transfer limit",
                      limit=display(settings.transfer_max_minor, currency))


# The daily limit: one total per customer and UTC day, across currencies, in minor units of
# transfer_daily_limit_currency (migrations/versions/0010_daily_limit_one_total.py). A transfer
# counts at its value in that currency rounded up, and what is left is shown in the transfer's currency
# rounded down: the counted total is never below the real one, so no mix of currencies gets past the limit.
_EXACT = 80  # digits: a product of an amount (up to 19) and a rate (up to 18) is exact, never rounded


def _limit_rate(settings: Settings, currency: str) -> Decimal:
    rate = settings.transfer_limit_rates.get(currency)
    if rate is None or not rate.is_finite() or rate <= 0:  # no rate: nothing to count it with, so no transfer
        raise Problem(422, "currency_not_supported", f"Transfers in {currency} are not available",
                      detail="There is no exchange rate to count them against the daily limit.")
    return rate


def daily_limit_amount(settings: Settings, *, amount: int, currency: str) -> int:
    """What `amount` minor units of `currency` count against the daily limit: minor units of the limit's
    currency, rounded up."""
    limit_currency = settings.transfer_daily_limit_currency
    if currency == limit_currency:
        return amount
    rate = _limit_rate(settings, currency)
    with localcontext(Context(prec=_EXACT, rounding=ROUND_CEILING)):
        value = Decimal(amount) * rate.scaleb(exponent(limit_currency) - exponent(currency))
        return int(value.to_integral_value(rounding=ROUND_CEILING))


def in_transfer_currency(settings: Settings, *, limit_minor: int, currency: str) -> int:
    """`limit_minor` minor units of the limit's currency in minor units of `currency`, rounded down (a
    transfer of that much counts at most `limit_minor`)."""
    limit_currency = settings.transfer_daily_limit_currency
    if currency == limit_currency:
        return limit_minor
    rate = _limit_rate(settings, currency)
    with localcontext(Context(prec=_EXACT, rounding=ROUND_FLOOR)):
        value = Decimal(limit_minor) / rate.scaleb(exponent(limit_currency) - exponent(currency))
        return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _over_daily_limit(settings: Settings, *, total_before: int, currency: str) -> Problem:
    """The 422 of a transfer past the day's limit: the limit in its currency, what is left in the transfer's."""
    left = max(0, settings.transfer_daily_max_minor - total_before)
    return Problem(422, "daily_limit_exceeded", "The amount would go over your daily transfer limit",
                   limit=display(settings.transfer_daily_max_minor, settings.transfer_daily_limit_currency),
                   remaining=display(in_transfer_currency(settings, limit_minor=left, currency=currency), currency))


async def _clearing_account(currency: str) -> uuid.UUID:
    """The bank's clearing account for external transfers, opened once per process and currency."""
    if currency not in _clearing_ready:
        def open_clearing() -> None:
            with get_engine().begin() as connection:
                conn = connection.connection.driver_connection
                assert isinstance(conn, psycopg.Connection)
                bank_account(conn, "clearing", currency)

        await run_in_threadpool(open_clearing)
        _clearing_ready.add(currency)
    return bank_account_id("clearing", currency)


def transfer_body(*, transfer_id: uuid.UUID, status: str, from_account_id: uuid.UUID,
                  to_account_id: uuid.UUID | None, counterparty: dict[str, Any] | None, amount: int, currency: str,
                  reference: str | None, failure_reason: str | None, created_at: datetime) -> dict[str, Any]:
    """A transfer as the API shows it (the same shape for the first response, replays and reads)."""
    return {"id": str(transfer_id), "status": status, "from_account_id": str(from_account_id),
            "to_account_id": None if to_account_id is None else str(to_account_id), "counterparty": counterparty,
            "amount": to_decimal_string(amount, currency), "currency": currency, "reference": reference,
            "failure_reason": failure_reason, "created_at": created_at.isoformat().replace("+00:00", "Z")}


def get(session: Session, customer_id: uuid.UUID, transfer_id: uuid.UUID) -> Transfer:
    transfer = session.get(Transfer, transfer_id)
    if transfer is None or transfer.customer_id != customer_id:
        raise Problem(404, "transfer_not_found", "No such transfer")
    return transfer


def payees_of(session: Session, customer_id: uuid.UUID) -> list[Payee]:
    return list(session.scalars(select(Payee).where(Payee.customer_id == customer_id).order_by(Payee.name)))


def recent(session: Session, customer_id: uuid.UUID, status: str | None, limit: int) -> list[Transfer]:
    assert 1 <= limit <= 100
    query = select(Transfer).where(Transfer.customer_id == customer_id)
    if status is not None:
        query = query.where(Transfer.status == status)
    return list(session.scalars(query.order_by(Transfer.created_at.desc(), Transfer.id).limit(limit)))
