"""Issue 13, fourth part: a rare street word and its number after a place word, towns with a district letter
or number, street words written after the name (Baltic, Hungarian, Turkish).

Own wording and values, written for the tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest

from api.privacy import redact
from tests.privacy.expect import assert_covered

CAUGHT = [
    ("meet me at Vilhelmsro 86 tomorrow", "Vilhelmsro 86"),
    ("the parcel went to Jaszczurówka 14 by mistake", "Jaszczurówka 14"),
    ("12 Østergade 4\nSuite 9\nAarhus C\nDenmark 8000", "Aarhus C\nDenmark 8000"),  # a district letter
    ("3 Mayfield Road, Dublin 4, Ireland", "Dublin 4, Ireland"),  # a district number
    ("Kalda tänav 12, Tallinn", "Kalda tänav 12"),
    ("send it to Dózsa György u. 31 please", "György u. 31"),
]

READABLE = [
    "boarding at Gate 22 please",
    "the meeting is in Room 101",
    "I was at Tesco 24 hours ago",  # a merchant
    "12 Main St, Leeds I think",  # "I" is no district
]


@pytest.mark.parametrize(("text", "value"), CAUGHT, ids=[c[1] for c in CAUGHT])
def test_address_part_is_redacted(text: str, value: str) -> None:
    assert_covered(text, value)


@pytest.mark.parametrize("text", READABLE)
def test_other_places_stay(text: str) -> None:
    redacted = redact(text).text
    assert "<STREET_ADDRESS>" not in redacted or text.startswith("12 Main St"), redacted
    if text.startswith("12 Main St"):
        assert redacted.endswith(" I think")
