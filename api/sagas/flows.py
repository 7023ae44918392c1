"""The sagas: DBOS workflows. Each is deterministic given its steps' recorded results: provider calls are
steps (at least once, each with an idempotency key derived from the workflow id), postings are
transaction steps (exactly once), and waiting is DBOS.recv (durable).

Workflow ids are the idempotency keys of the sagas themselves: `transfer_out:<transfer id>` and so on, so
enqueueing one twice (the API, then the sweeper) starts it once.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS, Queue, SetWorkflowID
from dbos._error import DBOSMaxStepRetriesExceeded

from api.providers import errors as provider_errors
from api.providers import kyc_client, rails_client
from api.providers.rails import Party
from api.sagas import store
from api.sagas.engine import QUEUE
from api.sagas.waiting import final_state

# Provider steps: retried by DBOS after the adapter's own retries (api/providers/http.py) gave up, with
# waits of 1, 2, 4, ... s; a step that still fails dead-letters its saga.
STEP_RETRY = {"retries_allowed": True, "max_attempts": 6, "interval_seconds": 1.0, "backoff_rate": 2.0}
TRANSFER_FINAL = frozenset({"settled", "rejected", "returned"})


def _object(value: Any) -> dict[str, Any]:
    """A provider answer as a plain dict (checkpoints hold plain data)."""
    if isinstance(value, dict):
        return value
    raw = getattr(value, "raw", None)
    if isinstance(raw, dict):
        return raw
    return {k: getattr(value, k) for k in ("id", "status", "reason_code") if hasattr(value, k)}


# --- external transfer out ------------------------------------------------------------------------

@DBOS.step(name="rails.send_credit_transfer", **STEP_RETRY)
def send_credit_transfer(key: str, facts: dict[str, Any]) -> dict[str, Any]:
    """Pay the counterparty on the rails; a refusal at submission is an answer, not an error."""
    try:
        counterparty = facts["counterparty"]
        payment = rails_client().send_credit_transfer(
            idempotency_key=key, amount_minor=facts["amount"], currency=facts["currency"],
            creditor=Party(name=counterparty.get("name"), iban=counterparty.get("iban"),
                           account_number=counterparty.get("account_number")),
            reference=facts.get("reference"))
    except provider_errors.ProviderRejected as exc:
        return {"id": exc.object_id, "status": "rejected", "reason_code": exc.code, "error": exc.reason}
    return _object(payment)


@DBOS.step(name="rails.credit_transfer_status", **STEP_RETRY)
def credit_transfer_status(payment_id: str) -> dict[str, Any]:
    return _object(rails_client().credit_transfer(payment_id))


@DBOS.workflow(name="transfer_out")
def transfer_out(transfer_id: str) -> str:
    """hold (made by the API) -> rails -> settle (post the hold), or release it when the rails refuse."""
    saga_id = DBOS.workflow_id
    assert saga_id == f"transfer_out:{transfer_id}"
    facts = store.transfer_facts(transfer_id)
    status = store.start(saga_id, "transfer_out", customer_id=facts and facts["customer_id"],
                         subject_id=transfer_id, payload={"transfer_id": transfer_id})
    if facts is None or status in store.TERMINAL:
        return status
    try:
        payment = send_credit_transfer(saga_id, facts)
        if payment["status"] == "rejected":
            return store.fail_transfer(saga_id, transfer_id, payment.get("reason_code"),
                                       str(payment.get("error") or "refused by the rails"))
        store.step(saga_id, "sent", "done", detail={"payment_id": payment["id"]})
        final = final_state(object_id=payment["id"], terminal=TRANSFER_FINAL, poll=credit_transfer_status)
    except DBOSMaxStepRetriesExceeded as exc:
        store.dead_letter(saga_id, f"the bank rails did not answer: {str(exc)[:200]}")
        return "dead_lettered"
    if final is None:
        store.dead_letter(saga_id, "no final answer from the bank rails in time")
        return "dead_lettered"
    if final["status"] == "rejected":
        return store.fail_transfer(saga_id, transfer_id, final.get("reason_code"), "rejected by the receiving bank")
    outcome = store.settle_transfer(saga_id, transfer_id, payment["id"])
    if final["status"] == "returned":  # seen returned before settled (late or reordered events)
        with SetWorkflowID(f"transfer_return:{transfer_id}"):
            saga_queue().enqueue(transfer_return, transfer_id, final.get("reason_code"))
    return outcome


@DBOS.workflow(name="transfer_return")
def transfer_return(transfer_id: str, code: str | None) -> str:
    """A settled transfer came back (R01...): the money goes back to the customer's account."""
    saga_id = DBOS.workflow_id
    store.start(saga_id, "transfer_return", customer_id=None, subject_id=transfer_id,
                payload={"transfer_id": transfer_id, "code": code})
    for _ in range(120):  # the return can arrive before our settlement is recorded: wait for it, bounded
        outcome = store.return_transfer(saga_id, transfer_id, code)
        if outcome != "pending":
            if outcome != "returned":
                store.finish(saga_id, "completed", reason=f"nothing to return: the transfer is {outcome}")
            return outcome
        DBOS.sleep(1.0)
    store.dead_letter(saga_id, "the returned transfer was never settled here")
    return "dead_lettered"


