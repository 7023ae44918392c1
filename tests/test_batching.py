"""NaturalBatcher: batches form while a call runs, results go to their own callers, errors stay put."""

from __future__ import annotations

import asyncio

import pytest

from api.batching import NaturalBatcher


def test_items_arriving_during_a_call_share_the_next_one() -> None:
    calls: list[list[int]] = []

    async def scenario() -> list[int]:
        release_first = asyncio.Event()

        async def double(items: list[int]) -> list[int]:
            calls.append(items)
            if len(calls) == 1:
                await release_first.wait()  # the first call runs while the others queue up
            return [2 * i for i in items]

        batcher = NaturalBatcher(double, max_batch=3, retry_alone=True)
        first = asyncio.ensure_future(batcher.submit(0))
        await asyncio.sleep(0)  # let the first call start (an event-loop turn, not a timed wait)
        rest = [asyncio.ensure_future(batcher.submit(i)) for i in range(1, 6)]
        release_first.set()
        return await asyncio.gather(first, *rest)

    assert asyncio.run(scenario()) == [0, 2, 4, 6, 8, 10]
    assert calls == [[0], [1, 2, 3], [4, 5]]  # alone at once, then at most max_batch together


def test_a_failed_batch_is_retried_alone_so_only_the_bad_item_fails() -> None:
    async def scenario() -> list[object]:
        async def pick(items: list[int]) -> list[int]:
            if 13 in items:
                raise ValueError("bad item")
            return items

        batcher = NaturalBatcher(pick, max_batch=8, retry_alone=True)
        blocker = asyncio.ensure_future(batcher.submit(1))
        await asyncio.sleep(0)
        others = [asyncio.ensure_future(batcher.submit(i)) for i in (12, 13, 14)]
        return await asyncio.gather(blocker, *others, return_exceptions=True)

    results = asyncio.run(scenario())
    assert results[:2] == [1, 12] and results[3] == 14
    assert isinstance(results[2], ValueError)


def test_without_retry_every_item_of_a_failed_batch_gets_the_error() -> None:
    async def scenario() -> list[object]:
        async def fail(items: list[int]) -> list[int]:
            raise ConnectionError("store down")

        batcher = NaturalBatcher(fail, max_batch=8, retry_alone=False)
        return await asyncio.gather(*(batcher.submit(i) for i in range(3)), return_exceptions=True)

    assert all(isinstance(r, ConnectionError) for r in asyncio.run(scenario()))


def test_a_call_must_answer_every_item() -> None:
    async def scenario() -> int:
        async def short(items: list[int]) -> list[int]:
            return items[:-1]

        return await NaturalBatcher(short, max_batch=4, retry_alone=False).submit(1)

    with pytest.raises(AssertionError):
        asyncio.run(scenario())
