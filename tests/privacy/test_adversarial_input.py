"""Redaction of pathological messages takes time in proportion to their length (issue 12's finding: the
address rule took 3.3 s at 200 spaces, 115 s at 800)."""

from __future__ import annotations

import time

import pytest

from api.privacy import redact, warm_up

BUDGET_SECONDS = 1.5  # a message of 2,000 characters; the old address rule needed minutes for these
KEYWORDS = ("my address is 1", "my address: 1", "send it to 1", "i live at 1", "address is 12 Main")
RUNS = (" ", "\t", " \t", " ,")


@pytest.fixture(scope="module", autouse=True)
def _engines() -> None:
    warm_up()  # building the engines (loading the NER model, a few seconds) is not what is timed here


@pytest.mark.parametrize("keyword", KEYWORDS)
@pytest.mark.parametrize("run", RUNS)
def test_long_runs_of_spaces_after_an_address_keyword_are_cheap(keyword: str, run: str) -> None:
    text = (keyword + run * 2000)[:1999] + "x"
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < BUDGET_SECONDS


def test_addresses_after_a_keyword_are_still_caught_whole() -> None:
    result = redact("my address is 14 Harbour Road, Howth, Dublin D13 X2Y4 and my card is fine")
    assert result.text == "my address is <STREET_ADDRESS> and my card is fine"
    assert redact("please send it to 12 Main Street    and thanks").text.startswith("please send it to <STREET")