def saga_queue() -> Queue:
    queue = DBOS.retrieve_queue(QUEUE)
    assert queue is not None, "the worker registers the saga queue at launch"
    return queue


# --- money coming in ------------------------------------------------------------------------------

@DBOS.workflow(name="incoming_credit")
def incoming_credit(payment: dict[str, Any]) -> str:
    """A credit transfer for one of our accounts; an unknown account's money is sent back."""
    saga_id = DBOS.workflow_id
    store.start(saga_id, "incoming_credit", customer_id=None, subject_id=str(payment["id"]),
                payload={"payment_id": payment["id"], "amount_minor": payment["amount_minor"],
                         "currency": payment["currency"]})
    outcome = store.credit_incoming(saga_id, payment)
    if outcome != "unknown_account":
        return outcome
    debtor = payment.get("debtor") or {}
    try:
        back = send_credit_transfer(f"{saga_id}.return", {
            "amount": int(payment["amount_minor"]), "currency": payment["currency"],
            "counterparty": {"name": debtor.get("name") or "Sender", "iban": debtor.get("iban")},
            "reference": f"Return of {payment['id']}: no such account"})
    except DBOSMaxStepRetriesExceeded:
        store.dead_letter(saga_id, "could not send back a payment for an unknown account")
        return "dead_lettered"
    store.finish(saga_id, "compensated", reason="no_such_account", result={"returned_as": back.get("id")})
    return "compensated"


# --- KYC ------------------------------------------------------------------------------------------

@DBOS.step(name="kyc.create_applicant", **STEP_RETRY)
def create_applicant(key: str, customer_id: str, full_name: str, level: str) -> dict[str, Any]:
    return _object(kyc_client().create_applicant(idempotency_key=key, external_ref=customer_id,
                                                 full_name=full_name, level=level))


@DBOS.step(name="kyc.applicant_status", **STEP_RETRY)
def applicant_status(applicant_id: str) -> dict[str, Any]:
    return _object(kyc_client().applicant(applicant_id))


@DBOS.workflow(name="kyc_check")
def kyc_check(customer_id: str, full_name: str, level: str) -> str:
    """Open an applicant at the KYC provider and apply its verdict (webhook or poll) to the customer."""
    saga_id = DBOS.workflow_id
    if store.start(saga_id, "kyc_check", customer_id=customer_id, subject_id=customer_id,
                   payload={"level": level}) in store.TERMINAL:
        return "done"
    try:
        applicant = create_applicant(saga_id, customer_id, full_name, level)
        store.step(saga_id, "applicant_created", "done", detail={"applicant_id": applicant["id"]})
        final = final_state(object_id=applicant["id"], terminal=frozenset({"verified", "rejected"}),
                            poll=applicant_status)
    except DBOSMaxStepRetriesExceeded:
        store.dead_letter(saga_id, "the KYC provider did not answer")
        return "dead_lettered"
    if final is None:
        store.dead_letter(saga_id, "no verdict from the KYC provider in time")
        return "dead_lettered"
    return store.apply_kyc(saga_id, customer_id, final["status"], str(final.get("id") or applicant["id"]))
