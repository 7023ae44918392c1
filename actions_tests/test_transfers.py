"""transfer_form: the draft is applied message by message (validate_transfer_form), each missing detail is
asked for, the summary is said back and frozen, and action_finish_transfer sends exactly the confirmed
summary once, or nothing. Money is read back from the core's accounts."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Action

from actions.status import ActionTransferStatus
from actions.transfers import (
    ActionAskTransferAmount,
    ActionAskTransferConfirmation,
    ActionAskTransferRecipientId,
    ActionAskTransferSourceId,
    ActionFinishTransfer,
    ValidateTransferForm,
)
from actions_tests.conftest import Core
from actions_tests.support import Outcome, covers, day, eur, run, tracker, with_events

pytestmark = pytest.mark.anyio

ASK: dict[str, type[Action]] = {
    "transfer_amount": ActionAskTransferAmount, "transfer_recipient_id": ActionAskTransferRecipientId,
    "transfer_source_id": ActionAskTransferSourceId, "transfer_confirmation": ActionAskTransferConfirmation}


class TransferChat:
    """One customer's transfer form as Rasa runs it: each message through validate_transfer_form, then the
    question for the slot it requests (or, when the form is over, action_finish_transfer)."""

    def __init__(self, conversation_id: str, domain: dict[str, Any]) -> None:
        self.conversation_id, self.domain = conversation_id, domain
        self.slots: dict[str, Any] = {}
        self.last: tuple[str, str] = ("", "")

    @property
    def asking(self) -> str | None:
        return self.slots.get("requested_slot")

    def tracker(self, events: list[dict[str, Any]] | None = None, **nlu: Any) -> Any:
        text, intent = self.last
        return tracker(self.conversation_id, text, intent, slots=self.slots, active_loop="transfer_form",
                       events=events, **nlu)

    def _apply(self, out: Outcome) -> Outcome:
        self.slots = with_events(self.slots, out.events)
        return out

    async def say(self, text: str, intent: str, **nlu: Any) -> Outcome:
        self.last = (text, intent)
        return self._apply(await run(ValidateTransferForm(), self.tracker(**nlu), self.domain))

    async def ask(self) -> Outcome:
        assert self.asking in ASK, f"the form asks for nothing: {self.asking}"
        return self._apply(await run(ASK[self.asking](), self.tracker(), self.domain))

    async def finish(self) -> Outcome:
        assert self.asking is None, f"the form still asks for {self.asking}"
        return self._apply(await run(ActionFinishTransfer(), self.tracker(), self.domain))


def balances(core: Core, username: str) -> dict[str, Decimal]:
    """What the customer can spend: it counts a payee transfer's hold at once, so a saga settling an earlier
    test's payee transfer (the hold becomes a posting) leaves it unchanged, while `balance` would move."""
    return {kind: Decimal(a["available"]) for kind, a in core.accounts(username).items()}


def transfer_count(core: Core, username: str) -> int:
    return len(core.get(username, "/v1/transfers", limit=100))


@covers(ValidateTransferForm, ActionAskTransferConfirmation, ActionFinishTransfer)
async def test_a_confirmed_summary_moves_exactly_that_amount(core: Core, alice: str, domain: dict) -> None:
    accounts, before = core.accounts("alice"), balances(core, "alice")
    chat = TransferChat(alice, domain)
    draft = await chat.say("send 25 euro from checking to my savings", "transfer_money",
                           entities={"amount": "25"})
    assert draft.messages == []
    assert chat.asking == "transfer_confirmation"
    assert (chat.slots["transfer_recipient_id"], chat.slots["transfer_source_id"]) == \
        (f"account:{accounts['savings']['id']}", accounts["checking"]["id"])

    summary = await chat.ask()
    assert summary.responses == ["utter_transfer_summary"]
    assert summary.said == ["Please confirm: send €25.00 from Everyday checking to Rainy-day savings, now. "
                            "Shall I go ahead?"]
    frozen = json.loads(summary.slots["transfer_summary"])
    assert (frozen["amount"], frozen["currency"], frozen["from_account_id"], frozen["recipient"]) == \
        ("25.00", "EUR", accounts["checking"]["id"], f"account:{accounts['savings']['id']}")
    assert summary.slots["transfer_run_id"]
    assert balances(core, "alice") == before  # nothing moves before the yes

    yes = await chat.say("yes", "affirm")
    assert chat.slots["transfer_confirmation"] == "yes" and chat.asking is None
    assert yes.messages == []

    done = await chat.finish()
    assert done.said == ["Done: €25.00 sent to Rainy-day savings."]
    after = balances(core, "alice")
    assert after["checking"] == before["checking"] - Decimal("25.00")
    assert after["savings"] == before["savings"] + Decimal("25.00")
    assert all(value is None for value in done.slots.values()) and "transfer_summary" in done.slots

    latest = core.get("alice", "/v1/transfers", limit=1)[0]
    assert (latest["amount"], latest["to_account_id"], latest["status"]) == \
        ("25.00", accounts["savings"]["id"], "completed")


