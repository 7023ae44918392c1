"""action_check_balance: each account's name and balance (with what is available when a hold reduces it)."""

from __future__ import annotations

import pytest

from actions.balance import ActionCheckBalance
from actions_tests.conftest import Core
from actions_tests.support import covers, eur, run, tracker

pytestmark = [pytest.mark.anyio, covers(ActionCheckBalance)]


async def test_alice_hears_every_balance_the_core_holds(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionCheckBalance(), tracker(alice, "what's my balance?", "check_balance"), domain)
    accounts = core.accounts("alice")
    checking, savings = accounts["checking"], accounts["savings"]
    # Two pending card payments (seeded holds) keep checking's available below its balance.
    assert checking["available"] != checking["balance"]
    assert out.said == ["Here are your balances:\n"
                        f"Everyday checking: {eur(checking['balance'])} ({eur(checking['available'])} available)\n"
                        f"Rainy-day savings: {eur(savings['balance'])}"]
    assert out.events == []


async def test_the_account_asked_about_alone(core: Core, alice: str, domain: dict) -> None:
    out = await run(ActionCheckBalance(), tracker(alice, "how much is in my savings?", "check_balance",
                                                  entities={"account": "savings"}, slots={"account": "savings"}),
                    domain)
    savings = core.accounts("alice")["savings"]
    assert out.said == [f"Here is your balance:\nRainy-day savings: {eur(savings['balance'])}"]


async def test_bob_hears_his_own_figures_not_alices(core: Core, bob: str, domain: dict) -> None:
    out = await run(ActionCheckBalance(), tracker(bob, "balance", "check_balance"), domain)
    bobs, alices = core.accounts("bob"), core.accounts("alice")
    assert eur(bobs["checking"]["balance"]) in out.text and eur(bobs["savings"]["balance"]) in out.text
    assert eur(alices["checking"]["balance"]) not in out.text


async def test_a_conversation_the_core_never_bound_gets_no_figures(domain: dict, core: Core) -> None:
    out = await run(ActionCheckBalance(), tracker("7d1c0a52-0000-4000-8000-000000000000", "balance",
                                                  "check_balance"), domain)
    assert out.responses == ["utter_core_unavailable"]
    assert "€" not in out.text
