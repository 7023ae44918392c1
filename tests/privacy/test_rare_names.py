"""Issue 13, fourth part: full names the model leaves unlabelled, found by the rarity of their words, and
single names by the speaker's pairing, a message passed on, or a signature under a sign-off.

Own wording and values, written for the tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest

from api.privacy import redact
from api.privacy.rare_names import rare_name, zipf

CAUGHT = [
    ("Can I add Zdenka Hrubišová to my account?", "Zdenka Hrubišová"),
    ("Yesterday Oluwatobi Adeyemo called about the loan.", "Oluwatobi Adeyemo"),
    ("I went to the bank with Kalani Makoa last week", "Kalani Makoa"),
    ("Is Thorgrim Eikeland a customer too?", "Thorgrim Eikeland"),
    ("Ingibjörg and I share the savings pot.", "Ingibjörg"),
    ("the card is for me and Radomir", "Radomir"),
    ("Tell Siddhartha I said thanks.", "Siddhartha"),
    ("please ask Mirela to call me back", "Mirela"),
    ("I'll send the forms tomorrow.\nBest wishes,\nWiesława", "Wiesława"),  # a signature under a sign-off
    ("Thanks!\nOrla Quinlivan", "Orla Quinlivan"),
]

READABLE = [
    "I paid Tesco Express and the council",  # an everyday word
    "we live in Székesfehérvár Város now",  # what the model calls a place, after a place word
    "I used to work for Sagar Cements Limited",  # a company: its suffix
    "Looking to support Peloton Minerals Corp in it",
    "she studied at the University of Kvarnholmen Vestre",  # an institution
    "Tell Tesco I want a refund",  # a merchant
    "Apple Pay and Google Pay both failed",
    "Thanks, Tesco",  # a merchant under a sign-off
    "Best,\nMonday",
]


@pytest.mark.parametrize(("text", "value"), CAUGHT, ids=[c[1] for c in CAUGHT])
def test_unlabelled_name_is_redacted(text: str, value: str) -> None:
    start = text.index(value)
    assert any(e.type == "PERSON" and e.start <= start and e.end >= start + len(value)
               for e in redact(text).entities), redact(text).text


@pytest.mark.parametrize("text", READABLE)
def test_organisations_places_and_everyday_words_stay(text: str) -> None:
    assert "<PERSON>" not in redact(text).text


def test_rarity_needs_one_rare_word_and_no_everyday_one() -> None:
    assert zipf("the") > 7 > zipf("hrubišová")
    assert rare_name(["Zdenka", "Hrubišová"])
    assert not rare_name(["Charlotte", "Park"])  # "park" is an everyday word
    assert not rare_name(["Anna", "Berg"])  # neither is rare: left to the model and the cues
