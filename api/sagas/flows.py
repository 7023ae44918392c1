"""The sagas: DBOS workflows. Each is deterministic given its steps' recorded results: provider calls are
steps (at least once, each with an idempotency key derived from the workflow id), postings are
transaction steps (exactly once), and waiting is DBOS.recv (durable).

Workflow ids are the idempotency keys of the sagas themselves: `transfer_out:<transfer id>` and so on, so
enqueueing one twice (the API, then the sweeper) starts it once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dbos import DBOS, Queue, SetWorkflowID
from dbos._error import DBOSException, DBOSMaxStepRetriesExceeded

from api.config import get_settings
from api.providers import card_client, crypto_client, kyc_client, rails_client
from api.providers import errors as provider_errors
from api.providers.objects import ProviderObject
from api.providers.rails import Party
from api.sagas import store
from api.sagas.engine import QUEUE
from api.sagas.waiting import final_state

# Provider steps: retried by DBOS after the adapter's own retries (api/providers/http.py) gave up, with
# waits of 1, 2, 4, ... s (settings: saga_step_attempts, saga_step_interval_seconds); a step that still
# fails dead-letters its saga.
STEP_RETRY = {"retries_allowed": True, "max_attempts": get_settings().saga_step_attempts,
              "interval_seconds": get_settings().saga_step_interval_seconds, "backoff_rate": 2.0}
TRANSFER_FINAL = frozenset({"settled", "rejected", "returned"})


def saga(name: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """A DBOS workflow whose unexpected failure dead-letters the saga (with its alert) instead of leaving
    it running forever; DBOS's own control flow (a workflow owned by another execution, a cancellation)
    passes through."""
    def wrap(fn: Callable[..., str]) -> Callable[..., str]:
        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> str:
            try:
                return fn(*args, **kwargs)
            except DBOSException:
                raise
            except Exception as exc:
                store.dead_letter(DBOS.workflow_id, f"unexpected error: {type(exc).__name__}: {str(exc)[:200]}")
                return "dead_lettered"
        return DBOS.workflow(name=name)(guarded)
    return wrap


def _object(value: ProviderObject) -> dict[str, Any]:
    """What a saga needs of a provider's answer, as plain data (checkpoints hold plain data)."""
    return {"id": value.id, "status": value.status, "reason_code": value.reason_code}


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


@saga("transfer_out")
def transfer_out(transfer_id: str) -> str:
    """hold (made by the API) -> rails -> settle (post the hold), or release it when the rails refuse."""
    saga_id = DBOS.workflow_id
    assert saga_id == f"transfer_out:{transfer_id}"
    facts = store.transfer_facts(transfer_id)
    status = store.start(saga_id, "transfer_out", customer_id=facts and facts["customer_id"],
                         subject_id=transfer_id, payload={"transfer_id": transfer_id})
    if status in store.TERMINAL:
        return status
    if facts is None:  # not an external transfer, or no longer pending: nothing to pay
        store.finish(saga_id, "failed", reason="the transfer is not a pending external transfer")
        return "failed"
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


@saga("transfer_return")
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

@DBOS.step(name="rails.incoming_payment", **STEP_RETRY)
def confirm_incoming(payment_id: str) -> dict[str, Any] | None:
    """The payment as the rails hold it, or None when they have no such payment."""
    try:
        return rails_client().incoming_payment(payment_id)
    except provider_errors.ProviderNotFound:
        return None


@saga("incoming_credit")
def incoming_credit(announced: dict[str, Any]) -> str:
    """A credit transfer for one of our accounts; an unknown account's money is sent back.

    A webhook or a statement line only announces it: what is credited is what the rails confirm."""
    saga_id = DBOS.workflow_id
    store.start(saga_id, "incoming_credit", customer_id=None, subject_id=str(announced["id"]),
                payload={"payment_id": announced["id"]})
    try:
        payment = confirm_incoming(str(announced["id"]))
    except DBOSMaxStepRetriesExceeded:
        store.dead_letter(saga_id, "the bank rails did not confirm the payment")
        return "dead_lettered"
    if payment is None:
        store.finish(saga_id, "failed", reason="the rails have no such payment: nothing credited")
        return "failed"
    outcome = store.credit_incoming(saga_id, payment)
    if outcome != "unknown_account":
        return outcome
    debtor = payment.get("debtor") or {}
    try:
        back = send_credit_transfer(f"{saga_id}.return", {
            "amount": int(payment["amount_minor"]), "currency": payment["currency"],
            "counterparty": {"name": debtor.get("name") or "Sender", "iban": debtor.get("iban")},
            "reference": f"Return of {payment['id']}: no such account"})
        final = final_state(object_id=back["id"], terminal=TRANSFER_FINAL, poll=credit_transfer_status) \
            if back["status"] != "rejected" else back
    except DBOSMaxStepRetriesExceeded:
        store.dead_letter(saga_id, "could not send back a payment for an unknown account")
        return "dead_lettered"
    if final is None or final["status"] != "settled":  # the money is ours to hold until an operator acts
        store.dead_letter(saga_id, "the payment back to the sender did not settle")
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


