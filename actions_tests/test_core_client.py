"""The action server's core client: reads of one action side by side trade the message's grant once."""

from __future__ import annotations

import asyncio

import pytest

from actions.core_client import CoreClient
from actions_tests.conftest import Core
from actions_tests.support import GRANTS

pytestmark = pytest.mark.anyio
GRANT_USES = 10  # api/config.py grant_uses: a grant trades this many times, then it is spent


async def test_reads_side_by_side_trade_the_grant_once(core: Core) -> None:
    conversation = core.conversation("alice")
    client = CoreClient(conversation, GRANTS[conversation])
    # More reads at once than the grant has trades: each trading on its own would spend it and be refused.
    answers = await asyncio.gather(*(client.me() for _ in range(GRANT_USES + 2)))
    assert {a["username"] for a in answers} == {"alice"}
