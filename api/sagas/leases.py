"""Saga workers' leases and the watchdog that recovers the workflows of a worker that stopped renewing.

DBOS recovers a process's own pending workflows when it starts again under the same executor id. A
worker that never comes back needs another to do it: each worker renews its lease every third of
saga_lease_seconds, and takes over (atomically, one taker) any lease that has expired, asking DBOS to
put that executor's pending workflows back on the queue, where any worker picks them up.
"""

from __future__ import annotations

import psycopg

RENEW_SQL = """
INSERT INTO saga_workers (executor_id, lease_until) VALUES (%(me)s, now() + make_interval(secs => %(lease)s))
ON CONFLICT (executor_id) DO UPDATE SET lease_until = excluded.lease_until, recovered_at = NULL, recovered_by = NULL
"""
# One taker per expiry: the row is pushed a lease ahead by whoever updates it first, so a dead worker is
# swept again a lease later (a workflow it held may have been mid-recovery) but never by two at once.
CLAIM_SQL = """
UPDATE saga_workers SET lease_until = now() + make_interval(secs => %(lease)s),
                        recovered_at = now(), recovered_by = %(me)s
WHERE executor_id <> %(me)s AND lease_until < now()
RETURNING executor_id
"""


def renew(conn: psycopg.Connection, *, executor_id: str, lease_seconds: float) -> None:
    """Extend this worker's lease."""
    conn.execute(RENEW_SQL, {"me": executor_id, "lease": lease_seconds})


def claim_expired(conn: psycopg.Connection, *, executor_id: str, lease_seconds: float) -> list[str]:
    """The executors whose lease expired, now claimed by this worker for recovery."""
    return [row[0] for row in conn.execute(CLAIM_SQL, {"me": executor_id, "lease": lease_seconds}).fetchall()]


def release(conn: psycopg.Connection, *, executor_id: str) -> None:
    """A clean stop: the lease ends now, so the watchdog of another worker recovers at once."""
    conn.execute("UPDATE saga_workers SET lease_until = now() WHERE executor_id = %s", (executor_id,))