@covers(ValidateTransferForm, ActionFinishTransfer)
async def test_a_cancelled_draft_moves_nothing(core: Core, alice: str, domain: dict) -> None:
    before, count = balances(core, "alice"), transfer_count(core, "alice")
    chat = TransferChat(alice, domain)
    await chat.say("move 40 from savings to checking", "transfer_money", entities={"amount": "40"})
    summary = await chat.ask()
    assert summary.said[0].startswith("Please confirm: send €40.00 from Rainy-day savings to Everyday checking")

    await chat.say("no, cancel it", "deny")
    assert chat.slots["transfer_cancelled"] is True and chat.asking is None
    assert chat.slots["transfer_confirmation"] is None

    out = await chat.finish()
    assert out.said == ["OK, I've cancelled it. Nothing was sent."]
    assert balances(core, "alice") == before
    assert transfer_count(core, "alice") == count


@covers(ValidateTransferForm, ActionAskTransferConfirmation, ActionFinishTransfer)
async def test_a_change_at_the_summary_is_said_again_and_only_that_is_sent(core: Core, alice: str,
                                                                          domain: dict) -> None:
    chat = TransferChat(alice, domain)
    await chat.say("send 25 euro from checking to my savings", "transfer_money", entities={"amount": "25"})
    await chat.ask()
    await chat.say("actually make it 30", "transfer_money", entities={"amount": "30"})
    assert chat.asking == "transfer_confirmation" and chat.slots["transfer_confirmation"] is None
    stale = await chat.say("yes", "affirm")  # a yes to the €25 summary said before: it confirms nothing
    assert chat.slots["transfer_confirmation"] is None and chat.asking == "transfer_confirmation"
    assert stale.messages == [] or stale.said == ["Sorry, I didn't get that. Nothing has been sent."]

    summary = await chat.ask()
    assert summary.said[0].startswith("Please confirm: send €30.00 from Everyday checking to Rainy-day savings")
    await chat.say("yes", "affirm")
    before = balances(core, "alice")
    done = await chat.finish()
    assert done.said == ["Done: €30.00 sent to Rainy-day savings."]
    after = balances(core, "alice")
    assert (after["checking"], after["savings"]) == (before["checking"] - 30, before["savings"] + 30)


@covers(ActionFinishTransfer)
async def test_finishing_again_with_the_same_summary_moves_the_money_once(core: Core, alice: str,
                                                                         domain: dict) -> None:
    chat = TransferChat(alice, domain)
    await chat.say("transfer 12.50 from checking to savings", "transfer_money", entities={"amount": "12.50"})
    await chat.ask()
    await chat.say("yes", "affirm")
    confirmed = dict(chat.slots)
    before = balances(core, "alice")
    first = await chat.finish()
    chat.slots = confirmed  # the execution retried (e.g. the action server restarted mid-call)
    second = await chat.finish()
    assert first.said == second.said == ["Done: €12.50 sent to Rainy-day savings."]
    after = balances(core, "alice")
    assert after["checking"] == before["checking"] - Decimal("12.50")
    assert after["savings"] == before["savings"] + Decimal("12.50")


@covers(ActionFinishTransfer)
async def test_the_confirmed_summary_is_sent_not_later_slot_values(core: Core, alice: str, domain: dict) -> None:
    chat = TransferChat(alice, domain)
    await chat.say("send 7 euro from checking to savings", "transfer_money", entities={"amount": "7"})
    await chat.ask()
    await chat.say("yes", "affirm")
    chat.slots["transfer_amount"] = "900 EUR"  # a slot changed after the yes: never what was confirmed
    before = balances(core, "alice")
    out = await chat.finish()
    assert out.said == ["Done: €7.00 sent to Rainy-day savings."]
    assert balances(core, "alice")["checking"] == before["checking"] - Decimal("7.00")


