"""Issue 13, sixth part: a street line of any shape before its flat or suite, the unit a rule stopped on, streets
named after an initial or with lower-case particles, regions written as a number, countries of several words
before a postcode, and six-digit local numbers in pairs after a phone word.

Own wording and values, written for the tests, not taken from any evaluation set.
"""

from __future__ import annotations

import pytest

from api.privacy import redact
from tests.privacy.expect import assert_covered

CAUGHT = [
    # the unit on the next line makes the line above it a street
    ("my landlord lives at 5113 27 Zeas Koraka\n Apt. 4\n Larnaca", "5113 27 Zeas Koraka\n Apt. 4\n Larnaca",
     "STREET_ADDRESS"),
    ("Address: Quinta 88 Lopes Gardens Suite 12, Funchal", "Quinta 88 Lopes Gardens Suite 12, Funchal",
     "STREET_ADDRESS"),
    ("> 4169 4990 De la Providence Avenue\n> Apt. 705\n> Lachute", "4169 4990 De la Providence Avenue\n> Apt. 705",
     "STREET_ADDRESS"),
    # a rule that stopped on "Apt" gives it back, so the flat's number and the town follow
    ("Meet me at 12 Rue du Moulin 4 Apt. 31\nBERGEN, nan 05012", "12 Rue du Moulin 4 Apt. 31\nBERGEN, nan 05012",
     "STREET_ADDRESS"),
    # an initial in the street's name
    ("the parcel went to 41 K. Karamanli Street yesterday", "41 K. Karamanli Street", "STREET_ADDRESS"),
    # lower-case particles and elided articles
    ("I moved to Rue de Virton 38 last week", "Rue de Virton 38", "STREET_ADDRESS"),
    ("Post it to Via delle Coste 26 please", "Via delle Coste 26", "STREET_ADDRESS"),
    ("send it to 61 Avenue d'Orsay 12 please", "61 Avenue d'Orsay 12", "STREET_ADDRESS"),
    ("the shop is on van Dijk Mill Street", "van Dijk Mill Street", "STREET_ADDRESS"),
    # a region written as a number, a country of two words before the postcode
    ("The letter is for 77 Rua Sintra 5\nSidi Bouzid\n, 43\n Tunisia 91200",
     "77 Rua Sintra 5\nSidi Bouzid\n, 43\n Tunisia 91200", "STREET_ADDRESS"),
    ("The letter is for 1567 Ártún 55\nRiverton\n, xx\n New Zealand 24896",
     "1567 Ártún 55\nRiverton\n, xx\n New Zealand 24896", "STREET_ADDRESS"),
    # a cross street after a label
    ("Address:   Harald and Brunnenweg 85", "Harald and Brunnenweg 85", "STREET_ADDRESS"),
    # Slavic and Hungarian street words
    ("deliver to Trg svobode 7 tomorrow", "Trg svobode 7", "STREET_ADDRESS"),
    ("she lives on Duna rkp. 21. near the bridge", "Duna rkp. 21", "STREET_ADDRESS"),
    ("You can call 31 41 19 in the morning", "31 41 19", "PHONE_NUMBER"),
    ("text me on 85-72-38 when you land", "85-72-38", "PHONE_NUMBER"),
]


@pytest.mark.parametrize(("text", "value", "entity"), CAUGHT, ids=[c[1] for c in CAUGHT])
def test_value_is_redacted(text: str, value: str, entity: str) -> None:
    assert_covered(text, value, entity)


READABLE = [
    "Pay 500 Apartment 4B rent",  # a flat is no street name, the amount stays
    "My flat 3 is cold, I paid 400 for the suite 2 upgrade",
    "call me on 12 03 24 please",  # six digits in pairs that can be a date
    "I paid 31 41 19 times",  # no phone word
    "Transfer 250 to savings, then 40 Suite 9 rent",  # common words only before the unit
]


@pytest.mark.parametrize("text", READABLE)
def test_stays_readable(text: str) -> None:
    assert redact(text).text == text


def test_a_phone_on_the_line_after_an_address_is_a_phone() -> None:
    text = "14 Eleftherias Street\n Suite 8\n Strovolos\n Cyprus 79908\n97 934778 office"
    entities = redact(text).entities
    start = text.index("97 934778")
    assert [e.type for e in entities if e.start <= start < e.end] == ["PHONE_NUMBER"], entities


