"""Saga workers' liveness, and the watchdog that recovers the workflows of a worker that died.

DBOS recovers a process's own pending workflows when it starts again under the same executor id. A
worker that does not come back (or not soon) needs another to do it. Two signals say a worker is gone:

* **Its connection closed.** Each worker holds a session-level advisory lock, keyed by its executor id,
  on its liveness connection for as long as it lives. When the process dies, however it dies, the
  kernel closes its socket and PostgreSQL releases the lock at once; another worker that can take the
  lock knows the owner is gone within one watchdog tick, long before any lease would expire.
* **Its lease expired.** A worker that is alive but stuck (its lease thread starved, its host frozen)
  keeps its connection; it renews a lease every quarter of saga_lease_seconds, and an expired lease is
  taken over (atomically, one taker).

Either way the taker asks DBOS to put that executor's pending workflows back on the queue, where any
worker picks them up. The taker holds the dead worker's lock while it recovers: the dead worker, started
again under the same id, waits for it before launching DBOS, so the two never recover the same
workflows at once.
"""

from __future__ import annotations

import psycopg

LOCK_CLASS = 0x5A6A  # advisory lock namespace of saga workers' liveness (the second key is the id's hash)

RENEW_SQL = """
INSERT INTO saga_workers (executor_id, lease_until) VALUES (%(me)s, now() + make_interval(secs => %(lease)s))
ON CONFLICT (executor_id) DO UPDATE SET lease_until = excluded.lease_until, recovered_at = NULL, recovered_by = NULL
"""
# One taker per expiry: the row is pushed a lease ahead by whoever updates it first, so a stuck worker is
# swept again a lease later (a workflow it held may have been mid-recovery) but never by two at once.
CLAIM_EXPIRED_SQL = """
UPDATE saga_workers SET lease_until = now() + make_interval(secs => %(lease)s),
                        recovered_at = now(), recovered_by = %(me)s
WHERE executor_id <> %(me)s AND lease_until < now()
RETURNING executor_id
"""
# Workers whose liveness lock is free are gone; only those that still had work need a look (a worker that
# stopped cleanly, or was recovered already, has no pending workflow left).
CANDIDATES_SQL = """
SELECT w.executor_id FROM saga_workers w
WHERE w.executor_id <> %(me)s
  AND EXISTS (SELECT 1 FROM dbos.workflow_status s WHERE s.executor_id = w.executor_id AND s.status = 'PENDING')
"""
MARK_RECOVERED_SQL = "UPDATE saga_workers SET recovered_at = now(), recovered_by = %(me)s WHERE executor_id = %(dead)s"


def hold_liveness(conn: psycopg.Connection, *, executor_id: str, wait_seconds: float) -> None:
    """Take this worker's liveness lock for the life of `conn`; waits while another worker recovers us."""
    assert conn.autocommit, "a session lock outside any transaction"
    conn.execute(f"SET lock_timeout = {int(wait_seconds * 1000)}")
    conn.execute("SELECT pg_advisory_lock(%s::int4, hashtext(%s))", (LOCK_CLASS, executor_id))
    conn.execute("SET lock_timeout = 0")


def renew(conn: psycopg.Connection, *, executor_id: str, lease_seconds: float) -> None:
    """Extend this worker's lease."""
    conn.execute(RENEW_SQL, {"me": executor_id, "lease": lease_seconds})


def claim_expired(conn: psycopg.Connection, *, executor_id: str, lease_seconds: float) -> list[str]:
    """The executors whose lease expired, now claimed by this worker for recovery."""
    return [row[0] for row in conn.execute(CLAIM_EXPIRED_SQL, {"me": executor_id, "lease": lease_seconds})]


def try_take_dead(conn: psycopg.Connection, *, executor_id: str) -> list[str]:
    """Executors with pending workflows whose liveness lock this worker just took: their process is gone.

    The caller recovers each, then gives its lock back with `give_back`.
    """
    taken = []
    for (other,) in conn.execute(CANDIDATES_SQL, {"me": executor_id}).fetchall():
        row = conn.execute("SELECT pg_try_advisory_lock(%s::int4, hashtext(%s))", (LOCK_CLASS, other)).fetchone()
        if row is not None and row[0]:
            conn.execute(MARK_RECOVERED_SQL, {"me": executor_id, "dead": other})
            taken.append(other)
    return taken


def give_back(conn: psycopg.Connection, *, executor_id: str) -> None:
    """Release a dead worker's liveness lock taken by `try_take_dead`, so it can start again."""
    conn.execute("SELECT pg_advisory_unlock(%s::int4, hashtext(%s))", (LOCK_CLASS, executor_id))


def release(conn: psycopg.Connection, *, executor_id: str) -> None:
    """A clean stop: the lease ends now, so the watchdog of another worker recovers at once."""
    conn.execute("UPDATE saga_workers SET lease_until = now() WHERE executor_id = %s", (executor_id,))
