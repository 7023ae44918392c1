"""Freshly generated personal data ("canaries") and the spellings they may take when leaked."""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def card_number(rng: random.Random) -> str:
    body = "4" + "".join(rng.choice(string.digits) for _ in range(14))
    return body + luhn_digit(body)


def iban_de(rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    digits = "".join(str(int(c, 36)) for c in bban + "DE00")
    return f"DE{98 - int(digits) % 97:02d}{bban}"


def ssn(rng: random.Random) -> str:
    return f"{rng.randint(100, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999):04d}"


# Other people's names, on no deny list: letters beyond Latin-1, particles, and a plain English name. Each
# canary is a fresh pairing, so a leak cannot be an accident of the demo data.
FIRST_NAMES = ("Łukasz", "Dorota", "Zdeněk", "Siobhán", "Grzegorz", "Mateja", "Dragoș", "Ágnes", "Dorothy",
               "Trevor", "Maureen", "Jarosław")
LAST_NAMES = ("Kovačević", "Wiśniewska", "Dvořák", "Ní Bhriain", "Szymański", "Jovanović", "Quennell",
              "Ashbrook", "Łapiński", "Ó Súilleabháin", "Nováková", "Thistlewood")
STREETS = ("Harcourt Terrace", "Kingsbridge Road", "Wellington Avenue", "Mill Lane", "Beechwood Close",
           "Ormond Quay")
TOWNS = (("Leeds", "LS6 2QT"), ("Dublin 2", "D02 X285"), ("Bristol", "BS8 1TH"), ("Manchester", "M14 5RB"))


def third_party(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def international_phone(rng: random.Random) -> str:
    """A Swiss-format number, not necessarily one in libphonenumber's plan (the issue's "+41 53 ...")."""
    return f"+41 {rng.randint(21, 79)} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"


def flat_address(rng: random.Random) -> tuple[str, str, str]:
    """(the whole address, its street line, its flat) for a flat in a numbered building."""
    flat = f"Flat {rng.randint(1, 40)}{rng.choice('ABCD')}"
    street = f"{rng.randint(2, 299)} {rng.choice(STREETS)}"
    town, postcode = rng.choice(TOWNS)
    return f"{flat}, {street}, {town} {postcode}", street, flat


@dataclass(frozen=True)
class Canaries:
    card: str
    iban: str
    ssn: str
    email: str
    phone: str
    password: str
    pin: str
    payee: str  # a third party's full name: a payee to add
    landlord: str  # another third party, named with no introducing phrase
    phone_abroad: str  # international, typed with no phone word
    address: str  # a flat in a numbered building, town and postcode
    street: str
    birth_date: str  # typed alone, in answer to "what is your date of birth?"
    caller: str  # a third party named mid-sentence with no cue at all
    phone_grouped: str  # a national number in groups, no trunk 0 and no phone word ("612 483 907")

    def spellings(self) -> dict[str, list[str]]:
        """Each canary in the forms a leak could take: compact, grouped, dashed."""
        card_groups = " ".join(self.card[i:i + 4] for i in range(0, 16, 4))
        iban_groups = " ".join(self.iban[i:i + 4] for i in range(0, len(self.iban), 4))
        phone_digits = re.sub(r"\D", "", self.phone)
        return {
            "card": [self.card, card_groups, card_groups.replace(" ", "-")],
            "iban": [self.iban, iban_groups],
            "ssn": [self.ssn, self.ssn.replace("-", ""), self.ssn.replace("-", " ")],
            "email": [self.email],
            "phone": [self.phone, phone_digits, "+" + phone_digits],
            "password": [self.password],
            "pin": [f"pin is {self.pin}", f"PIN is {self.pin}"],
            "payee": [self.payee, self.payee.split(" ", 1)[1]],
            "landlord": [self.landlord, self.landlord.split(" ", 1)[1]],
            "phone_abroad": [self.phone_abroad, re.sub(r"\D", "", self.phone_abroad)],
            "address": [self.address, self.street, self.address.split(",")[0] + ","],
            "birth_date": [self.birth_date],
            "caller": [self.caller, self.caller.split(" ", 1)[1]],
            "phone_grouped": [self.phone_grouped, self.phone_grouped.replace(" ", "")],
        }

    def messages(self) -> list[str]:
        return [
            f"my card number is {' '.join(self.card[i:i + 4] for i in range(0, 16, 4))}, is it blocked?",
            f"please send money to IBAN {self.iban}",
            f"my social security number is {self.ssn}",
            f"email me at {self.email} or call {self.phone}",
            f"my password is {self.password} and my pin is {self.pin}",
            f"I want to add {self.payee} as a beneficiary",
            f"my landlord {self.landlord} wants the rent on {self.phone_abroad} fax",
            f"please send the new card to {self.address}",
            f"can {self.caller} use my card too?",
            f"my sister's new one is {self.phone_grouped}, text her",
        ]

    def answers(self) -> list[str]:
        """Lines that are personal data only because of the question before them."""
        return [self.birth_date]


def fresh(seed: int | None = None) -> Canaries:
    rng = random.Random(seed)
    token = "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
    payee = third_party(rng)
    landlord = next(name for name in iter(lambda: third_party(rng), None) if name.split()[-1] != payee.split()[-1])
    address, street, _flat = flat_address(rng)
    months = ("January", "March", "May", "July", "September", "November")
    return Canaries(card=card_number(rng), iban=iban_de(rng), ssn=ssn(rng), email=f"{token}@canary-mail.org",
                    phone=f"+353 87 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    password=f"Hx{token[:6]}!{rng.randint(10, 99)}", pin=f"{rng.randint(1000, 9999)}",
                    payee=payee, landlord=landlord, phone_abroad=international_phone(rng), address=address,
                    street=street, birth_date=f"{rng.randint(10, 28)} {rng.choice(months)} {rng.randint(1950, 1999)}",
                    caller=third_party(rng),
                    phone_grouped=f"{rng.randint(610, 799)} {rng.randint(100, 999)} {rng.randint(100, 999)}")
