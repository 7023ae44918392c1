"""action_answer_spending and action_confirm_merchant_guess: the core's exact totals, said with the filter and
period they used; a merchant that is only a guess, an unknown subject or a missing period is asked back."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from actions.spending import ActionAnswerSpending, ActionConfirmMerchantGuess
from actions_tests.conftest import Core
from actions_tests.support import covers, eur, last_month, run, total_sentence, tracker

pytestmark = pytest.mark.anyio


def biggest(groups: list[dict], rows: int = 3) -> str:
    top = sorted((g for g in groups if g["key"]), key=lambda g: -Decimal(g["total"]))[:rows]
    return "Biggest: " + ", ".join(f"{g['key']} {eur(g['total'])}" for g in top) + "."


@covers(ActionAnswerSpending)
async def test_a_category_last_month_is_the_cores_total(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionAnswerSpending(), tracker(alice, "how much did I spend on coffee last month?",
                                                    "spending_query"), domain)
    start, end, label = last_month()
    spent = core.get("alice", "/v1/insights/spending", **{"from": start, "to": end}, category="coffee",
                     group_by="merchant")
    assert spent["count"] > 1
    assert out.said == [f"You spent {eur(spent['total'])} on coffee {label} ({spent['count']} payments).\n"
                        + biggest(spent["groups"])]
    context = json.loads(out.slots["spending_context"])
    assert (context["category"], context["merchant"], context["start"], context["end"]) == \
        ("coffee", None, start, end)
    assert out.slots["spending_guess"] is None


@covers(ActionAnswerSpending)
async def test_everything_last_month_with_the_biggest_categories(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionAnswerSpending(), tracker(alice, "how much did I spend last month", "spending_query"),
                    domain)
    start, end, label = last_month()
    spent = core.get("alice", "/v1/insights/spending", **{"from": start, "to": end}, group_by="category")
    assert out.said == [f"You spent {eur(spent['total'])} in total {label} ({spent['count']} payments).\n"
                        + biggest(spent["groups"])]


@covers(ActionAnswerSpending)
async def test_a_follow_up_keeps_the_period_and_changes_the_category(core: Core, alice: str, domain: dict) -> None:
    first = await run(ActionAnswerSpending(), tracker(alice, "what did I spend on coffee last month",
                                                      "spending_query"), domain)
    follow = await run(ActionAnswerSpending(), tracker(alice, "and groceries?", "spending_query",
                                                       slots={"spending_context": first.slots["spending_context"]}),
                       domain)
    start, end, label = last_month()
    groceries = core.get("alice", "/v1/insights/spending", **{"from": start, "to": end}, category="groceries",
                         group_by="merchant")
    assert follow.said[0].startswith(
        f"You spent {eur(groceries['total'])} on groceries {label} ({groceries['count']} payments).")
    assert json.loads(follow.slots["spending_context"])["category"] == "groceries"


@covers(ActionAnswerSpending)
async def test_a_misspelt_merchant_is_asked_back_not_guessed(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionAnswerSpending(), tracker(alice, "how much did I spend at starbuks last month",
                                                    "spending_query"), domain)
    assert out.responses == ["utter_spending_which_merchant"]
    assert out.said == ["Do you mean your payments at Starbucks? I'd rather ask than give you a figure for the "
                        "wrong thing."]
    assert out.buttons[0] == {"title": "Yes, at Starbucks",
                              "payload": '/spending_query{"merchant":"Starbucks","period":"last month"}'}
    assert json.loads(out.slots["spending_guess"]) == {"merchant": "Starbucks", "period": "last month"}
    assert "spending_context" not in out.slots
    assert "€" not in out.text


@covers(ActionAnswerSpending)
async def test_an_unknown_subject_gets_categories_not_a_total(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionAnswerSpending(), tracker(alice, "how much did I spend on apples last month",
                                                    "spending_query"), domain)
    assert out.responses == ["utter_spending_unknown_subject"]
    assert out.said[0].startswith("I'm not sure what \"apples\" is among your payments")
    assert [b["title"] for b in out.buttons][:2] == ["Coffee", "Groceries"]
    assert "€" not in out.text
    kept = json.loads(out.slots["spending_context"])  # the period asked about, for the answer that follows
    start, end, label = last_month()
    assert (kept["merchant"], kept["category"], kept["start"], kept["end"]) == (None, None, start, end)

    meant = await run(ActionAnswerSpending(), tracker(alice, "I meant groceries in general", "spending_query",
                                                      slots={"spending_context": out.slots["spending_context"]}),
                      domain)
    spent = core.get("alice", "/v1/insights/spending", **{"from": start, "to": end}, category="groceries")
    assert meant.said[0].startswith(total_sentence(spent, "on groceries", label))


@covers(ActionAnswerSpending)
async def test_no_period_is_asked_for(alice: str, domain: dict) -> None:
    out = await run(ActionAnswerSpending(), tracker(alice, "how much do I spend on coffee", "spending_query"),
                    domain)
    assert out.said == ["For which period should I add up your spending on coffee?"]
    assert [b["payload"] for b in out.buttons] == [
        '/spending_query{"period":"this month","category":"coffee"}',
        '/spending_query{"period":"last month","category":"coffee"}',
        '/spending_query{"period":"this year","category":"coffee"}']
    assert "€" not in out.text


@covers(ActionAnswerSpending)
async def test_no_subject_and_no_period_asks_what(alice: str, domain: dict) -> None:
    out = await run(ActionAnswerSpending(), tracker(alice, "how much did I spend", "spending_query"), domain)
    assert out.responses == ["utter_spending_what"]
    assert out.events == []


@covers(ActionConfirmMerchantGuess)
async def test_yes_to_the_guess_answers_the_question_with_that_merchant(core: Core, alice: str,
                                                                        domain: dict) -> None:
    guess = json.dumps({"merchant": "Costa Coffee", "period": "last month"})
    out = await run(ActionConfirmMerchantGuess(), tracker(alice, "yes", "affirm", slots={"spending_guess": guess}),
                    domain)
    start, end, label = last_month()
    spent = core.get("alice", "/v1/insights/spending", **{"from": start, "to": end}, merchant="Costa Coffee")
    assert out.said == [total_sentence(spent, "at Costa Coffee", label)]
    assert json.loads(out.slots["spending_context"])["merchant"] == "Costa Coffee"
    assert out.slots["spending_guess"] is None
