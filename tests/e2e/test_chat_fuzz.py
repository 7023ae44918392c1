"""schemathesis on the chat endpoint against the real stack (Rasa and the action server behind it)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def test_chat_endpoint_never_errors(stack: Stack) -> None:
    schema = schemathesis.openapi.from_url(f"{stack.core_url}/openapi.json")
    alice = stack.login("alice")
    operation = next(op for op in (r.ok() for r in schema.get_all_operations()) if op.path == "/v1/chat/messages")

    @given(case=operation.as_strategy())
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case) -> None:
        case.call_and_validate(headers=alice, checks=[not_a_server_error])

    fuzz()
