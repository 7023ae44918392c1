"""When a transfer arrives: the service level the assistant states in its summary, before the customer says yes.

Between accounts held here (`to_account_id`) the ledger moves the money at once. Anything else leaves by
bank transfer (SEPA): it goes out the same business day when made before the 16:00 CET cut-off (the next
business day otherwise, and on weekends), and arrives the day it goes out or the next business day; the
promise is the later day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from api.business_days import add_business_days

CUT_OFF = time(16, 0)
CUT_OFF_ZONE = ZoneInfo("Europe/Brussels")  # CET/CEST, where the SEPA day is counted
BANK_TRANSFER_BUSINESS_DAYS = 1


@dataclass(frozen=True)
class Arrival:
    how: Literal["instant", "bank_transfer"]
    arrives_by: date


def arrival_of(*, within_the_bank: bool, now: datetime) -> Arrival:
    """How the transfer travels and the latest day it arrives, for a transfer made at `now` (aware)."""
    assert now.tzinfo is not None, "an aware time: the cut-off is in CET"
    local = now.astimezone(CUT_OFF_ZONE)
    if within_the_bank:
        return Arrival("instant", local.date())
    today = local.date()
    goes_out = today if today.weekday() < 5 and local.time() < CUT_OFF else add_business_days(start=today, days=1)
    return Arrival("bank_transfer", add_business_days(start=goes_out, days=BANK_TRANSFER_BUSINESS_DAYS))