def test_a_town_particle_is_a_whole_word() -> None:
    # "na" is a town particle ("Ústí nad Labem", "Nové Město na Moravě"); the start of "nano" is not
    text = "The card went to 12 Svenskevägen 5 Apt. 3 ODENSE nanotech park"
    redacted = redact(text).text
    assert "nanotech park" in redacted and "Svenskevägen" not in redacted, redacted


def test_post_nominal_letters_belong_to_the_name() -> None:
    for text, letters in (("my tenant Zofia Kowalczyk DVM moved out", "DVM"),
                          ("please pay Tobias Grant Jr. the deposit", "Jr"),
                          ("Dr Inés Portillo, PhD wrote to me", "PhD")):
        assert letters not in redact(text).text, redact(text).text


def test_a_number_after_a_name_stays_readable() -> None:
    # the model may take the amount into the name ("Hamilton West 40"); names hold no digits
    for text in ("please pay Hamilton West 40", "send Margit Olofsson 75 tomorrow"):
        assert any(ch.isdigit() for ch in redact(text).text), redact(text).text


INVISIBLE = [
    ("my card is 4111\u200b1111\u200b1111\u200b1111 please block it", "<CREDIT_CARD>"),
    ("card 5500\u00ad0000\u00ad0000\u00ad0004", "<CREDIT_CARD>"),
    ("my iban is GB82\u2060WEST\u206012345698765432", "<IBAN_CODE>"),
    ("please pay Václav \ufeffDvořák 40", "<PERSON>"),
]


@pytest.mark.parametrize(("text", "tag"), INVISIBLE, ids=[t for _, t in INVISIBLE])
def test_invisible_characters_hide_nothing(text: str, tag: str) -> None:
    result = redact(text)
    assert tag in result.text, result.text
    for e in result.entities:  # offsets are the original text's
        assert not text[e.start].isspace() and not text[e.end - 1].isspace(), (e, text)


def test_offsets_after_invisible_characters_point_into_the_original() -> None:
    text = "\u200b\u200bcall me on +44 7700 900123"
    result = redact(text)
    (phone,) = [e for e in result.entities if e.type == "PHONE_NUMBER"]
    assert text[phone.start:phone.end] == "+44 7700 900123"
    assert "\u200b" not in result.text


def test_a_surname_after_its_particles_is_part_of_the_name() -> None:
    for text, surname in (("please pay Roxy van der Torre 40", "Torre"), ("I met Anna de la Cruz in town", "Cruz")):
        redacted = redact(text).text
        assert surname not in redacted and " der " not in redacted and " la " not in redacted, redacted


# Lone given names the model misses or calls an organisation (first_names.py: Faker's lists of many locales).
GIVEN = [
    ("can Ingibjörg use my card too?", "Ingibjörg"),
    ("I lent Ljiljana the money last week", "Ljiljana"),
]


@pytest.mark.parametrize(("text", "name"), GIVEN, ids=[n for _, n in GIVEN])
def test_lone_given_names_are_redacted(text: str, name: str) -> None:
    assert name not in redact(text).text, redact(text).text


# Words the model or the given-name list could take for people; agents must read them.
NOT_PEOPLE = [
    # towns by their shape
    "we drove to West Kamilashire yesterday",
    "songwriters from around the world to Carolinachester to share their music",
    "I moved from North Alphonsine last year",
    "the parcel is stuck in a depot near Lake Orvanne",
    # companies before their legal form
    "Brennholt Varga & Company Inc. sent me an invoice",
    "Melco Resorts & Entertainment Limited charged me twice",
    "my pension is with Kestrel Harbour Income Fund now",
    # given names that are banks or places
    "my Chase card was declined",  # a bank, also a given name
    "I bought a ticket to Paris for the trip",  # a town, also a given name, common in English
    "Virginia Water station was closed",  # the start of a sentence and a capitalised word after it
]


@pytest.mark.parametrize("text", NOT_PEOPLE)
def test_towns_companies_and_banks_stay_readable(text: str) -> None:
    assert "<PERSON>" not in redact(text).text, redact(text).text
