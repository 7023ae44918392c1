"""Transfer requests: direction from the sentence's structure, one draft per conversation, a yes bound to
the summary as stated, "no" never picking anything, and bounded work on any input."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.understanding.transfer_request import (
    TransferDraft,
    Turn,
    account_roles,
    apply_turn,
    is_affirmative_text,
    is_negative_text,
    looks_like_transfer,
)

ACCOUNTS = [{"id": "chk", "type": "checking", "name": "Everyday checking", "currency": "EUR"},
            {"id": "sav", "type": "savings", "name": "Rainy-day savings", "currency": "EUR"}]
PAYEES = [{"id": "p-mary", "name": "Mary Martin"}, {"id": "p-land", "name": "Greenfield Lettings"}]
FROM_CHECKING = ("account:sav", "chk")
FROM_SAVINGS = ("account:chk", "sav")


def roles(text: str) -> list[tuple[str, str | None]]:
    return [(m.account_id, m.role) for m in account_roles(text, ACCOUNTS)]


def start(text: str, intent: str = "transfer_money") -> TransferDraft:
    return apply_turn(TransferDraft(), Turn(text, intent, {}, None), ACCOUNTS, PAYEES)


def reply(draft: TransferDraft, text: str, intent: str = "inform", asking: str = "transfer_confirmation",
          confidence: float = 0.99) -> TransferDraft:
    return apply_turn(draft, Turn(text, intent, {}, asking, confidence), ACCOUNTS, PAYEES)


def stated(draft: TransferDraft) -> TransferDraft:
    """The draft after the bot said its summary back."""
    return TransferDraft(**{**draft.__dict__, "stated": draft.summary_key()})


@pytest.mark.parametrize(("text", "expected"), [
    ("please move 15 from my current account over to savings", FROM_CHECKING),
    ("put 15 into savings from checking", FROM_CHECKING),
    ("out of my everyday account and into the rainy day pot, 15", FROM_CHECKING),
    ("top up the savings account with 15 from my main account", FROM_CHECKING),
    ("15 euro checking to savings", FROM_CHECKING),
    ("withdraw 15 from savings into checking", FROM_SAVINGS),
    ("take €15 off my savings and add it to my everyday account", FROM_SAVINGS),
    ("into checking from the rainy-day pot please, 15", FROM_SAVINGS),
    ("15 savings -> checking", FROM_SAVINGS),
    ("shift fifteen out of my savngs into my chequing", FROM_SAVINGS),
    ("move 15 to my checking", FROM_SAVINGS),  # the one other account is the only source there is
])
def test_direction_comes_from_the_sentence_not_the_word_order(text: str, expected: tuple[str, str]) -> None:
    draft = start(text)
    assert (draft.recipient, draft.source) == expected, draft
    assert draft.amount == "15 EUR"


def test_account_words_that_are_something_else_name_no_account() -> None:
    assert roles("what currency is my current balance in") == []
    assert roles("my main problem is my debit card") == []
    assert roles("what's my credit score") == []


def test_a_missing_detail_is_never_guessed() -> None:
    assert start("take 20 out of savings").recipient is None  # to checking or to a payee: ask
    assert start("send 20").recipient is None and start("send 20").source is None
    assert start("move money to savings").amount is None
    draft = start("pay Mary Martin 20")
    assert draft.recipient == "payee:p-mary" and draft.source is None


def test_contradictory_directions_are_asked_not_resolved() -> None:
    draft = start("put 20 into checking and send it to savings")  # two destinations as read
    assert draft.recipient is None and draft.source is None and draft.amount == "20 EUR"
    draft = start("from savings, 20, from checking")  # two sources
    assert draft.recipient is None and draft.source is None


def test_no_or_an_unrelated_answer_never_picks_an_account() -> None:
    draft = start("send 20 to Mary Martin")
    assert reply(draft, "no", "deny", "transfer_source_id").cancelled
    unclear = reply(draft, "pizza", "out_of_scope", "transfer_source_id")
    assert unclear.source is None and not unclear.cancelled and unclear.unclear_turns == 1
    assert reply(unclear, "blue", "out_of_scope", "transfer_source_id").cancelled  # twice unclear: dropped
    assert reply(draft, "from checking", "inform", "transfer_source_id").source == "chk"


def test_yes_confirms_only_the_summary_as_stated() -> None:
    draft = start("move 40 from checking to savings")
    assert not reply(draft, "yes", "affirm").confirmed  # nothing said back yet
    said = stated(draft)
    assert reply(said, "yes", "affirm").confirmed
    assert reply(said, "ok go ahead", "nlu_fallback", confidence=0.3).confirmed  # plain words, whatever the NLU
    assert not reply(said, "hmm ok leave it then", "affirm").confirmed
    assert reply(said, "hmm ok leave it then", "affirm").cancelled
    assert not reply(said, "yes", "affirm", confidence=0.99).cancelled
    assert not reply(said, "ok but later", "affirm").confirmed
    assert not reply(said, "sure", "affirm", asking="transfer_amount").confirmed


def test_corrections_at_the_summary_restate_it() -> None:
    said = stated(start("move 40 from checking to savings"))
    for text, expected in [("make it 25", ("25 EUR", "account:sav", "chk")),
                           ("no wait, 30", ("30 EUR", "account:sav", "chk")),
                           ("no, from savings", ("40 EUR", "account:chk", "sav")),
                           ("the other way round", ("40 EUR", "account:chk", "sav")),
                           ("to checking instead", ("40 EUR", "account:chk", "sav"))]:
        changed = reply(said, text, "deny" if text.startswith("no") else "inform")
        assert (changed.amount, changed.recipient, changed.source) == expected, text
        assert not changed.cancelled and not changed.confirmed
        assert changed.summary_key() != said.stated  # a new summary must be said before a yes counts


def test_make_that_changes_the_amount_to_a_decimal() -> None:
    said = stated(start("move 60 from checking to savings"))
    changed = reply(said, "make that 65.50", "nlu_fallback", confidence=0.6)
    assert changed.amount == "65.50 EUR" and changed.recipient == "account:sav" and changed.source == "chk"
    assert start("that 30 payment to savings").amount is None  # "that 30" is not an amount


def test_restating_the_summary_is_a_clear_answer_not_an_unclear_one() -> None:
    said = stated(start("transfer 30 to checking"))
    after_joke = reply(said, "tell me a joke", "out_of_scope")
    assert after_joke.unclear_turns == 1 and not after_joke.cancelled
    again = reply(after_joke, "right, move 30 from savings to checking", "transfer_money")
    assert not again.cancelled and again.unclear_turns == 0
    assert again.summary_key() == said.stated  # the same summary: a yes to it still counts
    assert reply(again, "yes", "affirm").confirmed
    assert reply(said, "no, 30 from savings to checking", "deny").cancelled  # a no still stops it


@pytest.mark.parametrize(("text", "expected"), [
    ("xfer 65 chk to sav", FROM_CHECKING),
    ("pls move 65 frm savings to checkin", FROM_SAVINGS),
    ("65 from svgs into chq", FROM_SAVINGS),
    ("dip into my savings for 65 and move it to checking", FROM_SAVINGS),  # "dip into" takes money out
])
def test_shorthand_and_misspelt_account_words(text: str, expected: tuple[str, str]) -> None:
    draft = start(text)
    assert (draft.recipient, draft.source) == expected, draft
    assert draft.amount == "65 EUR"


def test_check_in_is_no_account() -> None:
    assert roles("can I check in online for my flight") == []


def test_slang_money_is_the_customers_own_currency_and_foreign_money_is_kept() -> None:
    assert start("bung 30 quid into savings").amount == "30 EUR"
    assert start("move £30 into savings").amount == "30 GBP"  # the core refuses a currency mismatch


def test_yes_and_no_in_words() -> None:
    for text in ("yes", "yep", "yes please", "ok go ahead", "sure, send it", "Yes, send it!",
                 "ok go ahead, confirm the transfer", "yes do the transfer"):
        assert is_affirmative_text(text), text
    for text in ("thanks", "yes but not now", "maybe", "no", "ok " * 60):
        assert not is_affirmative_text(text), text
    for text in ("no", "cancel", "forget it", "hmm ok leave it then", "never mind"):
        assert is_negative_text(text), text
    assert not is_negative_text("now go ahead")


def test_a_misspelt_transfer_request_is_recognised() -> None:
    assert looks_like_transfer("transfr 70 to my savigns account from checking", ACCOUNTS)
    assert not looks_like_transfer("how much is in my savings", ACCOUNTS)
    assert looks_like_transfer("trnsfer 100 pls", ACCOUNTS)
    assert not looks_like_transfer("transfer money please", ACCOUNTS)  # no amount: left to the classifier
    assert not looks_like_transfer("what's a transformer worth, 100 euro?", ACCOUNTS)


ADVERSARIAL = [" " * 2000, "\t" * 2000, "1 " * 1000, "1," * 1000, "€1 " * 660, "savings " * 250, "from to " * 250,
               "a" * 2000, "twelve euros " * 150, "yes!" * 500, "1" + " " * 1998 + "x"]
BUDGET_SECONDS = 1.0  # a quadratic pattern takes seconds at 2,000 characters; linear work takes milliseconds


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_bounded_work_on_adversarial_messages(text: str) -> None:
    started = time.perf_counter()
    draft = start(text[:2000])
    reply(stated(draft), text[:2000])
    is_affirmative_text(text)
    assert time.perf_counter() - started < BUDGET_SECONDS


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=" \t1€,.savingschecktofrmyesno-", max_size=2000))
def test_bounded_work_on_generated_messages(text: str) -> None:
    started = time.perf_counter()
    reply(stated(start(text)), text)
    assert time.perf_counter() - started < BUDGET_SECONDS
