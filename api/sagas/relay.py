"""The periodic jobs of a saga worker, besides its workflows: outbox, sweeper, statement, returns.

- Outbox: events written with the changes they announce (api/sagas/store.py) are published to the Redis
  stream `notifications` (at least once: each entry carries the outbox id for consumers to dedupe), then
  marked published. Rows are claimed with SKIP LOCKED, so several workers relay without overlap.
- Sweeper: an external transfer is enqueued by the API right after it commits; if that process died in
  between, the transfer is pending with no saga. The sweeper enqueues those (the workflow id makes it once).
- Statement: money received is announced by webhook, which may never come; the rails' statement of
  received payments is read from where the workers last stopped, and a saga is enqueued for each
  payment (its workflow id is the payment's, so one the webhook already started is not started again).
- Returns: a settled transfer can come back days later (R01...). The rails say so by webhook, which may
  never arrive, so settled transfers are also asked about, at most every saga_return_poll_seconds, for
  saga_return_window_seconds after settling: the bank's side of reading the rails' return files.
"""

from __future__ import annotations

import json

import psycopg
import redis
from dbos import DBOS, SetWorkflowID

from api.providers import crypto_client, rails_client
from api.providers.errors import ProviderError
from api.sagas.engine import QUEUE

STREAM = "notifications"
STREAM_MAX_LEN = 100_000
BATCH = 200
RETURNS_BATCH = 50  # provider calls per round: a round stays short even when the provider is slow


def relay_outbox(conn: psycopg.Connection, redis_client: redis.Redis) -> int:
    """Publish up to BATCH unpublished events; answer how many."""
    with conn.transaction():
        rows = conn.execute("SELECT id, topic, subject_id, customer_id, payload, created_at FROM outbox "
                            "WHERE published_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (BATCH,)
                            ).fetchall()
        if not rows:
            return 0
        pipe = redis_client.pipeline(transaction=False)
        for row in rows:
            pipe.xadd(STREAM, {"outbox_id": row[0], "topic": row[1], "subject_id": row[2],
                               "customer_id": str(row[3] or ""), "payload": json.dumps(row[4], default=str),
                               "created_at": row[5].isoformat()}, maxlen=STREAM_MAX_LEN, approximate=True)
        pipe.execute()
        conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", ([row[0] for row in rows],))
    return len(rows)


def sweep_pending_transfers(conn: psycopg.Connection, *, older_than_seconds: float) -> int:
    """Enqueue the saga of each pending external transfer that has none; answer how many."""
    rows = conn.execute(
        "SELECT t.id FROM transfers t WHERE t.status = 'pending' AND t.to_account_id IS NULL "
        "AND t.created_at < now() - make_interval(secs => %s) "
        "AND NOT EXISTS (SELECT 1 FROM sagas s WHERE s.id = 'transfer_out:' || t.id::text) "
        "ORDER BY t.created_at LIMIT %s", (older_than_seconds, BATCH)).fetchall()
    if not rows:
        return 0
    from api.sagas.flows import transfer_out

    queue = DBOS.retrieve_queue(QUEUE)
    assert queue is not None
    for (transfer_id,) in rows:
        with SetWorkflowID(f"transfer_out:{transfer_id}"):
            queue.enqueue(transfer_out, str(transfer_id))
    return len(rows)


def poll_returns(conn: psycopg.Connection, *, window_seconds: float, every_seconds: float) -> int:
    """Ask the providers about money that left and may still come back inside the window: settled rails
    transfers (returned) and confirmed crypto transfers (dropped). Start the saga that undoes each one
    that did. Answers how many did."""
    rows = conn.execute(
        "UPDATE sagas SET result = result || jsonb_build_object('return_checked_at', now()) "
        "WHERE id IN (SELECT id FROM sagas s WHERE kind IN ('transfer_out', 'crypto_purchase') "
        "  AND (status = 'completed' OR (status = 'compensated' AND result ? 'refund_id')) "
        "  AND NOT EXISTS (SELECT 1 FROM sagas u WHERE u.id IN ('transfer_return:' || s.subject_id, "
        "                  'crypto_dropped:' || s.id, 'crypto_refund_returned:' || s.id)) "
        "  AND updated_at > now() - make_interval(secs => %s) "
        "  AND (result ? 'payment_id' OR result ? 'crypto_id' OR result ? 'refund_id') "
        "  AND coalesce((result->>'return_checked_at')::timestamptz, '-infinity') < now() - make_interval(secs => %s) "
        "  ORDER BY (result->>'return_checked_at')::timestamptz NULLS FIRST, updated_at "  # least recently asked first
        "  LIMIT %s FOR UPDATE SKIP LOCKED) "
        "RETURNING id, kind, subject_id, status, coalesce(result->>'payment_id', result->>'refund_id', "
        "          result->>'crypto_id')",
        (window_seconds, every_seconds, RETURNS_BATCH)).fetchall()
    from api.sagas import flows

    queue = DBOS.retrieve_queue(QUEUE)
    assert queue is not None
    came_back = 0
    for saga_id, kind, subject_id, status, object_id in rows:
        try:
            if kind == "crypto_purchase" and status == "compensated":  # its refund to the other bank
                refund = rails_client().credit_transfer(object_id)
                if refund.status == "returned":
                    with SetWorkflowID(f"crypto_refund_returned:{saga_id}"):
                        queue.enqueue(flows.crypto_dropped, saga_id, refund.reason_code, "refund_returned")
                    came_back += 1
            elif kind == "transfer_out":
                payment = rails_client().credit_transfer(object_id)
                if payment.status == "returned":
                    with SetWorkflowID(f"transfer_return:{subject_id}"):
                        queue.enqueue(flows.transfer_return, str(subject_id), payment.reason_code)
                    came_back += 1
            else:
                crypto = crypto_client().transfer_status(object_id)
                if crypto.status == "dropped":
                    with SetWorkflowID(f"crypto_dropped:{saga_id}"):
                        queue.enqueue(flows.crypto_dropped, saga_id, crypto.reason_code, "dropped")
                    came_back += 1
        except ProviderError:
            continue  # asked again at the next round
    return came_back


def import_statement(conn: psycopg.Connection) -> int:
    """Enqueue the saga of every payment received since the stored position (one page); answer how many."""
    with conn.transaction():
        row = conn.execute("SELECT position FROM provider_cursors WHERE name = 'rails.incoming' "
                           "FOR UPDATE SKIP LOCKED").fetchone()
        if row is None:
            return 0  # another worker is reading it
        try:
            items, position = rails_client().incoming_since(int(row[0]))
        except (ProviderError, ValueError):
            return 0  # read again at the next round
        if not items:
            return 0
        from api.sagas import flows

        queue = DBOS.retrieve_queue(QUEUE)
        assert queue is not None
        for item in items:
            with SetWorkflowID(f"incoming_credit:{item['id']}"):
                queue.enqueue(flows.incoming_credit, item)
        conn.execute("UPDATE provider_cursors SET position = %s, updated_at = now() WHERE name = 'rails.incoming'",
                     (position,))
    return len(items)
