"""The saga stack (bench/saga_stack.py) for this package's tests: sandbox, core and two saga workers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bench.saga_stack import SagaStack, saga_stack

PORT = 21000 + int(os.environ.get("BANKBOT_TEST_PORT_OFFSET", "0"))


@pytest.fixture(scope="package")
def sagas() -> Iterator[SagaStack]:
    # Few, quick provider step retries: the dead-letter test waits for them to run out.
    with saga_stack(port=PORT, workers=2, env={"SAGA_STEP_ATTEMPTS": "2", "SAGA_STEP_INTERVAL_SECONDS": "0.2",
                                               "PROVIDER_MAX_ATTEMPTS": "2"}) as stack:
        yield stack
