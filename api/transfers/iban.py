"""IBAN checksum (ISO 13616 mod-97): refuses typos before any money is reserved."""

from __future__ import annotations

import re

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def normalize(iban: str) -> str:
    return re.sub(r"\s+", "", iban).upper()


def valid_iban(iban: str) -> bool:
    compact = normalize(iban)
    if not _IBAN.fullmatch(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
