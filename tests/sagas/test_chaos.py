"""The chaos test (bounded): sagas across the flows, random provider faults, worker processes SIGKILLed and
restarted. `make chaos` runs a larger version (bench/chaos.py)."""

from __future__ import annotations

import os

import psycopg
import pytest

from bench.chaos import run
from bench.saga_stack import saga_stack

pytestmark = pytest.mark.e2e
PORT = 21300 + int(os.environ.get("BANKBOT_TEST_PORT_OFFSET", "0"))


def test_every_saga_ends_and_no_cent_is_lost_or_paid_twice_while_workers_are_killed() -> None:
    with saga_stack(port=PORT, workers=2) as stack:
        report = run(stack, sagas=200, kills=20, seed=20261202, fault_rate=0.2, webhook_rate=0.3,
                     settle_timeout_s=300)
        with psycopg.connect(stack.database_url) as conn:
            unalerted = conn.execute(
                "SELECT count(*) FROM sagas s WHERE s.status = 'dead_lettered' AND NOT EXISTS (SELECT 1 FROM outbox o "
                "WHERE o.topic = 'saga.dead_lettered' AND o.payload->>'saga_id' = s.id)").fetchone()
    print(report.line())
    assert report.kills >= 20
    assert report.sagas >= 200 and report.terminal == report.sagas, report.by_status
    assert report.drift == 0
    assert report.lost_cents == 0 and not report.problems, report.problems
    assert report.duplicate_effects == 0 and report.duplicate_applications == 0
    assert report.stuck_transfers == 0
    assert unalerted == (0,)
    # Every kill's sagas ran again (how fast is a benchmark figure: `make chaos`, docs/sagas.md).
    assert report.unrecovered_kills == 0
