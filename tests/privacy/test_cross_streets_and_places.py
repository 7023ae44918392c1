"""Issue 13, fifth part: intersections written "<street> and <street>", street names of several words before a
separate street word, continental streets that end where the English sentence goes on, "reach her on" before a
phone number, initialled names whose surname is also a place word, and places the model calls people.

Own wording and values, written for the tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest

from api.privacy import redact
from tests.privacy.expect import assert_covered

CAUGHT = [
    ("the courier left it at Hollin and Kläppinge 86 yesterday", "Hollin and Kläppinge 86", "STREET_ADDRESS"),
    ("please send the card to Birch and 14 rue Lepic instead", "Birch and 14 rue Lepic", "STREET_ADDRESS"),
    ("my old flat was on Maple and Tørvegade 9", "Maple and Tørvegade 9", "STREET_ADDRESS"),
    ("the office moved to Anne Marie Olsens plass 12", "Anne Marie Olsens plass 12", "STREET_ADDRESS"),
    ("she can be reached on 2684656321 most evenings", "2684656321", "PHONE_NUMBER"),
    ("you can reach him at 5550 1234 567 after work", "5550 1234 567", "PHONE_NUMBER"),
    ("Lucía M Park\nAcme Widgets Ltd.", "Lucía M Park", "PERSON"),
    ("please pay Tomasz K Lane the 40 we owe", "Tomasz K Lane", "PERSON"),
]


@pytest.mark.parametrize(("text", "value", "entity"), CAUGHT, ids=[c[1] for c in CAUGHT])
def test_value_is_redacted(text: str, value: str, entity: str) -> None:
    assert_covered(text, value, entity)


# The street ends where the sentence goes on; the words after it stay readable.
ENDS = [
    ("the letter went to 22 avenue Victor Hugo last week", "last week"),
    ("post it to 5 rue des Lilas for me please", "for me please"),
]


@pytest.mark.parametrize(("text", "rest"), ENDS, ids=[e[1] for e in ENDS])
def test_continental_street_stops_at_the_sentence(text: str, rest: str) -> None:
    redacted = redact(text).text
    assert "<STREET_ADDRESS>" in redacted and redacted.endswith(rest), redacted


# Places the model may call people: after "in", a place noun, or before one. They must stay readable.
PLACES = [
    "Our supplier is a small firm based in Vrbno pod Pradědem.",
    "The band came from the home city Oberkirchbach am See, as I recall.",
    "The Hrastovec bridge was closed for repairs so the bus was late.",
]


@pytest.mark.parametrize("text", PLACES)
def test_places_stay_readable(text: str) -> None:
    assert "<PERSON>" not in redact(text).text, redact(text).text


def test_a_name_after_in_with_a_possessive_is_still_a_name() -> None:
    text = "I put the money in Aleksandra Wójcik's account"
    assert "Wójcik" not in redact(text).text


def test_letters_after_labels_stay_readable() -> None:
    for text in ("See Section A Park rules", "Plan B Street view"):
        assert "<PERSON>" not in redact(text).text