@covers(ActionFinishTransfer)
async def test_without_a_confirmed_summary_nothing_is_sent(core: Core, alice: str, domain: dict) -> None:
    accounts, before, count = core.accounts("alice"), balances(core, "alice"), transfer_count(core, "alice")
    slots = {"transfer_amount": "30 EUR", "transfer_recipient_id": f"account:{accounts['savings']['id']}",
             "transfer_source_id": accounts["checking"]["id"], "transfer_confirmation": "yes"}  # no summary said
    out = await run(ActionFinishTransfer(), tracker(alice, "yes", "affirm", slots=slots), domain)
    assert out.messages == []
    assert balances(core, "alice") == before and transfer_count(core, "alice") == count
    assert all(value is None for value in out.slots.values())


@covers(ActionFinishTransfer)
async def test_bob_cannot_move_money_before_verifying_his_identity(core: Core, bob: str, domain: dict) -> None:
    before, count = balances(core, "bob"), transfer_count(core, "bob")
    chat = TransferChat(bob, domain)
    await chat.say("send 10 euro from checking to savings", "transfer_money", entities={"amount": "10"})
    await chat.ask()
    await chat.say("yes", "affirm")
    out = await chat.finish()
    assert out.responses == ["utter_transfer_refused"]
    assert out.said == ["The transfer didn't go through. You need to verify your identity before you can move "
                        "money: it takes about 2 minutes in the app under Profile > Verify identity."]
    assert balances(core, "bob") == before and transfer_count(core, "bob") == count


@covers(ValidateTransferForm, ActionAskTransferSourceId, ActionAskTransferConfirmation,
                    ActionFinishTransfer, ActionTransferStatus)
async def test_paying_a_saved_payee_is_on_its_way(core: Core, alice: str, domain: dict) -> None:
    accounts = core.accounts("alice")
    mary = next(p for p in core.get("alice", "/v1/payees") if p["name"] == "Mary Martin")
    chat = TransferChat(alice, domain)
    await chat.say("pay Mary Martin 40 euro", "transfer_money", entities={"amount": "40"})
    assert chat.slots["transfer_recipient_id"] == f"payee:{mary['id']}"
    assert chat.asking == "transfer_source_id"  # nothing is picked for a payment to someone else

    source = await chat.ask()
    assert source.said == ["Which account should it come from?"]
    assert [(b["title"], b["payload"]) for b in source.buttons] == [
        (f"{a['name']} ({eur(a['available'])} available)", f'/transfer_money{{"source_id":"{a["id"]}"}}')
        for a in (accounts["checking"], accounts["savings"])]

    await chat.say("", "transfer_money", entities={"source_id": accounts["checking"]["id"]})
    summary = await chat.ask()
    assert summary.said == ["Please confirm: send €40.00 from Everyday checking to Mary Martin, by bank transfer "
                            f"(it arrives by {day(_bank_transfer_promise().isoformat())} at the latest). "
                            "Shall I go ahead?"]
    # The yes is a later message of the customer's, with its own grant: the core pays a payee only then.
    core.message("alice", alice, "yes please")
    await chat.say("yes please", "affirm")
    out = await chat.finish()
    latest = core.get("alice", "/v1/transfers", limit=1)[0]
    assert (latest["amount"], latest["counterparty"]["name"], latest["from_account_id"]) == \
        ("40.00", "Mary Martin", accounts["checking"]["id"])
    assert out.said == [f"Your transfer of €40.00 to Mary Martin is on its way (status: {latest['status']}). "
                        "Ask \"where is my transfer?\" to follow it."]

    status = await run(ActionTransferStatus(), tracker(alice, "where is my transfer", "pending_transfer"), domain)
    assert status.said[0].startswith("Your latest transfer, €40.00 to Mary Martin on ")
    # The saga workers of this stack may pay it between the two reads: any of its true states, never a failure.
    assert any(words in status.said[0] for words in ("is on its way", "we sent it to the recipient's bank",
                                                     "arrived")), status.said


