"""Explicit bounds of the ledger (TigerBeetle style: every input has a limit, and it is asserted).

The SQL functions get the same numbers: ledger/schema.py substitutes them into ledger/sql/*.sql, and
tests/ledger/test_schema.py checks that `ledger_limits()` in the database agrees with this module.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Final

# Amounts are integers in minor units. 10^15 minor units is 10 trillion in a 2-decimal currency: far
# above any real transfer, and small enough that 9,000 maximal postings cannot overflow a BIGINT.
MAX_AMOUNT: Final = 10**15
# Stored balances (and pending holds) stay within +/- 10^17, so `balance + amount` can never overflow
# BIGINT (9.2 * 10^18) inside the database, even for the bank's own unbounded accounts.
MAX_BALANCE: Final = 10**17

MIN_ENTRIES: Final = 2
MAX_ENTRIES: Final = 32  # legs per transaction: an FX transfer needs 4, a payroll batch should be split

MAX_METADATA_BYTES: Final = 4096  # metadata as PostgreSQL renders the jsonb (UTF-8 bytes)
MAX_KIND_LEN: Final = 64
MAX_REFERENCE_LEN: Final = 256
MAX_CATEGORY_LEN: Final = 64
MAX_MERCHANT_LEN: Final = 128
MAX_NAME_LEN: Final = 128
MAX_OWNER_ID_LEN: Final = 128

MAX_HOLD_SECONDS: Final = 90 * 24 * 3600  # a hold expires at most 90 days after it is placed
MAX_EXPIRE_BATCH: Final = 10_000  # holds expired per call of expire_holds (one database transaction)

# Back-dating is allowed (history imports), but not before this instant and never into the future.
MIN_EFFECTIVE_AT: Final = datetime(2000, 1, 1, tzinfo=timezone.utc)

# Transfers per call of ledger_transfer_batch (one database transaction, one commit).
MAX_BATCH: Final = 512

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200  # statement rows per page
MAX_QUERY_ACCOUNTS: Final = 64  # accounts in one statement or spending query
MAX_SPENDING_GROUPS: Final = 500  # groups returned by spending(); the total always covers all of them
MAX_RATE_DIGITS: Final = 18  # significant digits of an FX rate

# The constants substituted into the SQL files, by token name (__NAME__).
SQL_TOKENS: Final[dict[str, str]] = {
    "MAX_AMOUNT": str(MAX_AMOUNT),
    "MAX_BALANCE": str(MAX_BALANCE),
    "MAX_ENTRIES": str(MAX_ENTRIES),
    "MAX_METADATA_BYTES": str(MAX_METADATA_BYTES),
    "MAX_KIND_LEN": str(MAX_KIND_LEN),
    "MAX_REFERENCE_LEN": str(MAX_REFERENCE_LEN),
    "MAX_CATEGORY_LEN": str(MAX_CATEGORY_LEN),
    "MAX_MERCHANT_LEN": str(MAX_MERCHANT_LEN),
    "MAX_NAME_LEN": str(MAX_NAME_LEN),
    "MAX_OWNER_ID_LEN": str(MAX_OWNER_ID_LEN),
    "MAX_HOLD_SECONDS": str(MAX_HOLD_SECONDS),
    "MAX_EXPIRE_BATCH": str(MAX_EXPIRE_BATCH),
    "MAX_BATCH": str(MAX_BATCH),
    "MIN_EFFECTIVE_AT": MIN_EFFECTIVE_AT.isoformat(),
}

assert MAX_AMOUNT * 9000 < 2**63 - 1 - MAX_BALANCE
assert MAX_BALANCE + MAX_AMOUNT < 2**63 - 1
assert MIN_ENTRIES == 2 <= MAX_ENTRIES
assert 0 < DEFAULT_PAGE_SIZE <= MAX_PAGE_SIZE