@saga("kyc_check")
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


# --- card refunds ---------------------------------------------------------------------------------

@DBOS.step(name="cards.refund", **STEP_RETRY)
def request_refund(key: str, transaction_id: str, amount: int, currency: str) -> dict[str, Any]:
    try:
        return _object(card_client().refund(idempotency_key=key, transaction_ref=transaction_id, amount_minor=amount,
                                            currency=currency))
    except provider_errors.ProviderRejected as exc:
        return {"id": exc.object_id, "status": "failed", "reason_code": exc.code, "error": exc.reason}


@DBOS.step(name="cards.refund_status", **STEP_RETRY)
def refund_status(refund_id: str) -> dict[str, Any]:
    return _object(card_client().refund_status(refund_id))


@saga("card_refund")
def card_refund(customer_id: str, transaction_id: str, account_id: str, amount: int, currency: str) -> str:
    """Ask the card processor to refund a card payment; credit the customer when it has."""
    saga_id = DBOS.workflow_id
    if store.start(saga_id, "card_refund", customer_id=customer_id, subject_id=transaction_id,
                   payload={"transaction_id": transaction_id, "amount": amount, "currency": currency}
                   ) in store.TERMINAL:
        return "done"
    try:
        refund = request_refund(saga_id, transaction_id, amount, currency)
        if refund["status"] != "failed":
            store.step(saga_id, "requested", "done", detail={"refund_id": refund["id"]})
            refund = final_state(object_id=refund["id"], terminal=frozenset({"succeeded", "failed"}),
                                 poll=refund_status) or {"status": "timed_out"}
    except DBOSMaxStepRetriesExceeded:
        store.dead_letter(saga_id, "the card processor did not answer")
        return "dead_lettered"
    if refund["status"] == "timed_out":
        store.dead_letter(saga_id, "no answer on the refund from the card processor in time")
        return "dead_lettered"
    if refund["status"] == "failed":
        store.finish(saga_id, "failed", reason=f"refused by the card processor ({refund.get('reason_code')})",
                     event="card_refund.failed")
        return "failed"
    return store.credit_card_refund(saga_id, transaction_id, account_id, amount, currency, str(refund["id"]))


# --- fiat-to-crypto purchases ---------------------------------------------------------------------

CRYPTO_FINAL = frozenset({"confirmed", "failed", "dropped"})


@DBOS.step(name="rails.pull_direct_debit", **STEP_RETRY)
def pull_direct_debit(key: str, amount: int, currency: str, debtor: dict[str, str], mandate_id: str) -> dict[str, Any]:
    try:
        return _object(rails_client().pull_direct_debit(
            idempotency_key=key, amount_minor=amount, currency=currency,
            debtor=Party(name=debtor.get("name"), iban=debtor.get("iban")), mandate_id=mandate_id,
            reference="Crypto purchase"))
    except provider_errors.ProviderRejected as exc:
        return {"id": exc.object_id, "status": "failed", "reason_code": exc.code, "error": exc.reason}


@DBOS.step(name="rails.direct_debit_status", **STEP_RETRY)
def direct_debit_status(debit_id: str) -> dict[str, Any]:
    return _object(rails_client().direct_debit(debit_id))


@DBOS.step(name="crypto.transfer", **STEP_RETRY)
def send_crypto(key: str, quote_id: str, address: str) -> dict[str, Any]:
    try:
        return _object(crypto_client().transfer(idempotency_key=key, quote_id=quote_id, destination_address=address))
    except provider_errors.ProviderRejected as exc:
        return {"id": exc.object_id, "status": "failed", "reason_code": exc.code, "error": exc.reason}


