"""Issue 13, fourth part: national numbers written in groups without a trunk 0, or without their grouping.

Own wording and values, written for the tests; the shapes are the national conventions the comments in
api/privacy/patterns/phones.py name, not lines of any evaluation set.
"""

from __future__ import annotations

import pytest

from api.privacy import redact

CAUGHT = [
    ("my new one is 612 483 907, use that", "612 483 907"),  # Spain, Czechia: three groups of three
    ("text my daughter on 917 26 448 tonight", "917 26 448"),  # Norway
    ("it's 61 204 73 19 at the office", "61 204 73 19"),  # Poland
    ("reach my husband at 31-47-92-06 please", "31-47-92-06"),  # Denmark: four pairs
    ("her landline 21 418 227 3390 is dead", "21 418 227 3390"),  # Portugal
    ("Please use (21) 3321-7764 from now on.", "(21) 3321-7764"),  # an area code in brackets
    ("or (1) 462-1180 in Budapest", "(1) 462-1180"),
    ("the courier has 512-4478213 as my number", "512-4478213"),  # an area code and seven digits
    ("write to 7248 9163 if he calls", "7248 9163"),  # two groups of four
    ("my sister: 562 9804", "562 9804"),  # a seven-digit local number
    ("the office is 24 318806 until June", "24 318806"),  # a two-digit area code, a space, six digits
    ("Please use 02079460958 from now on.", "02079460958"),  # a trunk-0 number without its grouping
]

READABLE = [
    "I paid 1 250 000 for the flat",  # a round sum in thousands
    "send € 12 345 678 to the notary",  # a currency before it
    "that was 12 345 678 kr in total",  # a currency after it
    "it happened on 12 03 2024",  # a recent date, grouped
    "the statement of 2024-03-12 is wrong",
    "my router is 192.168.100.254 at home",  # an IP address
    "reference 612 483 907 on the invoice",  # after a reference word
    "order 0207946095 has not arrived",  # after an order word, ungrouped
    "I moved 250 to savings and 40 to checking",  # amounts, too few digits
    "the form says EIN 53-2543263",  # a two-digit prefix and a dash: the EIN shape
]


@pytest.mark.parametrize(("text", "value"), CAUGHT, ids=[c[1] for c in CAUGHT])
def test_grouped_number_is_a_phone(text: str, value: str) -> None:
    start = text.index(value)
    spans = [e for e in redact(text).entities if e.start <= start and e.end >= start + len(value)]
    assert spans, redact(text).text
    assert spans[0].type == "PHONE_NUMBER"


def test_a_phone_word_after_the_veto_word_wins() -> None:
    text = "the customer's phone is 612 483 907"
    assert "612 483 907" not in redact(text).text


def test_an_account_number_is_not_a_phone() -> None:
    assert [e.type for e in redact("account 4471 9920 is the old one").entities] == ["ACCOUNT_NUMBER"]


@pytest.mark.parametrize("text", READABLE)
def test_other_grouped_numbers_stay(text: str) -> None:
    assert redact(text).text == text
