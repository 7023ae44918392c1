"""Live answers: where the latest transfer is, identity verification, and what is still pending."""

from __future__ import annotations

import pytest

from actions.status import ActionKycStatus, ActionPendingPayments, ActionTransferStatus
from actions_tests.conftest import Core
from actions_tests.support import covers, day, eur, run, tracker

pytestmark = pytest.mark.anyio


@covers(ActionTransferStatus)
async def test_the_latest_transfer_to_someone_else_failed(core: Core, bob: str, domain: dict) -> None:
    out = await run(ActionTransferStatus(), tracker(bob, "where is my transfer?", "pending_transfer"), domain)
    latest = next(t for t in core.get("bob", "/v1/transfers", limit=5) if t["counterparty"])
    assert latest["status"] == "failed"
    assert out.said == [f"Your latest transfer, {eur(latest['amount'])} to {latest['counterparty']['name']} on "
                        f"{day(latest['created_at'])}, failed. Reason: beneficiary account closed. The money was "
                        "not taken."]
    assert out.events == []


@covers(ActionKycStatus)
async def test_identity_status_verified_and_pending(core: Core, alice: str, bob: str, domain: dict) -> None:
    alices = await run(ActionKycStatus(), tracker(alice, "verify my identity", "verify_my_identity"), domain)
    kyc = core.get("alice", "/v1/kyc")
    assert kyc["status"] == "verified"
    assert alices.said == [f"Your identity verification status: verified. {kyc['advice']}"]

    bobs = await run(ActionKycStatus(), tracker(bob, "why do I need to verify?", "why_verify_identity"), domain)
    kyc = core.get("bob", "/v1/kyc")
    assert kyc["status"] == "pending"
    assert bobs.said == ["We're required by law (EU anti-money-laundering rules) to confirm who our customers are "
                         f"before money can move. Your identity verification status: pending. {kyc['advice']}"]


@covers(ActionPendingPayments)
async def test_pending_card_payments_with_their_amounts(core: Core, bob: str, domain: dict) -> None:
    out = await run(ActionPendingPayments(), tracker(bob, "why is a payment pending?", "pending_card_payment"),
                    domain)
    pending = core.get("bob", "/v1/authorizations", status="pending", limit=10)
    assert {p["merchant"] for p in pending} == {"Tesco", "Uber"}
    assert core.get("bob", "/v1/transfers", status="pending", limit=5) == []
    assert out.said == ["\n".join([
        "Card payments still pending (the money is reserved, not yet taken):",
        *[f"• {p['merchant']} {eur(p['amount'])} on {day(p['created_at'])}" for p in pending],
        "Shops usually complete them within 1-3 days; if a shop cancels, the money is released."])]


@covers(ActionPendingPayments)
async def test_balance_not_updated_explains_incoming_transfers(bob: str, domain: dict) -> None:
    out = await run(ActionPendingPayments(), tracker(bob, "my balance didn't update after a transfer",
                                                     "balance_not_updated_after_bank_transfer"), domain)
    assert out.said[0].endswith("Incoming bank transfers show up once the sender's bank releases them: SEPA "
                                "transfers within 1 business day, instant transfers in seconds.")
