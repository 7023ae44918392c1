"""Transfers between currencies: two balanced legs through the bank's FX accounts, in one transaction.

    from (CUR_A)  -amount_from        FX position CUR_A  +amount_from     (balanced in CUR_A)
    FX position CUR_B  -amount_to     to (CUR_B)         +amount_to       (balanced in CUR_B)

The four entries post atomically; each currency sums to zero, so the ledger never holds an unbalanced
transaction. The bank's FX accounts (one per currency, owner None, kind 'fx', allowed to go negative:
they are the bank's open position) get deterministic ids and are opened on first use. The rate and both
amounts are recorded in the transaction's metadata under "fx".
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import psycopg

from ledger import limits
from ledger.accounts import get_accounts, open_account
from ledger.currencies import check_currency, exponent
from ledger.errors import AccountNotFound, CurrencyMismatch, InvalidAmount, InvalidRate, SameAccount
from ledger.ids import check_id
from ledger.models import Leg, Transaction
from ledger.posting import POST_SQL, transaction_request
from ledger.validate import check_amount, check_metadata

FX_KIND = "fx"
_FX_NAMESPACE = uuid.UUID("5b1d1c1e-3f0a-4e0b-9a57-6c2f4d0b7e11")


def fx_account_id(currency: str) -> uuid.UUID:
    """The id of the bank's FX position account in `currency` (the same in every database)."""
    return uuid.uuid5(_FX_NAMESPACE, f"ledger:fx:{check_currency(currency)}")


def ensure_fx_account(conn: psycopg.Connection, currency: str) -> uuid.UUID:
    account = open_account(conn, owner_id=None, name=f"FX position {currency}", kind=FX_KIND, currency=currency,
                           allow_negative=True, account_id=fx_account_id(currency))
    return account.id


def convert(amount_from: int, currency_from: str, currency_to: str, rate: Decimal) -> int:
    """Minor units of `currency_to` for `amount_from` minor units of `currency_from` at `rate` (units of
    currency_to per unit of currency_from), rounded half-to-even to the nearest minor unit."""
    check_amount(amount_from, "amount_from")
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise InvalidRate("rate must be a positive, finite Decimal")
    if len(rate.as_tuple().digits) > limits.MAX_RATE_DIGITS:
        raise InvalidRate(f"rate has more than {limits.MAX_RATE_DIGITS} significant digits")
    shift = exponent(currency_to) - exponent(currency_from)
    try:
        exact = Decimal(amount_from) * rate * (Decimal(10) ** shift)
        amount_to = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    except InvalidOperation as exc:
        raise InvalidRate("rate out of range") from exc
    if not 1 <= amount_to <= limits.MAX_AMOUNT:
        raise InvalidAmount(f"the converted amount {amount_to} is not between 1 and {limits.MAX_AMOUNT}")
    return amount_to


def transfer_fx(
    conn: psycopg.Connection, *, transaction_id: uuid.UUID, from_account_id: uuid.UUID,
    to_account_id: uuid.UUID, amount_from: int, rate: Decimal, kind: str = "fx_transfer",
    reference: str | None = None, metadata: Mapping[str, Any] | None = None,
) -> Transaction:
    """Move `amount_from` (minor units of the from-account's currency) to an account in another currency
    at `rate`; the to-account receives `convert(...)`. Idempotent on `transaction_id`."""
    transaction_id = check_id(transaction_id, "transaction_id")
    from_id = check_id(from_account_id, "from_account_id")
    to_id = check_id(to_account_id, "to_account_id")
    if from_id == to_id:
        raise SameAccount("an FX transfer moves money between two different accounts")
    accounts = get_accounts(conn, [from_id, to_id])
    for account_id in (from_id, to_id):
        if account_id not in accounts:
            raise AccountNotFound(f"account {account_id} does not exist")
    cur_from, cur_to = accounts[from_id].currency, accounts[to_id].currency
    if cur_from == cur_to:
        raise CurrencyMismatch(f"both accounts hold {cur_from}: use post_transfer")
    amount_to = convert(amount_from, cur_from, cur_to, rate)
    fx_meta = {"rate": str(rate), "from_currency": cur_from, "to_currency": cur_to,
               "amount_from": amount_from, "amount_to": amount_to}
    meta = {**check_metadata(metadata), "fx": fx_meta}
    fx_from, fx_to = fx_account_id(cur_from), fx_account_id(cur_to)
    request = transaction_request(
        transaction_id=transaction_id, kind=kind, reference=reference, metadata=meta,
        legs=[Leg(from_id, -amount_from, cur_from), Leg(fx_from, amount_from, cur_from),
              Leg(fx_to, -amount_to, cur_to), Leg(to_id, amount_to, cur_to)])
    row = conn.execute(POST_SQL, request.params()).fetchone()
    if row is not None and row[0] == "account_not_found" and (str(fx_from) in row[1] or str(fx_to) in row[1]):
        # First FX transfer in this currency pair: open the bank's position accounts, then post.
        ensure_fx_account(conn, cur_from)
        ensure_fx_account(conn, cur_to)
        row = conn.execute(POST_SQL, request.params()).fetchone()
    return request.transaction(row)