@DBOS.step(name="crypto.transfer_status", **STEP_RETRY)
def crypto_status(transfer_id: str) -> dict[str, Any]:
    return _object(crypto_client().transfer_status(transfer_id))


@saga("crypto_purchase")
def crypto_purchase(order: dict[str, Any]) -> str:
    """Pull the money from the customer's other bank, then buy and send the crypto; if the crypto leg fails,
    send the money back where it came from (the compensation)."""
    saga_id = DBOS.workflow_id
    if store.start(saga_id, "crypto_purchase", customer_id=order["customer_id"], subject_id=saga_id,
                   payload=order) in store.TERMINAL:
        return "done"
    total, currency, debtor = int(order["total_minor"]), order["currency"], order["pay_from"]
    try:
        pull = pull_direct_debit(f"{saga_id}.pull", total, currency, debtor, f"mandate-{order['customer_id']}")
        if pull["status"] != "failed":
            store.step(saga_id, "pull_requested", "done", detail={"pull_id": pull["id"]})
            pull = final_state(object_id=pull["id"], terminal=frozenset({"collected", "failed"}),
                               poll=direct_debit_status) or {"status": "timed_out"}
        if pull["status"] != "collected":
            if pull["status"] == "timed_out":
                store.dead_letter(saga_id, "no answer on the pull from the bank rails in time")
                return "dead_lettered"
            store.finish(saga_id, "failed", reason=f"the pull from your bank failed ({pull.get('reason_code')})",
                         event="crypto_purchase.failed")
            return "failed"
        store.crypto_funds_collected(saga_id, order["account_id"], total, currency, str(pull["id"]))
        crypto = send_crypto(f"{saga_id}.crypto", order["quote_id"], order["destination_address"])
        if crypto["status"] != "failed":
            store.step(saga_id, "crypto_sent", "done", detail={"crypto_id": crypto["id"]})
            crypto = final_state(object_id=crypto["id"], terminal=CRYPTO_FINAL, poll=crypto_status) or \
                {"status": "timed_out"}
        if crypto["status"] == "confirmed":
            return store.crypto_settled(saga_id, str(crypto["id"]))
        if crypto["status"] == "timed_out":
            store.dead_letter(saga_id, "no answer on the crypto transfer in time; the money is reserved")
            return "dead_lettered"
        reason = f"the crypto transfer failed ({crypto.get('reason_code')})"
        refund = send_credit_transfer(f"{saga_id}.refund", {
            "amount": total, "currency": currency, "counterparty": debtor, "reference": "Refund: crypto purchase"})
        if refund["status"] != "rejected":
            refund = final_state(object_id=refund["id"], terminal=TRANSFER_FINAL, poll=credit_transfer_status) or \
                {"status": "timed_out"}
    except DBOSMaxStepRetriesExceeded:
        store.dead_letter(saga_id, "a provider did not answer")
        return "dead_lettered"
    if refund["status"] == "timed_out":
        store.dead_letter(saga_id, "no answer on the refund from the bank rails in time")
        return "dead_lettered"
    return store.crypto_refunded(saga_id, str(refund["id"]) if refund["status"] == "settled" else None, reason)


@saga("crypto_dropped")
def crypto_dropped(purchase_saga_id: str, code: str | None, cause: str) -> str:
    """Money of a purchase came back to the bank after the purchase ended: the crypto transfer was dropped
    after it was confirmed, or the refund to the customer's other bank was returned. Either way the
    customer's account here is credited."""
    saga_id = DBOS.workflow_id
    assert cause in ("dropped", "refund_returned")
    store.start(saga_id, "crypto_dropped", customer_id=None, subject_id=purchase_saga_id,
                payload={"code": code, "cause": cause})
    for _ in range(120):  # the drop can be seen before the purchase recorded its confirmation: wait, bounded
        outcome = store.crypto_dropped(saga_id, purchase_saga_id, code, cause)
        if outcome != "running":
            if outcome not in ("credited", "done"):
                store.finish(saga_id, "completed", reason=f"nothing to credit: the purchase is {outcome}")
            return outcome
        DBOS.sleep(1.0)
    store.dead_letter(saga_id, "the dropped purchase never completed here")
    return "dead_lettered"
