"""Live answers: where the latest transfer is, identity verification, and what is still pending."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import psycopg2  # the bot's interpreter has it (Rasa's SQL stores); the tests write saga rows as the saga would
import pytest

from actions.status import ActionKycStatus, ActionPendingPayments, ActionTransferStatus
from actions_tests.conftest import Core
from actions_tests.support import DEMO_TZ, covers, day, eur, run, tracker

pytestmark = pytest.mark.anyio

SAGA_ENDS = ("completed", "compensated", "failed", "dead_lettered")
# A step as the saga records it: name, status, seconds after the transfer was created, error.
Step = tuple[str, str, int, str | None]
USUAL_TIMING = "Transfers to other banks usually arrive the same or next business day (instant SEPA in seconds)."


def pay_greenfield(core: Core, amount: str) -> dict:
    """A pending transfer from alice's checking account to her payee Greenfield Lettings (not ending in .13,
    .66 or .67, which the sandbox rails reject or return), as she makes it in the app."""
    checking = core.accounts("alice")["checking"]
    payee = next(p for p in core.get("alice", "/v1/payees") if p["name"] == "Greenfield Lettings")
    response = httpx.post(f"{core.url}/v1/transfers", json={
        "from_account_id": checking["id"], "payee_id": payee["id"], "amount": amount, "currency": "EUR",
        "reference": "Rent"}, headers={**core.headers("alice"), "Idempotency-Key": str(uuid.uuid4())}, timeout=30)
    assert response.status_code == 201, response.text
    transfer = response.json()
    assert transfer["status"] == "pending"
    return transfer


def as_the_saga_left_it(core: Core, transfer: dict, *, status: str, failure_reason: str | None = None,
                        saga_status: str, steps: Sequence[Step], returned: Sequence[Step] = ()) -> dict[str, str]:
    """Put the transfer where its saga would have left it: the `sagas` and `saga_steps` rows (payment saga
    transfer_out:<id>, and transfer_return:<id> when it came back) and the transfer's status. A saga worker
    of this stack may be running the real saga: it is let finish first, then its rows are replaced.
    Answers each step's time by name."""
    out, back = f"transfer_out:{transfer['id']}", f"transfer_return:{transfer['id']}"
    created = datetime.fromisoformat(transfer["created_at"].replace("Z", "+00:00"))
    at: dict[str, str] = {}
    conn = psycopg2.connect(core.database_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM saga_workers WHERE lease_until > now()")
            if cur.fetchone()[0]:
                deadline = time.monotonic() + 60
                while True:
                    cur.execute("SELECT status FROM sagas WHERE id = %s", (out,))
                    row = cur.fetchone()
                    if row is not None and row[0] in SAGA_ENDS:
                        break
                    assert time.monotonic() < deadline, f"the saga worker did not finish {out}: {row}"
                    time.sleep(0.2)
        conn.autocommit = False
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM saga_steps WHERE saga_id IN (%s, %s)", (out, back))
            cur.execute("DELETE FROM sagas WHERE id = %s", (back,))
            sagas = [(out, "transfer_out", saga_status, steps)] + \
                ([(back, "transfer_return", "completed", returned)] if returned else [])
            for saga_id, kind, saga_state, saga_steps in sagas:
                gave_up = next((error for name, _, _, error in saga_steps if name == "dead_lettered"), None)
                reason = gave_up or (failure_reason if kind == "transfer_return" or saga_state == "compensated"
                                     else None)
                cur.execute(
                    "INSERT INTO sagas (id, kind, customer_id, subject_id, status, failure_reason, payload) "
                    "SELECT %s, %s, customer_id, id::text, %s, %s, jsonb_build_object('transfer_id', id::text) "
                    "FROM transfers WHERE id = %s ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
                    "failure_reason = excluded.failure_reason, updated_at = now()",
                    (saga_id, kind, saga_state, reason, transfer["id"]))
                for seq, (name, step_status, seconds, error) in enumerate([("started", "done", 0, None),
                                                                          *saga_steps], start=1):
                    when = created + timedelta(seconds=seconds)
                    at[name] = when.isoformat()
                    cur.execute("INSERT INTO saga_steps (saga_id, seq, name, status, at, error) "
                                "VALUES (%s, %s, %s, %s, %s, %s)", (saga_id, seq, name, step_status, when, error))
            cur.execute("UPDATE transfers SET status = %s, failure_reason = %s, updated_at = now() WHERE id = %s",
                        (status, failure_reason, transfer["id"]))
    finally:
        conn.close()
    return at


def moment(timestamp: str) -> str:
    """A time as the assistant says it: '14:32 on 20 Nov' (customer's zone)."""
    return f"{datetime.fromisoformat(timestamp).astimezone(ZoneInfo(DEMO_TZ)):%H:%M} on {day(timestamp)}"


def latest_said(transfer: dict) -> str:
    return f"Your latest transfer, {eur(transfer['amount'])} to Greenfield Lettings on {day(transfer['created_at'])}"


async def ask(alice: str, domain: dict, asked: str, text: str = "where is my transfer?") -> list[str]:
    out = await run(ActionTransferStatus(), tracker(alice, text, asked), domain)
    assert out.events == []
    return out.said


@covers(ActionTransferStatus)
async def test_the_latest_transfer_to_someone_else_failed(core: Core, bob: str, domain: dict) -> None:
    out = await run(ActionTransferStatus(), tracker(bob, "where is my transfer?", "pending_transfer"), domain)
    latest = next(t for t in core.get("bob", "/v1/transfers", limit=5) if t["counterparty"])
    assert latest["status"] == "failed"
    assert out.said == [f"Your latest transfer, {eur(latest['amount'])} to {latest['counterparty']['name']} on "
                        f"{day(latest['created_at'])}, failed. Reason: the recipient's bank says that account is "
                        "closed. The money was not taken."]
    assert out.events == []


@covers(ActionTransferStatus)
async def test_a_transfer_not_yet_sent_can_still_be_stopped(core: Core, alice: str, domain: dict) -> None:
    transfer = pay_greenfield(core, "9.90")
    as_the_saga_left_it(core, transfer, status="pending", saga_status="running", steps=())
    assert [s["name"] for s in core.get("alice", f"/v1/transfers/{transfer['id']}")["steps"]] == ["created"]

    head = f"{latest_said(transfer)}, is on its way: we're sending it to the recipient's bank."
    assert await ask(alice, domain, "pending_transfer") == [head, USUAL_TIMING]
    assert await ask(alice, domain, "cancel_transfer", "cancel my transfer") == [
        head, "It hasn't been sent to the recipient's bank yet, so support can still stop it: ask me to connect "
              "you to a person."]


@covers(ActionTransferStatus)
async def test_a_sent_transfer_waits_for_the_receiving_bank(core: Core, alice: str, domain: dict) -> None:
    transfer = pay_greenfield(core, "12.34")
    at = as_the_saga_left_it(core, transfer, status="pending", saga_status="running",
                             steps=[("sent", "done", 65, None)])
    assert [s["name"] for s in core.get("alice", f"/v1/transfers/{transfer['id']}")["steps"]] == ["created", "sent"]

    head = (f"{latest_said(transfer)}, is on its way: we sent it to the recipient's bank at {moment(at['sent'])} "
            "and are waiting for that bank to accept it.")
    assert await ask(alice, domain, "transfer_timing", "how long does a transfer take?") == [head, USUAL_TIMING]
    assert await ask(alice, domain, "cancel_transfer", "cancel my transfer") == [
        head, "It has already been sent to the recipient's bank, so it can't be stopped any more. If that bank "
              "refuses it, the money comes back to your account."]


@covers(ActionTransferStatus)
async def test_a_settled_transfer_arrived_at_its_time(core: Core, alice: str, domain: dict) -> None:
    transfer = pay_greenfield(core, "21.50")
    at = as_the_saga_left_it(core, transfer, status="completed", saga_status="completed",
                             steps=[("sent", "done", 5, None), ("settled", "done", 125, None)])
    assert core.get("alice", f"/v1/transfers/{transfer['id']}")["status"] == "completed"

    head = f"{latest_said(transfer)}, arrived at {moment(at['settled'])}."
    assert await ask(alice, domain, "pending_transfer") == [head]
    assert await ask(alice, domain, "transfer_not_received_by_recipient", "they didn't get my money") == [
        head, "On our side it's complete. Ask the recipient to check with their bank, quoting the reference; if "
              "it's still missing after 2 business days, we can trace it."]
    assert await ask(alice, domain, "cancel_transfer", "cancel my transfer") == [
        head, "It has already arrived, so it can't be cancelled; you could ask the recipient to send it back."]


@covers(ActionTransferStatus)
async def test_a_transfer_refused_by_the_receiving_bank(core: Core, alice: str, domain: dict) -> None:
    transfer = pay_greenfield(core, "30.20")
    as_the_saga_left_it(core, transfer, status="failed", failure_reason="account_details_wrong",
                        saga_status="compensated",
                        steps=[("sent", "done", 5, None), ("rejected", "failed", 65, "rejected by the receiving bank")])
    detail = core.get("alice", f"/v1/transfers/{transfer['id']}")
    assert [s["name"] for s in detail["steps"]] == ["created", "sent", "rejected"]
    assert (detail["status"], detail["failure_reason"]) == ("failed", "account_details_wrong")

    assert await ask(alice, domain, "failed_transfer", "why did my transfer fail?") == [
        f"{latest_said(transfer)}, failed: the recipient's bank refused it. Reason: the account details were "
        "wrong. The money is back in your account."]


@covers(ActionTransferStatus)
async def test_a_transfer_returned_after_it_settled(core: Core, alice: str, domain: dict) -> None:
    transfer = pay_greenfield(core, "45.10")
    at = as_the_saga_left_it(core, transfer, status="failed", failure_reason="returned_insufficient_funds",
                             saga_status="completed",
                             steps=[("sent", "done", 5, None), ("settled", "done", 65, None)],
                             returned=[("returned", "done", 185, None)])
    detail = core.get("alice", f"/v1/transfers/{transfer['id']}")
    assert [s["name"] for s in detail["steps"]] == ["created", "sent", "settled", "returned"]

    said = await ask(alice, domain, "transfer_not_received_by_recipient", "they didn't get my money")
    assert said == [f"{latest_said(transfer)}, failed: the recipient's bank sent it back on {day(at['returned'])}. "
                    "Reason: insufficient funds. The money is back in your account."]


@covers(ActionTransferStatus)
async def test_a_dead_lettered_transfer_is_delayed_never_arrived(core: Core, alice: str, domain: dict) -> None:
    transfer = pay_greenfield(core, "18.80")
    as_the_saga_left_it(core, transfer, status="pending", saga_status="dead_lettered",
                        steps=[("sent", "done", 5, None),
                               ("dead_lettered", "failed", 65, "no final answer from the bank rails in time")])
    detail = core.get("alice", f"/v1/transfers/{transfer['id']}")
    assert [s["name"] for s in detail["steps"]] == ["created", "sent", "dead_lettered"]
    assert detail["status"] == "pending"

    head = (f"{latest_said(transfer)}, is delayed: our team has been alerted and is looking into it. The money is "
            "still reserved in your account until we know more.")
    for asked in ("pending_transfer", "transfer_timing", "transfer_not_received_by_recipient"):
        said = await ask(alice, domain, asked)
        assert said == [head], asked
        assert not any(word in "\n".join(said) for word in ("arrived", "complete", "on its way")), said
    assert await ask(alice, domain, "cancel_transfer", "cancel my transfer") == [
        head, "Support can check whether it can still be stopped: ask me to connect you to a person."]


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
    assert out.responses == ["utter_pending_card_payments", "utter_incoming_transfer_timing"]
    assert out.said[-1] == ("Incoming bank transfers show up once the sender's bank releases them: SEPA "
                            "transfers within 1 business day, instant transfers in seconds.")
