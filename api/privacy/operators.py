"""How a found span is written in the redacted text.

tags:       every entity becomes its type tag, "<CREDIT_CARD>".
mask_last4: card, IBAN and account numbers keep their last four digits, "<CREDIT_CARD ****1234>",
            so an agent can tell two cards apart (the last four is what PCI DSS allows to show and
            what the bank prints on statements); everything else is a tag as above.
"""

from __future__ import annotations

from presidio_anonymizer.entities import OperatorConfig

from api.privacy.models import Mode

LAST4_TYPES = frozenset({"CREDIT_CARD", "IBAN_CODE", "ACCOUNT_NUMBER", "US_BANK_NUMBER"})


def tag(entity_type: str) -> str:
    return f"<{entity_type}>"


def last4(entity_type: str, value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    if len(digits) < 8:  # too short to keep four digits without giving most of it away
        return tag(entity_type)
    return f"<{entity_type} ****{''.join(digits[-4:])}>"


def operator_for(entity_type: str, mode: Mode, *, whole: bool = True) -> OperatorConfig:
    """`whole` is False when the span was merged with an overlapping one: then its last four
    digits might belong to the other value, so it gets a plain tag."""
    if mode == "mask_last4" and whole and entity_type in LAST4_TYPES:
        return OperatorConfig("custom", {"lambda": lambda value: last4(entity_type, value)})
    return OperatorConfig("replace", {"new_value": tag(entity_type)})
