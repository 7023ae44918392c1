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


@dataclass(frozen=True)
class Canaries:
    card: str
    iban: str
    ssn: str
    email: str
    phone: str
    password: str
    pin: str

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
        }

    def messages(self) -> list[str]:
        return [
            f"my card number is {' '.join(self.card[i:i + 4] for i in range(0, 16, 4))}, is it blocked?",
            f"please send money to IBAN {self.iban}",
            f"my social security number is {self.ssn}",
            f"email me at {self.email} or call {self.phone}",
            f"my password is {self.password} and my pin is {self.pin}",
        ]


def fresh(seed: int | None = None) -> Canaries:
    rng = random.Random(seed)
    token = "".join(rng.choice(string.ascii_lowercase) for _ in range(10))
    return Canaries(card=card_number(rng), iban=iban_de(rng), ssn=ssn(rng), email=f"{token}@canary-mail.org",
                    phone=f"+353 87 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    password=f"Hx{token[:6]}!{rng.randint(10, 99)}", pin=f"{rng.randint(1000, 9999)}")
