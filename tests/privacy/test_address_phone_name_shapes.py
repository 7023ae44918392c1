"""Issue 13, second part: address blocks, street corners, trunk-0 phones, cued names, birth-era dates.

The lines here are written for the tests (own wording and values), not taken from any evaluation set.
"""

from __future__ import annotations

import pytest

from api.privacy import redact

CAUGHT = [
    # an address block pasted with quoting marks: every line of it
    ("> Flat 3\n> 18 Orchard Lane\n> Ballyvolane\n> Ireland 23871", ["18 Orchard Lane", "Ballyvolane", "23871"]),
    ("send it to 44 Kvarnvägen 7\n| Suite 12\n| Norrtälje\n| Sweden 76140 please", ["Suite 12", "76140"]),
    # a region left lower case between town and postcode; a country with its qualifier
    ("post to 9 Main St, Tralee, kerry 45120 thanks", ["Tralee", "45120"]),
    ("16 Odos Ermou 40\nLimassol\nCyprus (Greek) 30412", ["30412"]),
    # a street corner, the second street without a number
    ("pick me up at the corner of Dunmore Road 12 and Haywood Crescent.", ["Dunmore Road", "Haywood Crescent"]),
    ("meet at the corner of Elm St. and 5th Avenue", ["Elm", "5th"]),
    # an ordinal street
    ("we moved to 221 52nd Street last year", ["221 52nd Street"]),
    # a national number with its trunk 0, no phone word, outside the seven parsed plans
    ("please stop texting 0471 5528830 after six", ["0471 5528830"]),
    # the North American 3-3-4 shape, area code valid or not
    ("fax it to 167.321.4545 today", ["167.321.4545"]),
    ("or 001-219-555-0143x52 after five", ["001-219-555-0143x52"]),
    # names by their cues
    ('"not again," sighed Wiebke, and Torvald replied to Ilse quickly', ["Torvald", "Ilse"]),
    ("Stay where you are, Oluwaseun!", ["Oluwaseun"]),
    ("the cheque was signed by Marthe K Solberg yesterday", ["Marthe K Solberg"]),
    ("> Ruairí Doyle\n> 18 Orchard Lane\n> Ballyvolane", ["Ruairí Doyle"]),  # the addressee of a quoted block
    # a full date of a birth year, no keyword
    ("the form says 14 February 1969 and nothing else", ["14 February 1969"]),
]

READABLE = [
    "account 0123 45678901 is the old one",  # after an account word, whatever its shape
    "ref 123-456-7890 on the letter",
    "paid Tesco £12.40 on 12/03/2024",  # a recent transaction date
    "the branch on the corner of the street is closed",  # no street named
    "Thanks, Tesco!",
    "he said Monday was fine",
    "is Plan B Savings the account with the bonus?",
]


@pytest.mark.parametrize(("text", "values"), CAUGHT, ids=[c[0][:40] for c in CAUGHT])
def test_caught(text: str, values: list[str]) -> None:
    spans = redact(text).entities
    for value in values:
        start = text.index(value)
        assert any(e.start <= start and e.end >= start + len(value) for e in spans), (value, redact(text).text)


@pytest.mark.parametrize("text", READABLE)
def test_readable(text: str) -> None:
    assert redact(text).text == text
