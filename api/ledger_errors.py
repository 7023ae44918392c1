"""How the ledger's typed rejections reach clients: one problem type per code, never a 500."""

from __future__ import annotations

import ledger
from api.problems import Problem

TITLES = {
    "insufficient_funds": "Not enough money in the account",
    "account_frozen": "The account is frozen",
    "account_closed": "The account is closed",
    "account_not_found": "No such account",
    "currency_mismatch": "The currency does not match the account",
    "invalid_amount": "The amount is not valid",
    "same_account": "The source and destination are the same account",
}


def problem_from(error: ledger.LedgerError) -> Problem:
    """Map by family (ledger/errors.py): invalid 422, not found 404, state conflicts 409, refusals 422."""
    code = error.code
    if code.startswith("exists_with_different"):
        return Problem(422, "idempotency_key_reused", "This Idempotency-Key was used for a different transfer")
    title = TITLES.get(code, error.message)
    if isinstance(error, ledger.NotFound):
        return Problem(404, code, title)
    if isinstance(error, ledger.Conflict) or code in ("account_frozen", "account_closed"):
        return Problem(409, code, title)
    return Problem(422, code, title)
