"""Freeze or unfreeze from the words, so a misread intent never turns a card back on (actions/understanding)."""

from __future__ import annotations

import time

import pytest

from actions.understanding.card_wish import card_wish


@pytest.mark.parametrize("text", ["pls freeze card asap", "lock my card now", "block it, my card was stolen",
                                  "stop all payments on my card", "can you switch my card off",
                                  "put a hold on my visa"])
def test_blocking_words_mean_freeze(text: str) -> None:
    assert card_wish(text) == "freeze"


@pytest.mark.parametrize("text", ["unfreeze my card", "I found my card, please turn it back on",
                                  "lift the block on my card", "remove the freeze", "unpause my card",
                                  "reactivate my card", "cancel the freeze on my card", "un-block the card"])
def test_undoing_a_block_means_unfreeze(text: str) -> None:
    assert card_wish(text) == "unfreeze"


@pytest.mark.parametrize("text", ["my card may have been cloned", "where is my new card", "/freeze_card", ""])
def test_other_words_leave_it_to_the_intent(text: str) -> None:
    assert card_wish(text) is None


def test_bounded_work_on_long_input() -> None:
    text = "turn " * 20_000 + "x"
    started = time.perf_counter()
    card_wish(text)
    assert time.perf_counter() - started < 1.0