@covers(ValidateTransferForm, ActionAskTransferAmount, ActionAskTransferRecipientId)
async def test_missing_details_are_asked_for_in_order(core: Core, alice: str, domain: dict) -> None:
    accounts, payees = core.accounts("alice"), core.get("alice", "/v1/payees")
    chat = TransferChat(alice, domain)
    await chat.say("I want to send money", "transfer_money")
    assert chat.asking == "transfer_amount"
    amount = await chat.ask()
    assert amount.said == ["How much would you like to send?"] and amount.events == []

    await chat.say("50", "transfer_money", entities={"amount": "50"})
    assert chat.asking == "transfer_recipient_id"
    recipient = await chat.ask()
    assert recipient.responses == ["utter_ask_transfer_recipient_id"]
    assert [(b["title"], b["payload"]) for b in recipient.buttons] == [
        *[(a["name"], f'/transfer_money{{"recipient_id":"account:{a["id"]}"}}')
          for a in (accounts["checking"], accounts["savings"])],
        *[(p["name"], f'/transfer_money{{"recipient_id":"payee:{p["id"]}"}}') for p in payees]]

    await chat.say("", "transfer_money", entities={"recipient_id": f"account:{accounts['savings']['id']}"})
    assert chat.slots["transfer_source_id"] == accounts["checking"]["id"]  # the one other account
    assert chat.asking == "transfer_confirmation"


@covers(ValidateTransferForm)
async def test_a_word_the_form_cannot_use_is_asked_again(alice: str, domain: dict) -> None:
    chat = TransferChat(alice, domain)
    await chat.say("send 20 from checking to savings", "transfer_money", entities={"amount": "20"})
    await chat.ask()
    out = await chat.say("banana", "nlu_fallback", confidence=0.4)
    assert out.said == ["Sorry, I didn't get that. Nothing has been sent."]
    assert chat.asking == "transfer_confirmation" and not chat.slots.get("transfer_cancelled")


@covers(ValidateTransferForm, ActionAskTransferConfirmation, ActionFinishTransfer)
async def test_a_balance_question_at_the_summary_is_answered_and_the_transfer_resumes(core: Core, alice: str,
                                                                                     domain: dict) -> None:
    chat = TransferChat(alice, domain)
    await chat.say("send 5 from checking to savings", "transfer_money", entities={"amount": "5"})
    await chat.ask()
    aside = await chat.say("what's my balance?", "check_balance", confidence=0.95)
    assert aside.followup() == "action_check_balance" and aside.messages == []
    assert chat.slots["transfer_aside"] is True and chat.asking == "transfer_confirmation"

    # Back in the form after action_check_balance answered: no new message to apply, the question waits once.
    answered = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": "what's my balance?"},
                {"event": "action", "name": "action_check_balance"}]
    resumed = await run(ValidateTransferForm(), chat.tracker(events=answered), domain)
    assert resumed.slots == {"requested_slot": "transfer_confirmation"}
    quiet = await chat.ask()
    assert quiet.messages == [] and quiet.slots == {"transfer_aside": None}

    before = balances(core, "alice")
    await chat.say("yes", "affirm")
    done = await chat.finish()
    assert done.said == ["Done: €5.00 sent to Rainy-day savings."]
    assert balances(core, "alice")["savings"] == before["savings"] + Decimal("5.00")


@covers(ValidateTransferForm)
async def test_freezing_a_card_mid_transfer_stops_the_transfer(core: Core, alice: str, domain: dict) -> None:
    before = balances(core, "alice")
    chat = TransferChat(alice, domain)
    await chat.say("send 15 from checking to savings", "transfer_money", entities={"amount": "15"})
    await chat.ask()
    out = await chat.say("freeze my card", "freeze_card", confidence=0.97)
    assert out.said == ["I've stopped the transfer: nothing was sent."]
    assert out.followup() == "action_freeze_card"
    assert chat.asking is None and chat.slots["transfer_summary"] is None
    assert balances(core, "alice") == before


@covers(ActionAskTransferAmount, ActionAskTransferRecipientId, ActionAskTransferSourceId)
async def test_a_question_set_aside_is_not_asked_twice(alice: str, domain: dict) -> None:
    for action in (ActionAskTransferAmount(), ActionAskTransferRecipientId(), ActionAskTransferSourceId()):
        out = await run(action, tracker(alice, "what's my balance?", "check_balance",
                                        slots={"transfer_aside": True}, active_loop="transfer_form"), domain)
        assert out.messages == [] and out.slots == {"transfer_aside": None}, action.name()


def _bank_transfer_promise() -> date:
    """The bank's promise, worked out here on its own: out today before 16:00 CET on a weekday (else the next
    business day), arriving by the business day after it goes out."""
    def next_business_day(day_: date) -> date:
        day_ += timedelta(days=1)
        while day_.weekday() >= 5:
            day_ += timedelta(days=1)
        return day_
    local = datetime.now(ZoneInfo("Europe/Brussels"))
    goes_out = local.date() if local.weekday() < 5 and local.hour < 16 else next_business_day(local.date())
    return next_business_day(goes_out)
