"""action_explain_decline: the real reason code of the latest decline (card payment, cash, or transfer)."""

from __future__ import annotations

import pytest

from actions.declines import ActionExplainDecline
from actions_tests.conftest import Core
from actions_tests.support import covers, day, eur, run, tracker

pytestmark = [pytest.mark.anyio, covers(ActionExplainDecline)]


async def test_the_latest_declined_card_payment_and_its_reason(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionExplainDecline(), tracker(alice, "why was my card declined?", "declined_card_payment"),
                    domain)
    latest = core.get("alice", "/v1/authorizations", status="declined", limit=1)[0]
    assert out.said[0].startswith(
        f"Your payment of {eur(latest['amount'])} at {latest['merchant']} on {day(latest['created_at'])} was "
        f"declined (reason code {latest['decline_reason']}). ")
    assert latest["advice"] and out.said[0].endswith(latest["advice"])
    assert out.said[0].count(latest["advice"]) == 1
    assert out.events == []


async def test_a_declined_cash_withdrawal_is_the_latest_cash_one(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionExplainDecline(), tracker(alice, "why couldn't I take cash out?",
                                                    "declined_cash_withdrawal"), domain)
    declines = core.get("alice", "/v1/authorizations", status="declined", limit=20)
    cash = next(d for d in declines if d["category"] == "cash")
    assert declines[0]["category"] != "cash"  # so the answer must skip the newer card decline
    assert out.said[0].startswith(f"Your withdrawal of {eur(cash['amount'])} at {cash['merchant']} on "
                                  f"{day(cash['created_at'])} was declined (reason code {cash['decline_reason']}).")


async def test_a_failed_transfer_and_why(core: Core, bob: str, domain: dict) -> None:
    out = await run(ActionExplainDecline(), tracker(bob, "why did my transfer fail?", "declined_transfer"), domain)
    failed = core.get("bob", "/v1/transfers", status="failed", limit=1)[0]
    assert failed["failure_reason"] == "beneficiary_account_closed"
    assert out.said == [f"Your transfer of {eur(failed['amount'])} to {failed['counterparty']['name']} on "
                        f"{day(failed['created_at'])} failed: the recipient's bank says that account is "
                        "closed (reason code beneficiary_account_closed). The money is back in your account."]
