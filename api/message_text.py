"""What a person may type into a conversation (the customer in the chat, an agent in a handoff)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

MAX_MESSAGE_CHARS = 2000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("text must not be blank")
    return value


MessageText = Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS), AfterValidator(_not_blank)]
