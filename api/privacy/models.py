"""Value types of the redaction API: what the bank knows about a customer, and what redact() returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Mode = Literal["tags", "mask_last4"]


def _tuple(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = (values,)
    return tuple(v.strip() for v in values if v and v.strip())


@dataclass(frozen=True, slots=True)
class KnownPII:
    """What the bank already knows about the customer of one conversation.

    Every value becomes an ad-hoc deny-list recognizer for that conversation, so it is caught
    every time it appears, whatever the generic recognizers make of it. Frozen and hashable so
    the compiled recognizers can be cached per customer (lists are turned into tuples).
    """

    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    account_numbers: tuple[str, ...] = field(default=())
    payee_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # Accept lists from callers but store tuples: the instance must stay hashable.
        object.__setattr__(self, "account_numbers", _tuple(self.account_numbers))
        object.__setattr__(self, "payee_names", _tuple(self.payee_names))

    def is_empty(self) -> bool:
        return not (self.full_name or self.email or self.phone or self.address
                    or self.account_numbers or self.payee_names)


class Entity(NamedTuple):
    """One redacted span: its type and its offsets in the *original* text."""

    type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RedactionResult:
    text: str
    entities: list[Entity]
