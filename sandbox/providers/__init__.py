"""The four fake providers: their routers and the transitions their objects go through."""

from __future__ import annotations

from sandbox.jobs import Transition
from sandbox.providers import cards, crypto, kyc, rails

ROUTERS = (rails.router, cards.router, crypto.router, kyc.router)
TRANSITIONS: dict[str, Transition] = {**rails.TRANSITIONS, **cards.TRANSITIONS, **crypto.TRANSITIONS,
                                      **kyc.TRANSITIONS}
