"""Person cues (person_cues.py), named streets without a number, and model names that are places after "in".

Sentences are hand-written, not from either evaluation set."""

from __future__ import annotations

import pytest

from api.privacy import redact


def spans(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start:e.end]) for e in redact(text).entities]


@pytest.mark.parametrize(("text", "name"), [
    ("the money is for Wojciech's daughter, she starts uni", "Wojciech"),
    ("Honestly Marisol is a really kind person", "Marisol"),
    ("the agent had given Oluwaseun her reference already", "Oluwaseun"),
])
def test_cued_names(text: str, name: str) -> None:
    start = text.index(name)
    assert any(e.type == "PERSON" and e.start <= start and start + len(name) <= e.end for e in redact(text).entities)


def test_the_other_half_of_a_pair_with_a_found_name() -> None:
    text = "My landlord Dorothy Example and Yusuf both need to be added as payees"
    assert ("PERSON", "Yusuf") in spans(text)


@pytest.mark.parametrize("text", [
    "I gave Barclays my details last week",  # a company given "my" details is no person
    "Tesco and Amazon both charged me twice",  # merchants paired
    "what is the balance of my savings and checking?",
])
def test_near_misses_stay(text: str) -> None:
    assert not [s for s in spans(text) if s[0] == "PERSON"]


@pytest.mark.parametrize(("text", "street"), [
    ("the parcel is at the depot on Quarry Bank Lane", "Quarry Bank Lane"),
    ("she lives just off Hollins Crescent now", "Hollins Crescent"),
])
def test_named_street_after_a_place_word(text: str, street: str) -> None:
    assert ("STREET_ADDRESS", street) in spans(text)


@pytest.mark.parametrize("text", [
    "my card was declined at Shell Station",  # a place that is no street: station
    "I shop at Westfield Mall on Saturdays",
    "it happened on Black Friday",
])
def test_places_that_are_no_street_stay(text: str) -> None:
    assert not [s for s in spans(text) if s[0] == "STREET_ADDRESS"]


def test_a_lone_model_name_after_in_is_a_place_but_a_possessive_is_a_person() -> None:
    assert not [s for s in spans("I am staying in Dordrecht for two weeks") if s[0] == "PERSON"]
    assert ("PERSON", "Anneliese") in spans("please put the account in Anneliese's name")
